/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ACPI tables for a hardware-reduced machine (ACPI 6.x): RSDP, XSDT, FADT, MADT
 * and a DSDT that describes COM1, the pvpanic port, the S5 sleep state and every
 * virtio-mmio device as "LNRO0005" with Memory32Fixed and Interrupt resources
 * (as QEMU's microvm and Firecracker do; Debian's kernel lacks
 * VIRTIO_MMIO_CMDLINE_DEVICES, so this is how it finds them).
 */
#ifndef ISOLA_VM_ACPI_H
#define ISOLA_VM_ACPI_H

#include "vm/machine.h"

/* Write the tables at BOOT_ACPI_BASE; *rsdp gets the RSDP's address. */
int acpi_build(struct vm_machine *m, uint64_t *rsdp, struct err **err);

/* The DSDT's AML for m (exposed for the unit test); caller frees. */
int acpi_dsdt(const struct vm_machine *m, uint8_t **aml, size_t *len, struct err **err);

#endif
