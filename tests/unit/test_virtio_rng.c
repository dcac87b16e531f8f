/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-rng through the virtio-mmio transport, driven by a fake guest. */
#include <string.h>

#include "tap.h"
#include "util/cleanup.h"
#include "virtio_guest.h"
#include "vm/virtio/rng.h"

static int nonzero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 1;
    return 0;
}

int main(void)
{
    struct fg g;
    _cleanup_err_ struct err *e = NULL;
    uint32_t id, len;

    fg_init(&g);
    ok(virtio_rng_create(&g.mem, fg_irq(&g), &g.dev, &e) == 0, "virtio-rng created");
    ok(fg_r32(&g, 8) == 4, "device id 4");
    ok(fg_setup(&g, ~0ull, 1, 16) == 15, "driver OK");

    uint64_t a = fg_alloc(&g, 100), b = fg_alloc(&g, 28);
    struct fg_seg segs[] = {{a, 100, 1}, {b, 28, 1}};
    fg_add(&g, 0, segs, 2);
    fg_kick(&g, 0);
    ok(fg_get_used(&g, 0, &id, &len) == 1 && len == 128, "128 random bytes");
    ok(nonzero(fg_ptr(&g, a), 100) && nonzero(fg_ptr(&g, b), 28), "both buffers filled");
    ok(g.irq_level == 1, "interrupt raised");

    uint64_t big = fg_alloc(&g, 1 << 20);
    struct fg_seg huge = {big, 1 << 20, 1};
    fg_add(&g, 0, &huge, 1);
    fg_kick(&g, 0);
    ok(fg_get_used(&g, 0, &id, &len) == 1 && len == 65536, "a 1 MiB request gets 64 KiB");

    struct fg_seg ro = {a, 16, 0};
    fg_add(&g, 0, &ro, 1);
    fg_kick(&g, 0);
    ok(fg_get_used(&g, 0, &id, &len) == 1 && len == 0, "no writable buffer: 0 bytes");

    struct fg_seg outside = {FG_RAM_BASE + FG_RAM_SIZE - 4, 16, 1};
    fg_add(&g, 0, &outside, 1);
    fg_kick(&g, 0);
    ok(fg_r32(&g, 0x70) & 64, "buffer past RAM: DEVICE_NEEDS_RESET");
    ok(fg_get_used(&g, 0, &id, &len) == 0, "nothing used for it");
    fg_fini(&g);
    return done_testing();
}
