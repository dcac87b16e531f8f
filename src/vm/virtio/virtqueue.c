/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Split virtqueues, device side: virtio 1.2 §2.7. See virtqueue.h. */
#include "vm/virtio/virtqueue.h"

#include <linux/virtio_ring.h>
#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtqueues assume a little-endian host");

/* Ring byte sizes and alignments (§2.7, table "Virtqueue Part Alignment"). */
#define DESC_SIZE(n)  (16ull * (n))
#define AVAIL_SIZE(n) (6ull + 2ull * (n))
#define USED_SIZE(n)  (6ull + 8ull * (n))

void virtqueue_init(struct virtqueue *q, uint16_t max_size)
{
    memset(q, 0, sizeof(*q));
    q->max_size = max_size;
    q->size = max_size;
}

void virtqueue_reset(struct virtqueue *q)
{
    virtqueue_init(q, q->max_size);
}

int virtqueue_start(struct virtqueue *q, const struct vm_mem *mem, bool event_idx, bool indirect,
                    const char **why)
{
    uint16_t n = q->size;

    if (n == 0 || (n & (n - 1)) != 0 || n > q->max_size) {
        *why = "queue size is not a power of 2 no larger than QueueNumMax";
        goto bad;
    }
    if (q->desc_gpa % 16 != 0 || q->avail_gpa % 2 != 0 || q->used_gpa % 4 != 0) {
        *why = "misaligned ring (descriptor table 16, driver area 2, device area 4)";
        goto bad;
    }
    q->desc = vm_mem_ptr(mem, q->desc_gpa, DESC_SIZE(n));
    q->avail = vm_mem_ptr(mem, q->avail_gpa, AVAIL_SIZE(n));
    q->used = vm_mem_ptr(mem, q->used_gpa, USED_SIZE(n));
    if (q->desc == NULL || q->avail == NULL || q->used == NULL) {
        *why = "ring outside guest RAM";
        goto bad;
    }
    q->mem = mem;
    q->event_idx = event_idx;
    q->indirect = indirect;
    q->signal_valid = false;
    q->broken = false;
    q->ready = true;
    return 0;
bad:
    q->desc = q->avail = q->used = NULL;
    q->broken = true;
    return -1;
}

static inline uint16_t *avail_idx_ptr(const struct virtqueue *q)
{
    return (uint16_t *)q->avail + 1;
}

static inline uint16_t *avail_ring(const struct virtqueue *q)
{
    return (uint16_t *)q->avail + 2;
}

static inline uint16_t *used_idx_ptr(const struct virtqueue *q)
{
    return (uint16_t *)q->used + 1;
}

static inline struct vring_used_elem *used_ring(const struct virtqueue *q)
{
    return (struct vring_used_elem *)((uint8_t *)q->used + 4);
}

static int chain_add(struct virtqueue *q, struct virtqueue_chain *c, const struct vring_desc *d,
                     const char **why)
{
    bool writable = d->flags & VRING_DESC_F_WRITE;

    /* §2.7.4.2: device-writable descriptors come after all readable ones. */
    if (!writable && c->nin > 0) {
        *why = "device-readable descriptor after a device-writable one";
        return -1;
    }
    if (d->len == 0)
        return 0;
    if (c->nout + c->nin >= VIRTQUEUE_MAX_SEGS) {
        *why = "descriptor chain has too many buffers";
        return -1;
    }
    if ((uint64_t)c->out_len + c->in_len + d->len > VIRTQUEUE_MAX_BYTES) {
        *why = "descriptor chain is too long in bytes";
        return -1;
    }
    void *p = vm_mem_ptr(q->mem, d->addr, d->len);
    if (p == NULL) {
        *why = "descriptor buffer outside guest RAM";
        return -1;
    }
    struct iovec *iov = &c->iov[c->nout + c->nin];
    iov->iov_base = p;
    iov->iov_len = d->len;
    if (writable) {
        c->nin++;
        c->in_len += d->len;
    } else {
        c->nout++;
        c->out_len += d->len;
    }
    return 0;
}

/* Walk the chain at head (§2.7.5, §2.7.5.3 for indirect tables). A chain in a
 * table of n descriptors that has not ended after n steps loops. */
static int chain_walk(struct virtqueue *q, uint16_t head, struct virtqueue_chain *c,
                      const char **why)
{
    const uint8_t *table = q->desc;
    unsigned int table_n = q->size, steps = 0;
    bool in_indirect = false;
    uint16_t idx = head;

    c->head = head;
    c->nout = c->nin = 0;
    c->out_len = c->in_len = 0;
    for (;;) {
        struct vring_desc d;

        if (++steps > table_n) {
            *why = "descriptor chain loops or is longer than its table";
            return -1;
        }
        /* One copy: the guest may change the descriptor while we look at it. */
        memcpy(&d, table + 16u * idx, sizeof(d));
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (!q->indirect) {
                *why = "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
                return -1;
            }
            if (in_indirect) {
                *why = "indirect descriptor inside an indirect table";
                return -1;
            }
            if (d.flags & VRING_DESC_F_NEXT) {
                *why = "descriptor has both INDIRECT and NEXT";
                return -1;
            }
            if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > VIRTQUEUE_MAX_SEGS) {
                *why = "indirect table length is 0, not a multiple of 16 or too large";
                return -1;
            }
            table = vm_mem_ptr(q->mem, d.addr, d.len);
            if (table == NULL) {
                *why = "indirect table outside guest RAM";
                return -1;
            }
            table_n = d.len / 16;
            in_indirect = true;
            steps = 0;
            idx = 0;
            continue;
        }
        if (chain_add(q, c, &d, why) < 0)
            return -1;
        if (!(d.flags & VRING_DESC_F_NEXT))
            return 0;
        idx = d.next;
        if (idx >= table_n) {
            *why = "descriptor next index out of range";
            return -1;
        }
    }
}

