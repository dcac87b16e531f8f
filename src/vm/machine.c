/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/machine.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "vm/control.h"
#include "vm/vcpu.h"

/* GSIs for devices: IOAPIC pins not taken by the PC platform (0 timer, 1 kbd,
 * 2 cascade, 4 COM1, 3 COM2, 8 RTC, 9 ACPI SCI, 12 mouse). */
#define HUGE_2M (2ULL << 20)

static const uint32_t device_gsis[] = {5, 6, 7, 10, 11, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

static int machine_map_ram(struct vm_machine *m, uint64_t gpa, uint64_t size, struct err **err)
{
    struct vm_mem_region *r;
    void *p;

    if (m->mem.nregions >= VM_MEM_MAX_REGIONS)
        return err_val(err, ENOSPC, "guest RAM: too many regions");
    /* 2 MiB-aligned, transparent huge pages: fewer (nested) paging faults. */
    uint8_t *raw = mmap(NULL, size + HUGE_2M, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return err_sys(err, "guest RAM: mmap %llu MiB", (unsigned long long)(size >> 20));
    p = (void *)(((uintptr_t)raw + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
    if ((uint8_t *)p > raw)
        munmap(raw, (size_t)((uint8_t *)p - raw));
    munmap((uint8_t *)p + size, (size_t)(raw + HUGE_2M - (uint8_t *)p));
    madvise(p, size, MADV_HUGEPAGE);
    /* A fork (the cleanup watcher, util/reaper.h) must not share guest RAM:
     * copy-on-write would make the monitor copy each page the guest writes. */
    madvise(p, size, MADV_DONTFORK);
    /* ...but not the first 2 MiB of RAM at 0: boot structures, the real-mode area
     * and a tiny guest's whole footprint, touched sparsely; a huge page there makes
     * a small VM's monitor 2 MiB larger (docs/vm.md, "Monitor memory"). */
    if (gpa == 0 && size > HUGE_2M)
        madvise(p, HUGE_2M, MADV_NOHUGEPAGE);
    r = &m->mem.regions[m->mem.nregions];
    r->gpa = gpa;
    r->size = size;
    r->hva = p;
    m->mem.nregions++;
    return kvm_add_ram(&m->kvm, m->mem.nregions - 1, gpa, size, p, err);
}

void machine_init(struct vm_machine *m)
{
    memset(m, 0, sizeof(*m));
    m->kvm.sys_fd = m->kvm.vm_fd = -1;
    m->end_efd = -1;
    reaper_init(&m->reaper);
    pthread_mutex_init(&m->end_lock, NULL);
    pthread_mutex_init(&m->pause_lock, NULL);
    pthread_cond_init(&m->pause_cond, NULL);
    m->ctl_fd = -1;
    m->next_virtio_mmio = VM_MMIO_VIRTIO;
    for (unsigned int i = 0; i < VM_MAX_CPUS; i++)
        m->vcpus[i].fd = -1;
}

int machine_create(struct vm_machine *m, unsigned int ncpus, uint64_t ram_size, struct err **err)
{
    if (ncpus == 0 || ncpus > VM_MAX_CPUS)
        return err_val(err, EINVAL, "vCPUs: %u is not in 1..%d", ncpus, VM_MAX_CPUS);
    if (ram_size < (2ULL << 20))
        return err_val(err, EINVAL, "memory: %llu bytes is less than 2 MiB",
                       (unsigned long long)ram_size);
    m->end_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->end_efd < 0)
        return err_sys(err, "eventfd");
    if (kvm_open(&m->kvm, m->kvm_dev, err) < 0 || kvm_create_irqchip(&m->kvm, err) < 0)
        return -1;
    m->ioeventfd = kvm_has_ioeventfd(&m->kvm) && !m->no_ioeventfd;
    m->ram_size = ram_size;
    if (ram_size <= VM_MMIO_HOLE) {
        if (machine_map_ram(m, 0, ram_size, err) < 0)
            return -1;
    } else if (machine_map_ram(m, 0, VM_MMIO_HOLE, err) < 0 ||
               machine_map_ram(m, 1ULL << 32, ram_size - VM_MMIO_HOLE, err) < 0) {
        return -1;
    }
    m->ncpus = ncpus;
    for (unsigned int i = 0; i < ncpus; i++)
        if (vcpu_create(m, i, err) < 0)
            return -1;
    return 0;
}

void machine_destroy(struct vm_machine *m)
{
    machine_unpark(m);
    for (unsigned int i = 0; i < m->ncpus; i++) {
        vcpu_kick(&m->vcpus[i]);
        vcpu_join(&m->vcpus[i]);
    }
    control_close(m);
    bus_destroy(&m->bus);
    for (unsigned int i = 0; i < VM_MAX_CPUS; i++)
        if (m->vcpus[i].m != NULL)
            vcpu_destroy(&m->vcpus[i]);
    for (unsigned int i = 0; i < m->mem.nregions; i++)
        munmap(m->mem.regions[i].hva, m->mem.regions[i].size);
    m->mem.nregions = 0;
    kvm_close(&m->kvm);
    cleanup_closep(&m->end_efd);
    /* The devices removed their files above: the watcher finds nothing. */
    reaper_stop(&m->reaper);
}

static int machine_set_irq(void *ctx, uint32_t gsi, int level)
{
    struct vm_machine *m = ctx;

    return kvm_irq_line(&m->kvm, gsi, level);
}

struct vm_irq machine_irq(struct vm_machine *m, uint32_t gsi)
{
    return (struct vm_irq){.set_level = machine_set_irq, .ctx = m, .gsi = gsi};
}

static int machine_set_ioevent(void *ctx, uint64_t addr, uint32_t len, uint64_t match, int fd,
                               bool on)
{
    struct vm_machine *m = ctx;

    return kvm_ioeventfd(&m->kvm, addr, len, match, fd, on);
}

struct vm_ioevent machine_ioevent(struct vm_machine *m, uint64_t base)
{
    if (!m->ioeventfd)
        return (struct vm_ioevent){.base = base};
    return (struct vm_ioevent){.set = machine_set_ioevent, .ctx = m, .base = base};
}

int machine_add_device(struct vm_machine *m, struct vm_dev *dev, bool want_irq, struct err **err)
{
    if (want_irq) {
        if (m->next_gsi_index >= ARRAY_SIZE(device_gsis))
            return err_val(err, ENOSPC, "device %s: no free interrupt line", dev->ops->name);
        dev->irq = machine_irq(m, device_gsis[m->next_gsi_index]);
    }
    if (bus_add(&m->bus, dev, err) < 0)
        return -1;
    if (want_irq)
        m->next_gsi_index++;
    if (dev->kind == VM_DEV_MMIO && dev->base + dev->size > m->next_virtio_mmio &&
        dev->base >= VM_MMIO_VIRTIO)
        m->next_virtio_mmio = dev->base + dev->size;
    return 0;
}

int machine_alloc_gsi(struct vm_machine *m, uint32_t *gsi, struct err **err)
{
    if (m->next_gsi_index >= ARRAY_SIZE(device_gsis))
        return err_val(err, ENOSPC, "no free interrupt line (at most %zu devices)",
                       ARRAY_SIZE(device_gsis));
    *gsi = device_gsis[m->next_gsi_index++];
    return 0;
}

uint64_t machine_next_mmio(struct vm_machine *m)
{
    return m->next_virtio_mmio;
}

void machine_end(struct vm_machine *m, enum vm_end end, int code, const char *fmt, ...)
{
    va_list ap;
    uint64_t one = 1;

    pthread_mutex_lock(&m->end_lock);
    if (m->end == VM_END_NONE) {
        m->end = end;
        m->end_code = code;
        va_start(ap, fmt);
        vsnprintf(m->end_msg, sizeof(m->end_msg), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&m->end_lock);
    atomic_store(&m->stopping, true);
    if (write(m->end_efd, &one, sizeof(one)) < 0) {
        /* The counter cannot overflow with one write per caller. */
    }
}

const char *machine_end_name(enum vm_end end)
{
    static const char *const names[] = {
        [VM_END_NONE] = "running",
        [VM_END_POWEROFF] = "power-off",
        [VM_END_REBOOT] = "reboot",
        [VM_END_TRIPLE_FAULT] = "triple fault",
        [VM_END_PANIC] = "guest panic",
        [VM_END_EXIT_CODE] = "guest exit code",
        [VM_END_INTERNAL] = "KVM internal error",
        [VM_END_SIGNAL] = "stopped by signal",
        [VM_END_ERROR] = "monitor error",
    };
    if ((unsigned int)end < ARRAY_SIZE(names))
        return names[end];
    return "?";
}

int machine_power_button(struct vm_machine *m, struct err **err)
{
    if (m->ged_gsi == 0)
        return err_val(err, ENODEV, "%s", "power button: the machine has no ACPI GED");
    if (kvm_irq_line(&m->kvm, m->ged_gsi, 1) < 0 || kvm_irq_line(&m->kvm, m->ged_gsi, 0) < 0)
        return err_sys(err, "power button: KVM_IRQ_LINE %u", m->ged_gsi);
    return 0;
}

int machine_run(struct vm_machine *m, int in_fd,
                void (*on_input)(void *ctx, const uint8_t *buf, size_t len), void *input_ctx,
                struct err **err)
{
    sigset_t block, old;
    _cleanup_close_ int sfd = -1;
    int ret = 0;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPWR);
    sigaddset(&block, SIGPIPE); /* a control client that went away */
    sigaddset(&block, VCPU_KICK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    sfd = signalfd(-1, &block, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        ret = err_sys(err, "signalfd");
        goto out;
    }
    for (unsigned int i = 0; i < m->ncpus; i++)
        if (vcpu_start(&m->vcpus[i], err) < 0) {
            ret = -1;
            machine_end(m, VM_END_ERROR, 0, "%s", "starting vCPUs failed");
            break;
        }
    while (!atomic_load(&m->stopping)) {
        /* a paused machine takes no console input: the UART stands still */
        struct pollfd p[4] = {
            {.fd = m->end_efd, .events = POLLIN},
            {.fd = sfd, .events = POLLIN},
            {.fd = m->ctl_fd, .events = POLLIN},
            {.fd = m->paused ? -1 : in_fd, .events = POLLIN},
        };
        int n = poll(p, in_fd >= 0 ? 4 : 3, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            machine_end(m, VM_END_ERROR, 0, "poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo == VCPU_KICK_SIGNAL ||
                si.ssi_signo == SIGPIPE) {
                /* nothing */
            } else if (si.ssi_signo == SIGPWR) {
                /* a shutdown request (isola vm stop): the guest decides */
                struct err *e = NULL;
                if (machine_power_button(m, &e) < 0)
                    err_free(&e);
            } else {
                machine_end(m, VM_END_SIGNAL, (int)si.ssi_signo, "stopped by signal %s",
                            strsignal((int)si.ssi_signo));
            }
        }
        if (p[2].revents & POLLIN)
            control_serve(m);
        if (in_fd >= 0 && (p[3].revents & (POLLIN | POLLHUP | POLLERR))) {
            uint8_t buf[256];
            ssize_t r = read(in_fd, buf, sizeof(buf));
            if (r > 0 && on_input != NULL)
                on_input(input_ctx, buf, (size_t)r);
            else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                in_fd = -1; /* end of input: the guest keeps running */
        }
    }
    machine_unpark(m);
    for (unsigned int i = 0; i < m->ncpus; i++)
        vcpu_kick(&m->vcpus[i]);
    for (unsigned int i = 0; i < m->ncpus; i++)
        vcpu_join(&m->vcpus[i]);
out:
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ret;
}
