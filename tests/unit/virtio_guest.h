/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake guest for virtio device tests: a buffer mapped as guest RAM, a
 * driver that talks to a device's virtio-mmio registers through its vm_dev
 * ops (as a vCPU's MMIO exits would), builds split rings in that RAM (§2.7)
 * and reads the used ring back. Header-only, for tests/unit/test_virtio_*.c.
 */
#ifndef ISOLA_TESTS_VIRTIO_GUEST_H
#define ISOLA_TESTS_VIRTIO_GUEST_H

#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm/device.h"
#include "vm/mem.h"
#include "vm/virtio/mmio.h"

#define FG_RAM_BASE  0x100000ull /* guest RAM starts at 1 MiB, like real machines' */
#define FG_RAM_SIZE  (4ull << 20)
#define FG_RING_AREA (FG_RAM_BASE + 0x10000) /* queue i rings: + i * 0x10000 */
#define FG_DATA_AREA (FG_RAM_BASE + 0x100000)

struct fg_queue {
    uint16_t size;
    uint64_t desc, avail, used;
    uint16_t avail_idx; /* next avail slot */
    uint16_t used_seen; /* used entries consumed */
    uint16_t next_desc; /* next free descriptor (round robin) */
};

struct fg {
    uint8_t *ram;
    struct vm_mem mem;
    struct vm_dev dev;
    int irq_level, irq_raises;
    uint64_t data_next; /* bump allocator in the data area */
    uint64_t data_base; /* where it wraps to (tests raise it to keep buffers) */
    struct fg_queue q[VIRTIO_MMIO_MAX_QUEUES];
    /* A fake KVM_IOEVENTFD (fg_use_ioevent): what is registered, and calls
     * that KVM would have refused. ioev_fail: refuse every call (no KVM support). */
    int ioev_fd[VIRTIO_MMIO_MAX_QUEUES];
    bool ioev_on[VIRTIO_MMIO_MAX_QUEUES];
    int ioev_calls, ioev_bad;
    bool ioev_fail;
};

struct fg_seg {
    uint64_t gpa;
    uint32_t len;
    int writable;
};

static inline int fg_set_irq(void *ctx, uint32_t gsi, int level)
{
    struct fg *g = ctx;

    (void)gsi;
    if (level && !g->irq_level)
        g->irq_raises++;
    g->irq_level = level;
    return 0;
}

static inline int fg_init(struct fg *g)
{
    memset(g, 0, sizeof(*g));
    g->ram = mmap(NULL, FG_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->ram == MAP_FAILED)
        return -1;
    g->mem.nregions = 1;
    g->mem.regions[0].gpa = FG_RAM_BASE;
    g->mem.regions[0].size = FG_RAM_SIZE;
    g->mem.regions[0].hva = g->ram;
    g->data_next = g->data_base = FG_DATA_AREA;
    for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
        g->ioev_fd[i] = -1;
    return 0;
}

#define FG_MMIO_BASE 0xd0000000ull

/* KVM_IOEVENTFD's rules: the same registration twice is EEXIST, removing one
 * that does not exist ENOENT. */
static inline int fg_set_ioevent(void *ctx, uint64_t addr, uint32_t len, uint64_t match, int fd,
                                 bool on)
{
    struct fg *g = ctx;

    g->ioev_calls++;
    if (g->ioev_fail) {
        errno = ENOSYS;
        return -1;
    }
    if (addr != FG_MMIO_BASE + 0x50 || len != 4 || match >= VIRTIO_MMIO_MAX_QUEUES || fd < 0 ||
        on == g->ioev_on[match] || (!on && g->ioev_fd[match] != fd)) {
        g->ioev_bad++;
        errno = on ? EEXIST : ENOENT;
        return -1;
    }
    g->ioev_on[match] = on;
    g->ioev_fd[match] = fd;
    return 0;
}

/* Give the device (created into g->dev) the fake ioeventfd registrar: its
 * notifications then go through the transport's notify thread. */
static inline int fg_use_ioevent(struct fg *g)
{
    struct err *e = NULL;
    struct vm_ioevent ev = {.set = fg_set_ioevent, .ctx = g, .base = FG_MMIO_BASE};

    g->dev.base = FG_MMIO_BASE;
    memset(g->ioev_on, 0, sizeof(g->ioev_on));
    if (virtio_mmio_set_ioevent(&g->dev, ev, &e) < 0) {
        printf("# %s\n", e->msg);
        err_free(&e);
        return -1;
    }
    return 0;
}

static inline struct vm_irq fg_irq(struct fg *g)
{
    struct vm_irq irq = {.set_level = fg_set_irq, .ctx = g, .gsi = 5};
    return irq;
}

static inline void fg_fini(struct fg *g)
{
    if (g->dev.ops != NULL && g->dev.ops->destroy != NULL)
        g->dev.ops->destroy(g->dev.state);
    g->dev.ops = NULL;
    if (g->ram != NULL)
        munmap(g->ram, FG_RAM_SIZE);
    g->ram = NULL;
}

/* Host pointer of a guest address inside RAM (tests only use valid ones). */
static inline void *fg_ptr(struct fg *g, uint64_t gpa)
{
    return g->ram + (gpa - FG_RAM_BASE);
}

static inline uint64_t fg_alloc(struct fg *g, uint32_t len)
{
    uint64_t gpa = g->data_next;

    if (gpa + len > FG_RAM_BASE + FG_RAM_SIZE)
        gpa = g->data_base;
    g->data_next = gpa + ((len + 15) & ~15u);
    return gpa;
}

static inline uint32_t fg_r32(struct fg *g, uint64_t off)
{
    uint32_t v = 0;

    g->dev.ops->read(g->dev.state, off, (uint8_t *)&v, 4);
    return v;
}

static inline void fg_w32(struct fg *g, uint64_t off, uint32_t v)
{
    g->dev.ops->write(g->dev.state, off, (const uint8_t *)&v, 4);
}

static inline void fg_config(struct fg *g, uint32_t off, void *buf, uint32_t len)
{
    g->dev.ops->read(g->dev.state, 0x100 + off, buf, len);
}

/* The driver's side of §3.1.1 and §4.2.3.2. Accepts offered & want (plus
 * VERSION_1); queues get `size` entries. Returns the status read back. */
static inline uint32_t fg_setup(struct fg *g, uint64_t want, unsigned int nqueues, uint16_t size)
{
    fg_w32(g, 0x70, 0);
    fg_w32(g, 0x70, 1);
    fg_w32(g, 0x70, 1 | 2);
    fg_w32(g, 0x14, 0);
    uint64_t offered = fg_r32(g, 0x10);
    fg_w32(g, 0x14, 1);
    offered |= (uint64_t)fg_r32(g, 0x10) << 32;
    uint64_t acc = offered & (want | (1ull << 32));
    fg_w32(g, 0x24, 0);
    fg_w32(g, 0x20, (uint32_t)acc);
    fg_w32(g, 0x24, 1);
    fg_w32(g, 0x20, (uint32_t)(acc >> 32));
    fg_w32(g, 0x70, 1 | 2 | 8);
    if (!(fg_r32(g, 0x70) & 8))
        return fg_r32(g, 0x70);
    for (unsigned int i = 0; i < nqueues; i++) {
        struct fg_queue *q = &g->q[i];
        memset(q, 0, sizeof(*q));
        q->size = size;
        q->desc = FG_RING_AREA + i * 0x10000ull;
        q->avail = q->desc + 16ull * size;
        q->used = (q->avail + 6 + 2ull * size + 3) & ~3ull;
        memset(fg_ptr(g, q->desc), 0, 0x10000);
        fg_w32(g, 0x30, i);
        fg_w32(g, 0x38, size);
        fg_w32(g, 0x80, (uint32_t)q->desc);
        fg_w32(g, 0x84, (uint32_t)(q->desc >> 32));
        fg_w32(g, 0x90, (uint32_t)q->avail);
        fg_w32(g, 0x94, (uint32_t)(q->avail >> 32));
        fg_w32(g, 0xa0, (uint32_t)q->used);
        fg_w32(g, 0xa4, (uint32_t)(q->used >> 32));
        fg_w32(g, 0x44, 1);
    }
    fg_w32(g, 0x70, 1 | 2 | 8 | 4);
    return fg_r32(g, 0x70);
}

static inline struct vring_desc *fg_desc(struct fg *g, unsigned int qi, uint16_t i)
{
    return (struct vring_desc *)fg_ptr(g, g->q[qi].desc) + i;
}

static inline uint16_t *fg_avail(struct fg *g, unsigned int qi)
{
    return fg_ptr(g, g->q[qi].avail); /* [0] flags, [1] idx, [2..] ring, then used_event */
}

static inline struct vring_used *fg_used_ring(struct fg *g, unsigned int qi)
{
    return fg_ptr(g, g->q[qi].used);
}

/* Put the descriptor index `head` in the avail ring and publish it. */
static inline void fg_publish(struct fg *g, unsigned int qi, uint16_t head)
{
    struct fg_queue *q = &g->q[qi];
    uint16_t *a = fg_avail(g, qi);

    a[2 + (q->avail_idx & (q->size - 1))] = head;
    q->avail_idx++;
    __atomic_store_n(&a[1], q->avail_idx, __ATOMIC_RELEASE);
}

/* Write a chain of n segments into free descriptors and publish it. Returns
 * the head index. */
static inline uint16_t fg_add(struct fg *g, unsigned int qi, const struct fg_seg *segs,
                              unsigned int n)
{
    struct fg_queue *q = &g->q[qi];
    uint16_t head = q->next_desc;

    for (unsigned int i = 0; i < n; i++) {
        uint16_t d = (uint16_t)((head + i) & (q->size - 1));
        struct vring_desc *desc = fg_desc(g, qi, d);
        desc->addr = segs[i].gpa;
        desc->len = segs[i].len;
        desc->flags =
            (segs[i].writable ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
        desc->next = (uint16_t)((d + 1) & (q->size - 1));
    }
    q->next_desc = (uint16_t)((head + n) & (q->size - 1));
    fg_publish(g, qi, head);
    return head;
}

/* QueueNotify. With an ioeventfd registered for the queue, KVM would signal
 * it instead of exiting: do that, and wait (at most 10 s) until the notify
 * thread has served it, so that tests read the used ring as after an exit. */
static inline void fg_kick(struct fg *g, unsigned int qi)
{
    struct virtio_mmio *t = g->dev.state;
    uint64_t one = 1;

    if (qi >= VIRTIO_MMIO_MAX_QUEUES || !g->ioev_on[qi]) {
        fg_w32(g, 0x50, qi);
        return;
    }
    uint64_t before = virtio_mmio_ioevent_count(t);
    if (write(g->ioev_fd[qi], &one, sizeof(one)) != sizeof(one))
        return;
    for (int i = 0; i < 10000 && virtio_mmio_ioevent_count(t) == before; i++)
        usleep(1000);
}

/* Next used element: 1 with its id and len, or 0 if none is new. */
static inline int fg_get_used(struct fg *g, unsigned int qi, uint32_t *id, uint32_t *len)
{
    struct fg_queue *q = &g->q[qi];
    struct vring_used *u = fg_used_ring(g, qi);

    if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == q->used_seen)
        return 0;
    struct vring_used_elem *e = &u->ring[q->used_seen & (q->size - 1)];
    *id = e->id;
    *len = e->len;
    q->used_seen++;
    return 1;
}

/* Acknowledge the interrupt as Linux's vm_interrupt does. */
static inline uint32_t fg_ack(struct fg *g)
{
    uint32_t isr = fg_r32(g, 0x60);

    fg_w32(g, 0x64, isr);
    return isr;
}

#endif
