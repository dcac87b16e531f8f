/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Split virtqueue validation against hostile rings (virtio 1.2 §2.7). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/cleanup.h"
#include "virtio_guest.h"
#include "vm/virtio/virtqueue.h"

static struct fg g;
static struct virtqueue q;
static struct virtqueue_chain c;

/* A fresh queue of `size` with rings placed like fg_setup() does. */
static void fresh(uint16_t size, bool event_idx, bool indirect)
{
    const char *why = NULL;
    struct fg_queue *fq = &g.q[0];

    memset(g.ram, 0, FG_RAM_SIZE);
    memset(fq, 0, sizeof(*fq));
    fq->size = size;
    fq->desc = FG_RING_AREA;
    fq->avail = fq->desc + 16ull * size;
    fq->used = (fq->avail + 6 + 2ull * size + 3) & ~3ull;
    virtqueue_init(&q, 256);
    q.size = size;
    q.desc_gpa = fq->desc;
    q.avail_gpa = fq->avail;
    q.used_gpa = fq->used;
    if (virtqueue_start(&q, &g.mem, event_idx, indirect, &why) < 0)
        printf("# start failed: %s\n", why);
    g.data_next = FG_DATA_AREA;
}

static int pop_fails(const char *what)
{
    const char *why = NULL;
    int r = virtqueue_pop(&q, &c, &why);

    if (r < 0)
        printf("#   %s -> %s\n", what, why);
    return r < 0 && q.broken;
}

static void test_start(void)
{
    const char *why = NULL;

    virtqueue_init(&q, 256);
    q.desc_gpa = FG_RING_AREA;
    q.avail_gpa = FG_RING_AREA + 4096;
    q.used_gpa = FG_RING_AREA + 8192;
    q.size = 100;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) < 0, "size not a power of 2 refused");
    q.size = 512;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) < 0, "size above QueueNumMax refused");
    q.size = 0;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) < 0, "size 0 refused");
    q.size = 256;
    q.desc_gpa = FG_RING_AREA + 8;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) < 0, "misaligned descriptor table refused");
    q.desc_gpa = FG_RING_AREA;
    q.used_gpa = FG_RING_AREA + 8194;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) < 0, "misaligned used ring refused");
    q.used_gpa = FG_RAM_BASE + FG_RAM_SIZE - 16;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) < 0, "used ring past the end of RAM");
    q.used_gpa = 0x1000;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) < 0, "used ring below RAM refused");
    q.used_gpa = 0xfffffffffffff000ull;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) < 0, "used ring at the top of the space");
    q.used_gpa = FG_RING_AREA + 8192;
    ok(virtqueue_start(&q, &g.mem, false, false, &why) == 0 && q.ready, "valid rings accepted");
}

