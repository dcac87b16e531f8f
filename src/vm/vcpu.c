/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

#define VCPU_STACK_SIZE (1U << 20)

int vcpu_create(struct vm_machine *m, unsigned int id, struct err **err)
{
    struct vm_vcpu *v = &m->vcpus[id];
    _cleanup_close_ int fd = -1;
    void *run;

    v->m = m;
    v->id = id;
    v->fd = -1;
    fd = ioctl(m->kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
    if (fd < 0)
        return err_sys(err, "KVM_CREATE_VCPU %u", id);
    run = mmap(NULL, m->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (run == MAP_FAILED)
        return err_sys(err, "vCPU %u: mmap kvm_run", id);
    /* Not inherited by a fork (the cleanup watcher, util/reaper.h): the
     * mapping would keep the vCPU, hence the VM, alive in the child. */
    madvise(run, m->kvm.run_size, MADV_DONTFORK);
    v->run = run;
    v->fd = steal_fd(&fd);
    return 0;
}

void vcpu_destroy(struct vm_vcpu *v)
{
    if (v->run != NULL)
        munmap(v->run, v->m->kvm.run_size);
    v->run = NULL;
    cleanup_closep(&v->fd);
}

static void vcpu_internal_error(struct vm_vcpu *v)
{
    struct kvm_run *r = v->run;
    const char *why = "";

    switch (r->internal.suberror) {
    case KVM_INTERNAL_ERROR_EMULATION:
        why = " (instruction emulation failed)";
        break;
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        why = " (exception while delivering an exception)";
        break;
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        why = " (event delivery failed)";
        break;
    default:
        break;
    }
    if (kvm_host_is_pvm())
        machine_end(v->m, VM_END_INTERNAL, 0,
                    "vCPU %u: KVM internal error, suberror %u%s. This host's /dev/kvm is "
                    "kvm-pvm, which emulates the guest kernel's ring-0 code and cannot run "
                    "instructions a stock kernel uses (int3, cmpxchg16b, xsave): boot the guest "
                    "on a host with hardware virtualization (see docs/vm.md)",
                    v->id, r->internal.suberror, why);
    else
        machine_end(v->m, VM_END_INTERNAL, 0, "vCPU %u: KVM internal error, suberror %u%s", v->id,
                    r->internal.suberror, why);
}

/* Handle one exit; false ends this vCPU's loop. */
static bool vcpu_exit(struct vm_vcpu *v)
{
    struct vm_machine *m = v->m;
    struct kvm_run *r = v->run;

    switch (r->exit_reason) {
    case KVM_EXIT_IO: {
        uint8_t *data = (uint8_t *)r + r->io.data_offset;
        /* A string instruction (rep outsb) brings count items of size bytes. */
        for (uint32_t i = 0; i < r->io.count; i++)
            bus_access(&m->bus, VM_DEV_PIO, r->io.port, data + (size_t)i * r->io.size, r->io.size,
                       r->io.direction == KVM_EXIT_IO_OUT);
        return true;
    }
    case KVM_EXIT_MMIO:
        if (r->mmio.len > 8)
            return true;
        bus_access(&m->bus, VM_DEV_MMIO, r->mmio.phys_addr, r->mmio.data, r->mmio.len,
                   r->mmio.is_write);
        return true;
    case KVM_EXIT_INTR:
    case KVM_EXIT_HLT: /* only without an in-kernel LAPIC */
        return true;
    case KVM_EXIT_SHUTDOWN:
        machine_end(m, VM_END_TRIPLE_FAULT, 0, "vCPU %u: triple fault", v->id);
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        switch (r->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            machine_end(m, VM_END_POWEROFF, 0, "%s", "");
            break;
        case KVM_SYSTEM_EVENT_RESET:
            machine_end(m, VM_END_REBOOT, 0, "%s", "");
            break;
        case KVM_SYSTEM_EVENT_CRASH:
            machine_end(m, VM_END_PANIC, 0, "vCPU %u: guest crashed", v->id);
            break;
        default:
            machine_end(m, VM_END_INTERNAL, 0, "vCPU %u: KVM system event %u", v->id,
                        r->system_event.type);
        }
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        vcpu_internal_error(v);
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        machine_end(m, VM_END_INTERNAL, 0, "vCPU %u: VM entry failed, reason 0x%llx", v->id,
                    (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
        return false;
    default:
        machine_end(m, VM_END_INTERNAL, 0, "vCPU %u: unhandled KVM exit %u", v->id, r->exit_reason);
        return false;
    }
}

static void *vcpu_thread(void *arg)
{
    struct vm_vcpu *v = arg;
    struct vm_machine *m = v->m;
    char name[16];

    snprintf(name, sizeof(name), "vcpu%u", v->id);
    pthread_setname_np(pthread_self(), name);
    while (!atomic_load(&m->stopping)) {
        if (ioctl(v->fd, KVM_RUN, 0) < 0) {
            /* kicked: an I/O exit before was completed by this KVM_RUN
             * (api.rst 5, "kvm_run"), so a pause parks a consistent vCPU */
            int e = errno;
            if (e == EINTR) {
                /* The kick is still pending once KVM_RUN restored the
                 * thread's mask (it stays blocked outside KVM_RUN): take it,
                 * or every later KVM_RUN would return EINTR at once. */
                sigset_t kick;
                struct timespec zero = {0};
                sigemptyset(&kick);
                sigaddset(&kick, VCPU_KICK_SIGNAL);
                while (sigtimedwait(&kick, NULL, &zero) == VCPU_KICK_SIGNAL)
                    ;
                if (atomic_load(&m->pause_req))
                    machine_vcpu_park(m);
            }
            if (e == EINTR || e == EAGAIN)
                continue;
            machine_end(m, VM_END_ERROR, 0, "vCPU %u: KVM_RUN: %s", v->id, strerror(e));
            break;
        }
        v->exits++;
        v->mmio_exits += v->run->exit_reason == KVM_EXIT_MMIO;
        v->pio_exits += v->run->exit_reason == KVM_EXIT_IO;
        if (!vcpu_exit(v))
            break;
    }
    return NULL;
}

static void vcpu_kick_handler(int sig)
{
    (void)sig;
}

int vcpu_start(struct vm_vcpu *v, struct err **err)
{
    /* kvm_signal_mask ends in a flexible array: a union leaves room for the
     * 8-byte kernel sigset behind it (clang rejects a member after it) */
    union {
        struct kvm_signal_mask hdr;
        uint8_t buf[sizeof(struct kvm_signal_mask) + 8];
    } kmask;
    sigset_t set;
    struct sigaction sa = {.sa_handler = vcpu_kick_handler};
    int r;

    /* The kick signal stays blocked in the thread except inside KVM_RUN (the
     * vCPU's own mask), so a kick sent before KVM_RUN is not lost: it makes
     * the next KVM_RUN return EINTR at once. */
    sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &set);
    sigdelset(&set, VCPU_KICK_SIGNAL);
    kmask.hdr.len = 8;
    memcpy(kmask.hdr.sigset, &set, 8);
    if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, &kmask) < 0)
        return err_sys(err, "vCPU %u: KVM_SET_SIGNAL_MASK", v->id);
    /* A 1 MiB stack, not glibc's 8 MiB: with transparent huge pages "always",
     * the first touch of an 8 MiB stack maps a whole 2 MiB page, as much as a tiny
     * guest's monitor needs altogether (docs/vm.md, "Monitor memory"). The run loop
     * and the device handlers it calls keep small frames. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
    r = pthread_create(&v->thread, &attr, vcpu_thread, v);
    pthread_attr_destroy(&attr);
    if (r != 0)
        return err_set(err, r, "vCPU %u: create thread", v->id);
    v->started = true;
    return 0;
}

void vcpu_kick(struct vm_vcpu *v)
{
    if (v->started)
        pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vm_vcpu *v)
{
    if (v->started)
        pthread_join(v->thread, NULL);
    v->started = false;
}
