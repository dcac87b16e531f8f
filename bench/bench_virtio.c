/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device-side cost of virtio requests, without a VM: a fake guest (the unit
 * tests' tests/unit/virtio_guest.h) drives the devices through their MMIO
 * registers, so the numbers are the monitor's own work per request (ring
 * parsing and validation, the device, the used ring), not VM exits.
 *   bench-virtio [ITERATIONS]
 * Prints: virtqueue pop+push of a 3-buffer chain; virtio-blk 4 KiB reads from
 * a file in /dev/shm (page cache); virtio-rng 64-byte requests.
 */
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "virtio_guest.h"
#include "vm/virtio/blk.h"
#include "vm/virtio/rng.h"
#include "vm/virtio/virtqueue.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *what, long n, double secs)
{
    printf("%-40s %10.0f req/s  %8.1f ns/req\n", what, n / secs, secs * 1e9 / n);
}

static void bench_queue(long n)
{
    struct fg g;
    struct virtqueue q;
    static struct virtqueue_chain c;
    const char *why = NULL;

    fg_init(&g);
    g.q[0] = (struct fg_queue){.size = 256, .desc = FG_RING_AREA};
    g.q[0].avail = g.q[0].desc + 16 * 256;
    g.q[0].used = (g.q[0].avail + 6 + 2 * 256 + 3) & ~3ull;
    virtqueue_init(&q, 256);
    q.desc_gpa = g.q[0].desc;
    q.avail_gpa = g.q[0].avail;
    q.used_gpa = g.q[0].used;
    virtqueue_start(&q, &g.mem, true, true, &why);
    uint64_t a = fg_alloc(&g, 16), b = fg_alloc(&g, 4096), s = fg_alloc(&g, 1);
    struct fg_seg segs[] = {{a, 16, 0}, {b, 4096, 1}, {s, 1, 1}};
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        fg_add(&g, 0, segs, 3);
        virtqueue_pop(&q, &c, &why);
        virtqueue_push(&q, c.head, 4097);
        virtqueue_should_notify(&q);
        uint32_t id, len;
        fg_get_used(&g, 0, &id, &len);
    }
    report("virtqueue pop+push (3 buffers)", n, now_s() - t0);
    fg_fini(&g);
}

static void bench_blk(long n)
{
    struct fg g;
    struct err *e = NULL;
    char path[64];

    snprintf(path, sizeof(path), "/dev/shm/isola-bench-blk-%d", getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, 64 << 20) < 0) {
        perror(path);
        return;
    }
    close(fd);
    fg_init(&g);
    struct virtio_blk_opts o = {.path = path};
    if (virtio_blk_create(&o, &g.mem, fg_irq(&g), &g.dev, &e) < 0) {
        fprintf(stderr, "%s\n", e->msg);
        unlink(path);
        return;
    }
    fg_setup(&g, ~0ull, 1, 256);
    uint64_t h = fg_alloc(&g, 16), d = fg_alloc(&g, 4096), s = fg_alloc(&g, 1);
    struct fg_seg segs[] = {{h, 16, 0}, {d, 4096, 1}, {s, 1, 1}};
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        struct virtio_blk_outhdr oh = {.type = VIRTIO_BLK_T_IN,
                                       .sector = (uint64_t)(i % 16384) * 8};
        memcpy(fg_ptr(&g, h), &oh, sizeof(oh));
        fg_add(&g, 0, segs, 3);
        fg_kick(&g, 0);
        uint32_t id, len;
        fg_get_used(&g, 0, &id, &len);
        fg_ack(&g);
    }
    report("virtio-blk 4 KiB read (kick, ack)", n, now_s() - t0);
    fg_fini(&g);
    unlink(path);
}

static void bench_rng(long n)
{
    struct fg g;
    struct err *e = NULL;

    fg_init(&g);
    if (virtio_rng_create(&g.mem, fg_irq(&g), &g.dev, &e) < 0)
        return;
    fg_setup(&g, ~0ull, 1, 64);
    struct fg_seg seg = {fg_alloc(&g, 64), 64, 1};
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        fg_add(&g, 0, &seg, 1);
        fg_kick(&g, 0);
        uint32_t id, len;
        fg_get_used(&g, 0, &id, &len);
        fg_ack(&g);
    }
    report("virtio-rng 64 bytes (kick, ack)", n, now_s() - t0);
    fg_fini(&g);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;

    if (n <= 0)
        n = 200000;
    bench_queue(n);
    bench_blk(n);
    bench_rng(n);
    return 0;
}
