/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVM objects: the /dev/kvm system fd and one VM fd, its memory slots and its
 * in-kernel interrupt controllers (Documentation/virt/kvm/api.rst).
 */
#ifndef ISOLA_VM_KVM_H
#define ISOLA_VM_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

struct kvm_cpuid2;

struct vm_kvm {
    int sys_fd;   /* /dev/kvm */
    int vm_fd;    /* KVM_CREATE_VM */
    int run_size; /* KVM_GET_VCPU_MMAP_SIZE */
};

/* Open dev (NULL: /dev/kvm), check the API version and the capabilities the
 * monitor needs, create the VM. */
int kvm_open(struct vm_kvm *k, const char *dev, struct err **err);
void kvm_close(struct vm_kvm *k);

/* Map host memory hva as guest RAM [gpa, gpa + size) in memory slot `slot`. */
int kvm_add_ram(struct vm_kvm *k, uint32_t slot, uint64_t gpa, uint64_t size, void *hva,
                struct err **err);

/* In-kernel PIC + IOAPIC + LAPICs and the PIT (KVM_CREATE_IRQCHIP,
 * KVM_CREATE_PIT2), plus the TSS/identity-map pages VMX needs. */
int kvm_create_irqchip(struct vm_kvm *k, struct err **err);

/* Drive an interrupt line (GSI) of the in-kernel irqchip. */
int kvm_irq_line(struct vm_kvm *k, uint32_t gsi, int level);

/* Whether the VM can complete guest writes in the kernel (KVM_CAP_IOEVENTFD). */
bool kvm_has_ioeventfd(struct vm_kvm *k);

/* Register (assign) or remove a 4-byte MMIO write of value match at addr that
 * signals eventfd fd (KVM_IOEVENTFD with KVM_IOEVENTFD_FLAG_DATAMATCH). Returns
 * -1 with errno set on failure. */
int kvm_ioeventfd(struct vm_kvm *k, uint64_t addr, uint32_t len, uint64_t match, int fd,
                  bool assign);

/* KVM_GET_SUPPORTED_CPUID; free() the result. */
int kvm_supported_cpuid(struct vm_kvm *k, struct kvm_cpuid2 **out, struct err **err);

/* Whether this host's KVM is kvm-pvm (it emulates guest ring-0 code and fails
 * on instructions a stock kernel uses: int3, cmpxchg16b, xsave). */
bool kvm_host_is_pvm(void);

#endif
