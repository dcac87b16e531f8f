/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer: virtqueues and virtio device request parsing, from the guest's
 * side. The input is a guest: a few header bytes pick the device, the
 * features it accepts, the queue size and ring placement; the rest is copied
 * into guest RAM (rings, descriptors, indirect tables, request headers and
 * payloads all come from it). The driver sets the device up through its MMIO
 * registers, notifies every queue and resets it. Devices: virtio-blk (on a
 * memfd), virtio-rng, virtio-vsock (its tx parser; host side unused).
 * virtio-net needs a tap and is not covered here.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"
#include "vm/virtio/blk.h"
#include "vm/virtio/mmio.h"
#include "vm/virtio/rng.h"
#include "vm/virtio/vsock.h"

#define RAM_BASE 0x10000ull
#define RAM_SIZE 0x10000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram;
static struct vm_mem mem;
static struct vm_dev devs[3];
static char uds[64];

static int fake_irq(void *ctx, uint32_t gsi, int level)
{
    return 0;
}

static void cleanup(void)
{
    for (int i = 0; i < 3; i++)
        if (devs[i].ops != NULL)
            devs[i].ops->destroy(devs[i].state);
    if (uds[0] != '\0')
        unlink(uds);
}

static int setup(void)
{
    struct vm_irq irq = {.set_level = fake_irq};
    struct err *e = NULL;
    char disk[64];

    log_set_level(LOGL_ERROR);
    ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ram == MAP_FAILED)
        return -1;
    mem.nregions = 1;
    mem.regions[0] = (struct vm_mem_region){.gpa = RAM_BASE, .size = RAM_SIZE, .hva = ram};
    int fd = memfd_create("isola-fuzz-disk", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
        return -1;
    snprintf(disk, sizeof(disk), "/proc/self/fd/%d", fd);
    struct virtio_blk_opts bo = {.path = disk};
    snprintf(uds, sizeof(uds), "/tmp/isola-fuzz-vsock-%d.sock", getpid());
    struct virtio_vsock_opts vo = {.guest_cid = 3, .uds_path = uds};
    if (virtio_blk_create(&bo, &mem, irq, &devs[0], &e) < 0 ||
        virtio_rng_create(&mem, irq, &devs[1], &e) < 0 ||
        virtio_vsock_create(&vo, &mem, irq, &devs[2], &e) < 0) {
        fprintf(stderr, "fuzz setup: %s\n", e->msg);
        return -1;
    }
    atexit(cleanup);
    return 0;
}

static void w32(struct vm_dev *d, uint64_t off, uint32_t v)
{
    d->ops->write(d->state, off, (const uint8_t *)&v, 4);
}

static uint32_t r32(struct vm_dev *d, uint64_t off)
{
    uint32_t v = 0;
    d->ops->read(d->state, off, (uint8_t *)&v, 4);
    return v;
}

/* Header: device, features (low byte: bit 0 indirect, 1 event_idx, 2 skip
 * VERSION_1), queue size exponent, then per queue three 16-bit ring offsets. */
#define HDR_BYTES (3 + 3 * 2 * 3)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;

    if (!ready) {
        if (setup() < 0)
            abort();
        ready = 1;
    }
    if (size < HDR_BYTES)
        return 0;
    struct vm_dev *d = &devs[data[0] % 3];
    uint8_t feat = data[1];
    uint32_t qsize = 1u << (data[2] % 10); /* 1 .. 512: some above QueueNumMax */
    const uint8_t *offs = data + 3;

    memset(ram, 0, RAM_SIZE);
    memcpy(ram, data + HDR_BYTES, size - HDR_BYTES < RAM_SIZE ? size - HDR_BYTES : RAM_SIZE);

    w32(d, 0x70, 0);
    w32(d, 0x70, 1);
    w32(d, 0x70, 3);
    uint32_t lo = (feat & 1 ? 1u << 28 : 0) | (feat & 2 ? 1u << 29 : 0);
    w32(d, 0x24, 0);
    w32(d, 0x20, lo);
    w32(d, 0x24, 1);
    w32(d, 0x20, feat & 4 ? 0 : 1);
    w32(d, 0x70, 11);
    for (uint32_t q = 0; q < 3; q++) {
        uint16_t o[3];
        memcpy(o, offs + q * 6, 6);
        w32(d, 0x30, q);
        w32(d, 0x38, qsize);
        w32(d, 0x80, (uint32_t)(RAM_BASE + o[0]));
        w32(d, 0x84, 0);
        w32(d, 0x90, (uint32_t)(RAM_BASE + o[1]));
        w32(d, 0x94, 0);
        w32(d, 0xa0, (uint32_t)(RAM_BASE + o[2]));
        w32(d, 0xa4, 0);
        w32(d, 0x44, 1);
    }
    w32(d, 0x70, 15);
    for (int round = 0; round < 2; round++)
        for (uint32_t q = 0; q < 3; q++)
            w32(d, 0x50, q);
    uint8_t cfg[16];
    d->ops->read(d->state, 0x100 + (feat >> 4), cfg, 8);
    w32(d, 0x64, r32(d, 0x60));
    w32(d, 0x70, 0);
    return 0;
}
