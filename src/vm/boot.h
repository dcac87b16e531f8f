/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86 boot without a BIOS: load a kernel into guest RAM and start the boot vCPU
 * at its entry with the state the kernel expects.
 *  - bzImage: Linux boot protocol (Documentation/arch/x86/boot.rst), 64-bit entry
 *    at code32_start + 0x200 with an identity-mapped long mode, %rsi = boot_params;
 *  - ELF vmlinux (and the project's tiny test guests): PT_LOAD segments at their
 *    physical addresses, 64-bit entry at e_entry with boot_params likewise;
 *  - PVH (ELF note XEN_ELFNOTE_PHYS32_ENTRY): 32-bit flat protected mode, paging
 *    off, %ebx = hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h).
 */
#ifndef ISOLA_VM_BOOT_H
#define ISOLA_VM_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/machine.h"

enum boot_mode { BOOT_AUTO = 0, BOOT_LINUX64, BOOT_PVH };

struct boot_cfg {
    const char *kernel;  /* path: bzImage or ELF */
    const char *initrd;  /* path or NULL */
    const char *cmdline; /* or NULL */
    enum boot_mode mode; /* AUTO: 64-bit Linux entry (ELF with PVH note: still 64-bit) */
};

/* Guest-physical layout of the boot structures (as Firecracker's). */
#define BOOT_GDT_ADDR    0x500
#define BOOT_ZERO_PAGE   0x7000
#define BOOT_STACK       0x8ff0
#define BOOT_PML4        0x9000
#define BOOT_PDPT        0xa000
#define BOOT_PD          0xb000 /* four pages: 4 GiB of 2 MiB pages */
#define BOOT_CMDLINE     0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_PVH_INFO    0x6000
#define BOOT_ACPI_BASE   0xe0000 /* RSDP first, in the BIOS search area */
#define BOOT_HIMEM       0x100000
#define BOOT_EBDA        0x9fc00

struct boot_entry {
    enum boot_mode mode;
    uint64_t rip;
};

/* Load kernel, initrd, command line, e820 and boot_params / start_info into
 * guest memory; acpi_rsdp is where acpi.c put the RSDP. */
int boot_load(struct vm_machine *m, const struct boot_cfg *cfg, uint64_t acpi_rsdp,
              struct boot_entry *entry, struct err **err);

/* Check, before any VM exists, that path is a kernel isola can boot (bzImage
 * with a 64-bit entry, or x86-64 ELF) and that the initrd (if any) is readable. */
int boot_probe(const struct boot_cfg *cfg, struct err **err);

/* Per-vCPU state: CPUID (from KVM_GET_SUPPORTED_CPUID, with this vCPU's APIC id),
 * MSRs, LAPIC LINT0/LINT1; for vCPU 0 also the registers of the entry. */
int boot_setup_vcpu(struct vm_machine *m, unsigned int id, const struct boot_entry *entry,
                    struct err **err);

#endif