int virtqueue_pop(struct virtqueue *q, struct virtqueue_chain *c, const char **why)
{
    if (!q->ready || q->broken)
        return 0;
    /* Acquire: ring entries the driver wrote before idx are visible after. */
    uint16_t avail = __atomic_load_n(avail_idx_ptr(q), __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(avail - q->last_avail);
    if (pending == 0)
        return 0;
    if (pending > q->size) {
        *why = "available index is more than the queue size ahead";
        goto bad;
    }
    uint16_t head =
        __atomic_load_n(&avail_ring(q)[q->last_avail & (q->size - 1)], __ATOMIC_RELAXED);
    if (head >= q->size) {
        *why = "available ring names a descriptor out of range";
        goto bad;
    }
    if (chain_walk(q, head, c, why) < 0)
        goto bad;
    q->last_avail++;
    return 1;
bad:
    q->broken = true;
    return -1;
}

void virtqueue_unpop(struct virtqueue *q, uint16_t n)
{
    q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtqueue_push(struct virtqueue *q, uint16_t head, uint32_t written)
{
    if (!q->ready || q->broken)
        return;
    struct vring_used_elem *e = &used_ring(q)[q->used_idx & (q->size - 1)];
    __atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
    __atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
    q->used_idx++;
    /* Release: the element is visible before the index that publishes it. */
    __atomic_store_n(used_idx_ptr(q), q->used_idx, __ATOMIC_RELEASE);
}

bool virtqueue_should_notify(struct virtqueue *q)
{
    if (!q->ready || q->broken)
        return false;
    /* Order our used->idx store before reading the driver's suppression
     * fields (the driver does the mirror image). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!q->event_idx) {
        uint16_t flags = __atomic_load_n((uint16_t *)q->avail, __ATOMIC_RELAXED);
        return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
    }
    uint16_t old = q->signal_used, now = q->used_idx;
    bool valid = q->signal_valid;
    q->signal_used = now;
    q->signal_valid = true;
    /* used_event sits after the avail ring (§2.7.10). */
    uint16_t event = __atomic_load_n(&avail_ring(q)[q->size], __ATOMIC_RELAXED);
    return !valid || vring_need_event(event, now, old);
}

bool virtqueue_has_avail(struct virtqueue *q)
{
    if (!q->ready || q->broken)
        return false;
    if (q->event_idx) {
        /* avail_event sits after the used ring (§2.7.10). */
        uint16_t *avail_event = (uint16_t *)&used_ring(q)[q->size];
        __atomic_store_n(avail_event, q->last_avail, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
    return __atomic_load_n(avail_idx_ptr(q), __ATOMIC_ACQUIRE) != q->last_avail;
}

unsigned int virtqueue_chain_slice(const struct virtqueue_chain *c, bool in, uint32_t off,
                                   uint32_t len, struct iovec *iov, unsigned int max)
{
    unsigned int first = in ? c->nout : 0, n = in ? c->nin : c->nout, used = 0;

    for (unsigned int i = first; i < first + n && len > 0 && used < max; i++) {
        size_t seg = c->iov[i].iov_len;
        if (off >= seg) {
            off -= seg;
            continue;
        }
        size_t take = seg - off < len ? seg - off : len;
        iov[used].iov_base = (uint8_t *)c->iov[i].iov_base + off;
        iov[used].iov_len = take;
        used++;
        len -= take;
        off = 0;
    }
    return used;
}

static uint32_t chain_copy(const struct virtqueue_chain *c, bool in, uint32_t off, uint8_t *buf,
                           uint32_t len)
{
    unsigned int first = in ? c->nout : 0, n = in ? c->nin : c->nout;
    uint32_t done = 0;

    for (unsigned int i = first; i < first + n && done < len; i++) {
        size_t seg = c->iov[i].iov_len;
        if (off >= seg) {
            off -= seg;
            continue;
        }
        size_t take = seg - off < len - done ? seg - off : len - done;
        if (in)
            memcpy((uint8_t *)c->iov[i].iov_base + off, buf + done, take);
        else
            memcpy(buf + done, (uint8_t *)c->iov[i].iov_base + off, take);
        done += take;
        off = 0;
    }
    return done;
}

uint32_t virtqueue_chain_read(const struct virtqueue_chain *c, uint32_t off, void *dst,
                              uint32_t len)
{
    return chain_copy(c, false, off, dst, len);
}

uint32_t virtqueue_chain_write(const struct virtqueue_chain *c, uint32_t off, const void *src,
                               uint32_t len)
{
    return chain_copy(c, true, off, (uint8_t *)src, len);
}
