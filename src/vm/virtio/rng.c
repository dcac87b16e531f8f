/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-rng: virtio 1.2 §5.4. See rng.h. */
#include "vm/virtio/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "vm/virtio/mmio.h"

#define RNG_MAX_REQUEST (64u * 1024)

struct rng {
    struct virtio_mmio *t;
    struct virtqueue_chain chain;
};

/* Fill the writable part of c with random bytes; returns the bytes written. */
static uint32_t rng_fill(const struct virtqueue_chain *c)
{
    uint32_t done = 0;

    for (unsigned int i = c->nout; i < c->nout + c->nin && done < RNG_MAX_REQUEST; i++) {
        size_t want = c->iov[i].iov_len;
        if (want > RNG_MAX_REQUEST - done)
            want = RNG_MAX_REQUEST - done;
        size_t got = 0;
        while (got < want) {
            ssize_t r = getrandom((uint8_t *)c->iov[i].iov_base + got, want - got, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return done + (uint32_t)got;
            got += (size_t)r;
        }
        done += (uint32_t)got;
    }
    return done;
}

static void rng_queue_notify(void *dev, unsigned int qi)
{
    struct rng *r = dev;
    struct virtqueue *q = virtio_mmio_queue(r->t, 0);
    const char *why = NULL;
    bool pushed = false;
    int n;

    do {
        while ((n = virtqueue_pop(q, &r->chain, &why)) > 0) {
            virtqueue_push(q, r->chain.head, rng_fill(&r->chain));
            pushed = true;
        }
        if (n < 0) {
            virtio_mmio_needs_reset(r->t, why);
            return;
        }
    } while (virtqueue_has_avail(q));
    if (pushed)
        virtio_mmio_notify(r->t, 0);
}

static void rng_destroy(void *dev)
{
    free(dev);
}

static const struct virtio_dev_ops rng_ops = {
    .name = "virtio-rng",
    .device_id = 4,
    .nqueues = 1,
    .queue_max = 64,
    .features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
    .queue_notify = rng_queue_notify,
    .destroy = rng_destroy,
};

int virtio_rng_create(const struct vm_mem *mem, struct vm_irq irq, struct vm_dev *out,
                      struct err **err)
{
    struct rng *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return err_set(err, ENOMEM, "virtio-rng");
    if (virtio_mmio_create(&rng_ops, r, mem, irq, out, err) < 0)
        return -1;
    r->t = out->state;
    return 0;
}
