/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2), and the table of
 * operations that a virtio device (blk, net, vsock, rng) puts behind it.
 *
 * A device is created by its own constructor (virtio_blk_create() ...), which
 * calls virtio_mmio_create() and thereby fills a struct vm_dev that the machine
 * installs on its bus: kind VM_DEV_MMIO, size VIRTIO_MMIO_WINDOW,
 * acpi_virtio_mmio set, irq as given. The machine only sets dev->base and
 * routes accesses to dev->ops; dev->ops->destroy(dev->state) frees everything.
 *
 * Queue notifications (QueueNotify writes) reach the device one of two ways:
 * as an MMIO exit on the vCPU thread (always possible), or, once the machine
 * gave the transport an ioevent registrar (virtio_mmio_set_ioevent), through
 * an eventfd the hypervisor signals in the kernel (KVM_IOEVENTFD), read by the
 * transport's own notify thread. Both run queue_notify under the lock with the
 * same checks. One thread per device, not one per machine: a virtio-blk
 * request blocked on the disk then delays neither net nor vsock, and the
 * thread lives and dies with its transport (no shared poll set to edit).
 *
 * Locking: the transport has one mutex per device. MMIO accesses take it, and
 * so are the device callbacks below called with it held; a device's own
 * threads (net rx, vsock) take it with virtio_mmio_lock() before touching
 * queues or calling virtio_mmio_notify().
 */
#ifndef ISOLA_VM_VIRTIO_MMIO_H
#define ISOLA_VM_VIRTIO_MMIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "vm/device.h"
#include "vm/mem.h"
#include "vm/virtio/virtqueue.h"

/* Size of a device's register window (registers 0x000-0x0ff, config from 0x100). */
#define VIRTIO_MMIO_WINDOW     0x200
#define VIRTIO_MMIO_CONFIG     0x100
#define VIRTIO_MMIO_MAX_QUEUES 4
#define VIRTIO_MMIO_VENDOR_ID  0x4c4f5349 /* "ISOL" */

struct virtio_mmio;

struct virtio_dev_ops {
    const char *name;   /* "virtio-blk" ... */
    uint32_t device_id; /* §5: 1 net, 2 blk, 4 rng, 19 vsock */
    unsigned int nqueues;
    uint16_t queue_max; /* QueueNumMax of every queue */
    uint64_t features;  /* offered; VIRTIO_F_VERSION_1 is added by the transport */
    /* Device-specific config space (§4.2.2 Config, offset from 0x100). Reads
     * fill data; bytes past the config space read as 0. Optional. */
    void (*config_read)(void *dev, uint32_t off, uint8_t *data, uint32_t len);
    void (*config_write)(void *dev, uint32_t off, const uint8_t *data, uint32_t len);
    /* The driver set DRIVER_OK with these negotiated features. Optional. */
    void (*activate)(void *dev, uint64_t features);
    /* The driver wrote QueueNotify for queue q (already checked < nqueues
     * and ready). */
    void (*queue_notify)(void *dev, unsigned int q);
    /* Device reset (§2.4): drop in-flight state; the transport resets queues. */
    void (*reset)(void *dev);
    /* Device-specific snapshot state. Optional. */
    json_t *(*save)(void *dev);
    int (*restore)(void *dev, json_t *state, struct err **err);
    /* Stop threads and free dev (called without the lock held). */
    void (*destroy)(void *dev);
};

/* Wrap a device in a transport and fill *out for the machine's bus. On
 * failure the device is destroyed (ops->destroy(dev)). */
int virtio_mmio_create(const struct virtio_dev_ops *ops, void *dev, const struct vm_mem *mem,
                       struct vm_irq irq, struct vm_dev *out, struct err **err);

/* The transport's vm_dev_ops (read/write/save/restore/destroy). */
extern const struct vm_dev_ops virtio_mmio_dev_ops;

/* For device code. */
void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);
struct virtqueue *virtio_mmio_queue(struct virtio_mmio *t, unsigned int q);
/* DRIVER_OK set and no reset needed: queues may be used. */
bool virtio_mmio_active(struct virtio_mmio *t);
uint64_t virtio_mmio_features(struct virtio_mmio *t);
/* After pushing to queue q: interrupt the guest if it asked for it. */
void virtio_mmio_notify(struct virtio_mmio *t, unsigned int q);
/* A guest error: set DEVICE_NEEDS_RESET (§2.1.2), log why, stop processing. */
void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why);

/* Copy len bytes at off of a device config structure of cfg_len bytes into
 * data; bytes past its end read as 0. For config_read callbacks. */
void virtio_mmio_config_copy(const void *cfg, size_t cfg_len, uint32_t off, uint8_t *data,
                             uint32_t len);

/* Let the hypervisor complete this device's QueueNotify writes: create one
 * eventfd per queue and the notify thread. A queue's eventfd is registered
 * while the queue is ready and the device active (DRIVER_OK, no reset needed),
 * and removed on reset, QueueReady=0 and destroy. If registering fails, the
 * device falls back to MMIO exits. Nothing to do when ev.set is NULL. */
int virtio_mmio_set_ioevent(struct vm_dev *dev, struct vm_ioevent ev, struct err **err);

/* Wake-ups of the notify thread served so far (for tests). */
uint64_t virtio_mmio_ioevent_count(struct virtio_mmio *t);

#endif
