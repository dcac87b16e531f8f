/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VM snapshots (docs/vm.md, "Snapshot and restore"): a directory of four
 * files, written on a paused machine:
 *
 *   config.json  the VM's config (vm_config_to_json), to rebuild the machine
 *   state.json   per vCPU: regs, sregs, fpu, xsave, xcrs, debug regs, MSRs,
 *                LAPIC, events, mp_state; the irqchip (PIC master/slave,
 *                IOAPIC), PIT2, kvmclock; every device's save op output
 *   memory       guest RAM, regions back to back, zero pages left as holes
 *   header.json  magic, format version, isola version, memory size, vCPUs,
 *                devices, disks' identity, size + CRC-32 of the other files,
 *                and its own CRC-32
 *
 * Each file is written as NAME.tmp, fsynced and renamed; header.json last, so
 * a snapshot cut short (kill -9) has no header that matches its files.
 */
#ifndef ISOLA_VM_SNAPSHOT_H
#define ISOLA_VM_SNAPSHOT_H

#include "vm/machine.h"
#include "vm/vm_config.h"

#define SNAPSHOT_MAGIC   "isola-vm-snapshot"
#define SNAPSHOT_VERSION 1

/* Write m (paused, built from c) to dir (created if missing). */
int snapshot_save(struct vm_machine *m, const struct vm_config *c, const char *dir,
                  struct err **err);

/* Check dir's header, checksums and versions, that the disks are the same
 * files as when it was taken, and fill c (vm_config_init()ed) from its config;
 * want_memory (0: any) must be the snapshot's memory size. */
int snapshot_check(const char *dir, uint64_t want_memory, struct vm_config *c, struct err **err);

/* Load guest memory and the vCPU, irqchip, clock and device state of dir into
 * m, built (not yet running) from the config snapshot_check() gave. */
int snapshot_restore(struct vm_machine *m, const char *dir, struct err **err);

#endif
