/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueues, device side (virtio 1.2 §2.7). Everything in the rings is
 * written by the guest and is treated as hostile: ring sizes, indices,
 * descriptor addresses and lengths, chain length and order are all checked,
 * and every buffer is resolved through vm_mem_ptr() so that a chain can only
 * ever name guest RAM. A violation is reported as a guest error; the transport
 * then marks the device DEVICE_NEEDS_RESET (§2.1.2) and stops using the queue.
 *
 * The guest is assumed little-endian like the host (x86-64 only).
 */
#ifndef ISOLA_VM_VIRTIO_VIRTQUEUE_H
#define ISOLA_VM_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vm/mem.h"

/* Largest queue a device of ours offers (QueueNumMax). */
#define VIRTQUEUE_MAX_SIZE 256
/* Most buffers one chain may have, direct and indirect together: bounds the
 * walk (a looping chain ends here) and the size of struct virtqueue_chain. */
#define VIRTQUEUE_MAX_SEGS 512
/* Most bytes one chain may describe (the used ring's len is 32-bit). */
#define VIRTQUEUE_MAX_BYTES (1u << 30)

/* Feature bits the virtqueue layer implements (§6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

struct virtqueue {
    /* Set by the driver through the transport. */
    uint16_t size; /* QueueNum: power of 2, <= max_size */
    uint16_t max_size;
    bool ready;
    uint64_t desc_gpa, avail_gpa, used_gpa;

    /* Device state. */
    uint16_t last_avail;  /* next avail ring entry to take */
    uint16_t used_idx;    /* our copy of used->idx */
    uint16_t signal_used; /* used_idx when the driver was last notified */
    bool signal_valid;
    bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
    bool indirect;  /* VIRTIO_F_INDIRECT_DESC negotiated */
    bool broken;    /* a guest error was seen: never touch the rings again */

    /* Host views of the rings, set by virtqueue_start(). */
    const struct vm_mem *mem;
    void *desc, *avail, *used;
};

/* A descriptor chain taken from the available ring: the device-readable
 * buffers first (out, iov[0..nout)) then the device-writable ones (in,
 * iov[nout..nout+nin)), every one of them inside guest RAM. */
struct virtqueue_chain {
    uint16_t head;
    unsigned int nout, nin;
    uint32_t out_len, in_len; /* total bytes of each kind */
    struct iovec iov[VIRTQUEUE_MAX_SEGS];
};

/* Initialise q (not ready, no rings) with the given QueueNumMax. */
void virtqueue_init(struct virtqueue *q, uint16_t max_size);

/* Back to the state after init (device reset, §2.4); keeps max_size. */
void virtqueue_reset(struct virtqueue *q);

/* The driver set QueueReady: check size and ring placement (alignment, wholly
 * in RAM, §2.7) and map the rings. Returns 0, or -1 with *why set to a static
 * description of the guest's mistake. */
int virtqueue_start(struct virtqueue *q, const struct vm_mem *mem, bool event_idx, bool indirect,
                    const char **why);

/* Take the next available chain. Returns 1 with *c filled, 0 if the ring is
 * empty, -1 on a guest error (*why set; q is marked broken). */
int virtqueue_pop(struct virtqueue *q, struct virtqueue_chain *c, const char **why);

/* Give back the last n chains taken by virtqueue_pop() and not pushed: they
 * will be popped again (a device that needs several chains for one thing and
 * did not get them all). */
void virtqueue_unpop(struct virtqueue *q, uint16_t n);

/* Return a chain to the guest with `written` bytes written into its device-
 * writable buffers (§2.7.8). The used ring element is published before the
 * index (release ordering). */
void virtqueue_push(struct virtqueue *q, uint16_t head, uint32_t written);

/* Whether the driver wants an interrupt for what was pushed since the last
 * call that returned true (VRING_AVAIL_F_NO_INTERRUPT or used_event, §2.7.10). */
bool virtqueue_should_notify(struct virtqueue *q);

/* Whether chains are waiting; with EVENT_IDX this also publishes avail_event
 * so that the driver notifies us on the next one (§2.7.10), re-checking after
 * the barrier so no notification can be lost. */
bool virtqueue_has_avail(struct virtqueue *q);

/* Copy between a chain and a flat buffer, starting `off` bytes into its
 * readable (out) or writable (in) part. Return the number of bytes copied
 * (short if the chain part is shorter). */
uint32_t virtqueue_chain_read(const struct virtqueue_chain *c, uint32_t off, void *dst,
                              uint32_t len);
uint32_t virtqueue_chain_write(const struct virtqueue_chain *c, uint32_t off, const void *src,
                               uint32_t len);

/* Fill iov (at most max entries) with the bytes [off, off+len) of the chain's
 * out (write == false) or in part. Returns the number of entries used. */
unsigned int virtqueue_chain_slice(const struct virtqueue_chain *c, bool in, uint32_t off,
                                   uint32_t len, struct iovec *iov, unsigned int max);

#endif
