/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seam between the machine (vm-core: KVM, vCPUs, buses, interrupts, ACPI)
 * and its devices (serial, virtio-mmio and what sits behind it).
 *
 * A device is a table of operations on an opaque state. The machine routes
 * MMIO/PIO exits in a device's window to it (offsets are relative to the
 * window's base), gives it an interrupt line, and describes it to the guest
 * (virtio-mmio devices appear in the ACPI DSDT as "LNRO0005", the way
 * Firecracker and QEMU's microvm describe them, since Debian's kernel lacks
 * VIRTIO_MMIO_CMDLINE_DEVICES). save/restore exist from day one for snapshots.
 */
#ifndef ISOLA_VM_DEVICE_H
#define ISOLA_VM_DEVICE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "vm/mem.h"

/* An interrupt line into the guest. Level semantics: the device holds the line
 * at 1 while it has an unacknowledged interrupt and sets 0 when it is acked. */
/* Stack of a device's own thread (vsock, net receive): 1 MiB as for vCPUs
 * (vcpu.c), not glibc's 8 MiB whose first touch maps a 2 MiB huge page under
 * THP "always" -- in the monitor, and shared with the cleanup watcher's fork. */
#define VM_DEV_THREAD_STACK (1U << 20)

/* Start a device's own thread: VM_DEV_THREAD_STACK bytes of stack and every
 * signal blocked, since stop requests (SIGTERM, SIGINT, SIGHUP, read through a
 * signalfd by the main loop) and vCPU kicks are not a device's business; a
 * thread with them unblocked would take a process-directed SIGTERM and end the
 * monitor without its orderly teardown. Returns 0 or an errno value, as
 * pthread_create does. */
int vm_dev_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

struct vm_irq {
    int (*set_level)(void *ctx, uint32_t gsi, int level);
    void *ctx;
    uint32_t gsi;
};

static inline void vm_irq_set(const struct vm_irq *irq, int level)
{
    if (irq != NULL && irq->set_level != NULL)
        irq->set_level(irq->ctx, irq->gsi, level);
}

/* A doorbell the hypervisor completes in the kernel (KVM_IOEVENTFD,
 * Documentation/virt/kvm/api.rst 4.59): while registered (on), a guest write of
 * len bytes equal to match at guest-physical addr signals eventfd fd instead of
 * exiting to the monitor. set returns negative with errno set when it cannot;
 * the device then keeps serving that write as an MMIO exit. A machine whose
 * hypervisor lacks the feature hands out set == NULL. */
struct vm_ioevent {
    int (*set)(void *ctx, uint64_t addr, uint32_t len, uint64_t match, int fd, bool on);
    void *ctx;
    uint64_t base; /* guest-physical base of the device's window */
};

enum vm_dev_kind { VM_DEV_MMIO, VM_DEV_PIO };

struct vm_dev_ops {
    const char *name; /* "virtio-blk", "serial" ... */
    /* Accesses of len 1, 2, 4 or 8 bytes at offset off in the window. Reads fill
     * data (little-endian); writes receive it. They must never trust the guest. */
    void (*read)(void *dev, uint64_t off, uint8_t *data, uint32_t len);
    void (*write)(void *dev, uint64_t off, const uint8_t *data, uint32_t len);
    /* Optional: snapshot state as JSON / restore it. */
    json_t *(*save)(void *dev);
    int (*restore)(void *dev, json_t *state, struct err **err);
    /* Optional: quiesce (pause true) or let run again. Once pause(dev, true)
     * returns, the device's threads do no queue work and raise no interrupt
     * until pause(dev, false): a paused VM's memory and device state stand
     * still (machine_pause, and the snapshot that follows it). */
    void (*pause)(void *dev, bool pause);
    /* Optional: stop worker threads, flush, release resources. */
    void (*destroy)(void *dev);
};

/* A device as installed on the machine's bus. */
struct vm_dev {
    const struct vm_dev_ops *ops;
    void *state;
    enum vm_dev_kind kind;
    uint64_t base, size; /* guest-physical (MMIO) or port (PIO) window */
    struct vm_irq irq;
    bool acpi_virtio_mmio; /* describe in the DSDT as a virtio-mmio device */
};

#endif
