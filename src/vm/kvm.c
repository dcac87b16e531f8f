/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/cleanup.h"

/* Guest-physical pages VMX needs for its real-mode TSS and identity map; they lie
 * in the reserved hole just below the IOAPIC/LAPIC (api.rst: KVM_SET_TSS_ADDR). */
#define KVM_TSS_ADDR      0xfffbd000ULL
#define KVM_IDENTITY_ADDR 0xfffbc000ULL

static int kvm_need_cap(int fd, int cap, const char *name, struct err **err)
{
    if (ioctl(fd, KVM_CHECK_EXTENSION, cap) <= 0)
        return err_val(err, ENOTSUP, "/dev/kvm lacks the capability %s", name);
    return 0;
}

int kvm_open(struct vm_kvm *k, const char *dev, struct err **err)
{
    _cleanup_close_ int sys = -1, vm = -1;
    int v;

    k->sys_fd = k->vm_fd = -1;
    if (dev == NULL || *dev == '\0')
        dev = "/dev/kvm";
    sys = open(dev, O_RDWR | O_CLOEXEC);
    if (sys < 0) {
        if (errno == ENOENT)
            return err_set(err, errno, "open `%s` (no KVM on this host)", dev);
        return err_sys(err, "open `%s`", dev);
    }
    v = ioctl(sys, KVM_GET_API_VERSION, 0);
    if (v != KVM_API_VERSION)
        return err_val(err, ENOTSUP, "`%s`: KVM API version %d, expected %d", dev, v,
                       KVM_API_VERSION);
    if (kvm_need_cap(sys, KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", err) < 0 ||
        kvm_need_cap(sys, KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", err) < 0 ||
        kvm_need_cap(sys, KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", err) < 0 ||
        kvm_need_cap(sys, KVM_CAP_PIT2, "KVM_CAP_PIT2", err) < 0)
        return -1;
    k->run_size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (k->run_size <= 0)
        return err_sys(err, "`%s`: KVM_GET_VCPU_MMAP_SIZE", dev);
    do
        vm = ioctl(sys, KVM_CREATE_VM, 0);
    while (vm < 0 && errno == EINTR);
    if (vm < 0)
        return err_sys(err, "`%s`: KVM_CREATE_VM", dev);
    k->sys_fd = steal_fd(&sys);
    k->vm_fd = steal_fd(&vm);
    return 0;
}

void kvm_close(struct vm_kvm *k)
{
    cleanup_closep(&k->vm_fd);
    cleanup_closep(&k->sys_fd);
}

int kvm_add_ram(struct vm_kvm *k, uint32_t slot, uint64_t gpa, uint64_t size, void *hva,
                struct err **err)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)hva,
    };

    if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        return err_sys(err, "KVM_SET_USER_MEMORY_REGION slot %u (0x%llx+0x%llx)", slot,
                       (unsigned long long)gpa, (unsigned long long)size);
    return 0;
}

int kvm_create_irqchip(struct vm_kvm *k, struct err **err)
{
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    uint64_t ident = KVM_IDENTITY_ADDR;

    /* Both calls fail harmlessly on AMD hosts, which do not need them. */
    if (ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0 && errno != EINVAL &&
        errno != ENOTTY)
        return err_sys(err, "KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 && errno != EINVAL &&
        errno != ENOTTY)
        return err_sys(err, "KVM_SET_TSS_ADDR");
    if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
        return err_sys(err, "KVM_CREATE_IRQCHIP");
    if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
        return err_sys(err, "KVM_CREATE_PIT2");
    return 0;
}

int kvm_irq_line(struct vm_kvm *k, uint32_t gsi, int level)
{
    struct kvm_irq_level l = {.irq = gsi, .level = level ? 1 : 0};

    return ioctl(k->vm_fd, KVM_IRQ_LINE, &l);
}

bool kvm_has_ioeventfd(struct vm_kvm *k)
{
    return ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
}

int kvm_ioeventfd(struct vm_kvm *k, uint64_t addr, uint32_t len, uint64_t match, int fd,
                  bool assign)
{
    struct kvm_ioeventfd e = {
        .datamatch = match,
        .addr = addr,
        .len = len,
        .fd = fd,
        .flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };

    return ioctl(k->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -1 : 0;
}

int kvm_supported_cpuid(struct vm_kvm *k, struct kvm_cpuid2 **out, struct err **err)
{
    for (unsigned int n = 64; n <= 4096; n *= 2) {
        _cleanup_free_ struct kvm_cpuid2 *c =
            calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
        if (c == NULL)
            return err_set(err, ENOMEM, "KVM_GET_SUPPORTED_CPUID");
        c->nent = n;
        if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            *out = steal_ptr(&c);
            return 0;
        }
        if (errno != E2BIG)
            return err_sys(err, "KVM_GET_SUPPORTED_CPUID");
    }
    return err_set(err, E2BIG, "KVM_GET_SUPPORTED_CPUID");
}

bool kvm_host_is_pvm(void)
{
    return access("/sys/module/kvm_pvm", F_OK) == 0;
}
