/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Assemble a microVM from a vm_config (Firecracker's builder): KVM machine,
 * COM1, platform ports, virtio-mmio devices, ACPI tables, kernel and vCPU state.
 */
#ifndef ISOLA_VM_BUILDER_H
#define ISOLA_VM_BUILDER_H

#include "vm/vm_config.h"
#include "vm/machine.h"
#include "vm/serial.h"

/* Exit statuses of `isola vm run` (docs/vm.md). */
#define VM_STATUS_POWEROFF 0
#define VM_STATUS_ERROR    1
#define VM_STATUS_REBOOT   80
#define VM_STATUS_TRIPLE   81
#define VM_STATUS_PANIC    82
#define VM_STATUS_INTERNAL 83

/* Build the VM; console output goes to console_fd (-1: dropped). On failure m
 * must still be released with machine_destroy(). */
int builder_build(const struct vm_config *c, int console_fd, struct vm_machine *m,
                  struct serial **serial, struct err **err);

/* The exit status that tells how m's run ended. */
int builder_exit_status(const struct vm_machine *m);

#endif