static void test_simple(void)
{
    const char *why = NULL;
    uint64_t a = fg_alloc(&g, 100), b = fg_alloc(&g, 50), w = fg_alloc(&g, 300);
    struct fg_seg segs[] = {{a, 100, 0}, {b, 50, 0}, {w, 300, 1}};

    fresh(8, false, false);
    ok(virtqueue_pop(&q, &c, &why) == 0, "empty ring pops nothing");
    memcpy(fg_ptr(&g, a), "hello", 5);
    uint16_t head = fg_add(&g, 0, segs, 3);
    ok(virtqueue_pop(&q, &c, &why) == 1, "a chain pops");
    ok(c.head == head && c.nout == 2 && c.nin == 1, "2 readable then 1 writable buffer");
    ok(c.out_len == 150 && c.in_len == 300, "lengths summed");
    char buf[8] = {0};
    ok(virtqueue_chain_read(&c, 0, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0, "chain_read");
    ok(virtqueue_chain_read(&c, 140, buf, 8) == 8, "chain_read across buffers");
    ok(virtqueue_chain_read(&c, 149, buf, 8) == 1, "chain_read stops at the end");
    ok(virtqueue_chain_write(&c, 298, "xyz", 3) == 2, "chain_write stops at the end");
    ok(memcmp(fg_ptr(&g, w + 298), "xy", 2) == 0, "chain_write landed in guest RAM");
    struct iovec iov[4];
    ok(virtqueue_chain_slice(&c, false, 90, 20, iov, 4) == 2 && iov[0].iov_len == 10 &&
           iov[1].iov_len == 10,
       "chain_slice splits at buffer boundaries");
    virtqueue_push(&q, c.head, 42);
    uint32_t id = 0, len = 0;
    ok(fg_get_used(&g, 0, &id, &len) == 1 && id == head && len == 42, "used element published");
    ok(virtqueue_should_notify(&q), "notification wanted by default");
    fg_avail(&g, 0)[0] = VRING_AVAIL_F_NO_INTERRUPT;
    virtqueue_push(&q, c.head, 1);
    ok(!virtqueue_should_notify(&q), "VRING_AVAIL_F_NO_INTERRUPT suppresses it");
}

static void test_hostile(void)
{
    uint64_t a = fg_alloc(&g, 64);
    struct vring_desc *d;

    /* Two descriptors pointing at each other. */
    fresh(8, false, false);
    d = fg_desc(&g, 0, 0);
    d[0] = (struct vring_desc){a, 16, VRING_DESC_F_NEXT, 1};
    d[1] = (struct vring_desc){a, 16, VRING_DESC_F_NEXT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("loop"), "a looping chain is a guest error");
    const char *why = NULL;
    ok(virtqueue_pop(&q, &c, &why) == 0, "a broken queue is not read again");

    fresh(8, false, false);
    d = fg_desc(&g, 0, 0);
    d[0] = (struct vring_desc){a, 16, VRING_DESC_F_NEXT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("self loop"), "a descriptor that is its own next");

    fresh(8, false, false);
    d = fg_desc(&g, 0, 0);
    d[0] = (struct vring_desc){a, 16, VRING_DESC_F_NEXT, 8};
    fg_publish(&g, 0, 0);
    ok(pop_fails("next out of range"), "next index >= queue size");

    fresh(8, false, false);
    fg_publish(&g, 0, 9);
    ok(pop_fails("head out of range"), "avail ring head >= queue size");

    fresh(8, false, false);
    fg_avail(&g, 0)[1] = 9;
    ok(pop_fails("avail idx"), "avail idx more than size ahead");

    struct {
        uint64_t addr;
        uint32_t len;
        const char *what;
    } bad[] = {
        {0x1000, 16, "buffer below RAM"},
        {FG_RAM_BASE + FG_RAM_SIZE - 8, 16, "buffer straddling the end of RAM"},
        {FG_RAM_BASE + FG_RAM_SIZE, 1, "buffer just past RAM"},
        {0xfffffffffffffff0ull, 0x20, "address + length overflow"},
        {FG_RAM_BASE, 0xffffffffu, "4 GiB length"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        fresh(8, false, false);
        fg_desc(&g, 0, 0)[0] = (struct vring_desc){bad[i].addr, bad[i].len, 0, 0};
        fg_publish(&g, 0, 0);
        ok(pop_fails(bad[i].what), "%s", bad[i].what);
    }

    fresh(8, false, false);
    d = fg_desc(&g, 0, 0);
    d[0] = (struct vring_desc){a, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1};
    d[1] = (struct vring_desc){a, 16, 0, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("order"), "readable after writable is a guest error");

    fresh(8, false, false);
    d = fg_desc(&g, 0, 0);
    d[0] = (struct vring_desc){a, 0, VRING_DESC_F_NEXT, 1};
    d[1] = (struct vring_desc){a, 4, VRING_DESC_F_WRITE, 0};
    fg_publish(&g, 0, 0);
    ok(virtqueue_pop(&q, &c, &why) == 1 && c.nout == 0 && c.nin == 1,
       "zero-length buffers are skipped");

    /* Every valid ring position wraps: 3 rounds through a 4-entry ring. */
    fresh(4, false, false);
    int good = 1;
    for (int i = 0; i < 12; i++) {
        struct fg_seg s = {a, 8, 1};
        fg_add(&g, 0, &s, 1);
        if (virtqueue_pop(&q, &c, &why) != 1)
            good = 0;
        virtqueue_push(&q, c.head, 8);
        uint32_t id, len;
        if (fg_get_used(&g, 0, &id, &len) != 1 || id != c.head)
            good = 0;
    }
    ok(good, "indices wrap around the ring");
}

static uint64_t indirect_table(unsigned int n, uint32_t seg_len)
{
    uint64_t t = fg_alloc(&g, 16 * n);
    uint64_t buf = fg_alloc(&g, seg_len);
    struct vring_desc *d = fg_ptr(&g, t);

    for (unsigned int i = 0; i < n; i++)
        d[i] = (struct vring_desc){buf, seg_len, (uint16_t)(i + 1 < n ? VRING_DESC_F_NEXT : 0),
                                   (uint16_t)(i + 1)};
    return t;
}

static void test_indirect(void)
{
    const char *why = NULL;
    uint64_t t;

    fresh(8, false, true);
    t = indirect_table(3, 32);
    fg_desc(&g, 0, 0)[0] = (struct vring_desc){t, 48, VRING_DESC_F_INDIRECT, 0};
    fg_publish(&g, 0, 0);
    ok(virtqueue_pop(&q, &c, &why) == 1 && c.nout == 3 && c.out_len == 96,
       "indirect table of 3 walked");

    fresh(8, false, false);
    t = indirect_table(3, 32);
    fg_desc(&g, 0, 0)[0] = (struct vring_desc){t, 48, VRING_DESC_F_INDIRECT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("no feature"), "indirect without the feature is a guest error");

    fresh(8, false, true);
    t = indirect_table(3, 32);
    ((struct vring_desc *)fg_ptr(&g, t))[1].flags |= VRING_DESC_F_INDIRECT;
    fg_desc(&g, 0, 0)[0] = (struct vring_desc){t, 48, VRING_DESC_F_INDIRECT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("nested"), "nested indirect tables refused");

    fresh(8, false, true);
    t = indirect_table(3, 32);
    fg_desc(&g, 0, 0)[0] = (struct vring_desc){t, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1};
    fg_publish(&g, 0, 0);
    ok(pop_fails("indirect+next"), "INDIRECT with NEXT refused");

    fresh(8, false, true);
    t = indirect_table(3, 32);
    fg_desc(&g, 0, 0)[0] = (struct vring_desc){t, 40, VRING_DESC_F_INDIRECT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("len % 16"), "indirect length not a multiple of 16");

    fresh(8, false, true);
    t = indirect_table(3, 32);
    ((struct vring_desc *)fg_ptr(&g, t))[2] =
        (struct vring_desc){FG_DATA_AREA, 8, VRING_DESC_F_NEXT, 0};
    fg_desc(&g, 0, 0)[0] = (struct vring_desc){t, 48, VRING_DESC_F_INDIRECT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("indirect loop"), "loop inside an indirect table");

    fresh(8, false, true);
    t = indirect_table(3, 32);
    fg_desc(&g, 0, 0)[0] = (struct vring_desc){t, 64, VRING_DESC_F_INDIRECT, 0};
    ((struct vring_desc *)fg_ptr(&g, t))[2].flags = VRING_DESC_F_NEXT;
    ((struct vring_desc *)fg_ptr(&g, t))[2].next = 7;
    fg_publish(&g, 0, 0);
    ok(pop_fails("indirect next range"), "next beyond the indirect table");

    fresh(8, false, true);
    fg_desc(&g, 0, 0)[0] =
        (struct vring_desc){FG_RAM_BASE + FG_RAM_SIZE - 32, 64, VRING_DESC_F_INDIRECT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("indirect outside"), "indirect table outside RAM");

    fresh(8, false, true);
    t = indirect_table(VIRTQUEUE_MAX_SEGS + 1, 16);
    fg_desc(&g, 0, 0)[0] =
        (struct vring_desc){t, 16 * (VIRTQUEUE_MAX_SEGS + 1), VRING_DESC_F_INDIRECT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("too many"), "indirect table longer than the segment limit");

    /* 300 buffers, each all of RAM (4 MiB): over the byte limit. */
    fresh(8, false, true);
    t = indirect_table(300, 16);
    struct vring_desc *d = fg_ptr(&g, t);
    for (int i = 0; i < 300; i++) {
        d[i].addr = FG_RAM_BASE;
        d[i].len = FG_RAM_SIZE;
    }
    fg_desc(&g, 0, 0)[0] = (struct vring_desc){t, 16 * 300, VRING_DESC_F_INDIRECT, 0};
    fg_publish(&g, 0, 0);
    ok(pop_fails("bytes"), "chain longer than the byte limit");
}

static void test_event_idx(void)
{
    const char *why = NULL;
    uint64_t a = fg_alloc(&g, 16);
    struct fg_seg s = {a, 16, 1};
    uint16_t *used_event;

    fresh(8, true, false);
    used_event = &fg_avail(&g, 0)[2 + 8];
    *used_event = 0;
    fg_add(&g, 0, &s, 1);
    virtqueue_pop(&q, &c, &why);
    virtqueue_push(&q, c.head, 16);
    ok(virtqueue_should_notify(&q), "first used entry notifies (used_event 0)");
    *used_event = 3;
    for (int i = 0; i < 2; i++) {
        fg_add(&g, 0, &s, 1);
        virtqueue_pop(&q, &c, &why);
        virtqueue_push(&q, c.head, 16);
    }
    ok(!virtqueue_should_notify(&q), "no notification before used_event is passed");
    fg_add(&g, 0, &s, 1);
    virtqueue_pop(&q, &c, &why);
    virtqueue_push(&q, c.head, 16);
    ok(virtqueue_should_notify(&q), "notification once used idx passes used_event");
    ok(!virtqueue_has_avail(&q), "nothing available");
    uint16_t *avail_event = (uint16_t *)((uint8_t *)fg_used_ring(&g, 0) + 4 + 8 * 8);
    ok(*avail_event == 4, "avail_event published as the next index we expect");
    fg_add(&g, 0, &s, 1);
    ok(virtqueue_has_avail(&q), "a new chain is seen");
}

int main(void)
{
    if (fg_init(&g) < 0) {
        printf("Bail out! mmap guest RAM\n");
        return 1;
    }
    test_start();
    test_simple();
    test_hostile();
    test_indirect();
    test_event_idx();
    fg_fini(&g);
    return done_testing();
}
