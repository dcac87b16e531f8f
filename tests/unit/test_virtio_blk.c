/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-blk through the virtio-mmio transport, driven by a fake guest. */
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/js.h"
#include "virtio_guest.h"
#include "vm/virtio/blk.h"

#define DISK_SECTORS 2048
#define ALL_FEATURES (~0ull)

static char disk[64];
/* Notifications through the transport's notify thread (a fake ioeventfd)
 * instead of MMIO exits: main() runs the tests both ways. */
static bool ioev_mode;

static int make_disk(void)
{
    snprintf(disk, sizeof(disk), "/tmp/isola-test-blk-%d", getpid());
    int fd = open(disk, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    uint8_t sec[512];
    for (int s = 0; s < DISK_SECTORS; s++) {
        memset(sec, s & 0xff, sizeof(sec));
        if (write(fd, sec, sizeof(sec)) != (ssize_t)sizeof(sec)) {
            close(fd);
            return -1;
        }
    }
    close(fd);
    return 0;
}

static int disk_byte(uint64_t off)
{
    uint8_t b = 0;
    int fd = open(disk, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || pread(fd, &b, 1, (off_t)off) != 1)
        b = 0xee;
    if (fd >= 0)
        close(fd);
    return b;
}

/* Submit one request; returns the status byte (or -1 if nothing was used). */
static int request(struct fg *g, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
                   int to_guest, uint32_t *used_len)
{
    uint64_t hdr = fg_alloc(g, 16), st = fg_alloc(g, 1);
    struct virtio_blk_outhdr h = {.type = type, .sector = sector};
    struct fg_seg segs[3];
    unsigned int n = 0;
    uint32_t id, ulen;

    memcpy(fg_ptr(g, hdr), &h, sizeof(h));
    *(uint8_t *)fg_ptr(g, st) = 0xaa;
    segs[n++] = (struct fg_seg){hdr, 16, 0};
    if (len > 0)
        segs[n++] = (struct fg_seg){data, len, to_guest};
    segs[n++] = (struct fg_seg){st, 1, 1};
    fg_add(g, 0, segs, n);
    fg_kick(g, 0);
    if (fg_get_used(g, 0, &id, &ulen) != 1)
        return -1;
    if (used_len != NULL)
        *used_len = ulen;
    return *(uint8_t *)fg_ptr(g, st);
}

static int blk_new(struct fg *g, bool ro)
{
    _cleanup_err_ struct err *e = NULL;
    struct virtio_blk_opts o = {.path = disk, .readonly = ro, .serial = "isola-serial-0123456789"};

    if (virtio_blk_create(&o, &g->mem, fg_irq(g), &g->dev, &e) < 0) {
        printf("# %s\n", e->msg);
        return -1;
    }
    if (ioev_mode)
        return fg_use_ioevent(g);
    return 0;
}

static void test_rw(void)
{
    struct fg g;
    uint32_t ulen = 0;

    fg_init(&g);
    ok(blk_new(&g, false) == 0, "virtio-blk created");
    ok(fg_r32(&g, 0) == 0x74726976 && fg_r32(&g, 4) == 2 && fg_r32(&g, 8) == 2,
       "magic, version 2, device id 2");
    ok(g.dev.size == 0x200 && g.dev.acpi_virtio_mmio && g.dev.kind == VM_DEV_MMIO,
       "vm_dev filled for the bus");
    uint64_t cap = 0;
    fg_config(&g, 0, &cap, 8);
    ok(cap == DISK_SECTORS, "capacity in config space");
    uint32_t st = fg_setup(&g, ALL_FEATURES, 1, 16);
    ok(st == 15, "driver reached DRIVER_OK (status %u)", st);
    fg_w32(&g, 0x14, 0);
    ok(!(fg_r32(&g, 0x10) & (1u << VIRTIO_BLK_F_RO)), "RO not offered on a writable disk");

    uint64_t buf = fg_alloc(&g, 1024);
    ok(request(&g, VIRTIO_BLK_T_IN, 3, buf, 1024, 1, &ulen) == VIRTIO_BLK_S_OK && ulen == 1025,
       "read 2 sectors, used length includes the status byte");
    ok(((uint8_t *)fg_ptr(&g, buf))[0] == 3 && ((uint8_t *)fg_ptr(&g, buf))[1023] == 4,
       "read data is the disk's");
    ok(g.irq_level == 1 && (fg_ack(&g) & 1) && g.irq_level == 0, "interrupt raised, then acked");

    memset(fg_ptr(&g, buf), 0x5a, 512);
    ok(request(&g, VIRTIO_BLK_T_OUT, 7, buf, 512, 0, NULL) == VIRTIO_BLK_S_OK, "write 1 sector");
    ok(disk_byte(7 * 512) == 0x5a && disk_byte(8 * 512 - 1) == 0x5a && disk_byte(8 * 512) == 8,
       "written data reached the file, neighbours intact");
    ok(request(&g, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, NULL) == VIRTIO_BLK_S_OK, "flush");
    ok(request(&g, VIRTIO_BLK_T_GET_ID, 0, buf, 20, 1, &ulen) == VIRTIO_BLK_S_OK && ulen == 21 &&
           memcmp(fg_ptr(&g, buf), "isola-serial-0123456", 20) == 0,
       "get-id returns 20 bytes of the serial");

    ok(request(&g, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, buf, 1024, 1, NULL) == VIRTIO_BLK_S_IOERR,
       "read past capacity: IOERR");
    ok(request(&g, VIRTIO_BLK_T_OUT, 1ull << 62, buf, 512, 0, NULL) == VIRTIO_BLK_S_IOERR,
       "write at a sector whose byte offset overflows: IOERR");
    ok(request(&g, VIRTIO_BLK_T_IN, 0, buf, 100, 1, NULL) == VIRTIO_BLK_S_IOERR,
       "partial-sector read: IOERR");
    ok(request(&g, 77, 0, buf, 512, 1, NULL) == VIRTIO_BLK_S_UNSUPP, "unknown type: UNSUPP");

    struct virtio_blk_discard_write_zeroes r = {.sector = 10, .num_sectors = 2};
    memcpy(fg_ptr(&g, buf), &r, sizeof(r));
    ok(request(&g, VIRTIO_BLK_T_WRITE_ZEROES, 0, buf, 16, 0, NULL) == VIRTIO_BLK_S_OK &&
           disk_byte(10 * 512) == 0 && disk_byte(12 * 512 - 1) == 0 && disk_byte(12 * 512) == 12,
       "write-zeroes zeroed exactly its range");
    r = (struct virtio_blk_discard_write_zeroes){.sector = DISK_SECTORS, .num_sectors = 1};
    memcpy(fg_ptr(&g, buf), &r, sizeof(r));
    ok(request(&g, VIRTIO_BLK_T_DISCARD, 0, buf, 16, 0, NULL) == VIRTIO_BLK_S_IOERR,
       "discard past capacity: IOERR");

    /* A header split over two buffers, and data over three. */
    uint64_t h1 = fg_alloc(&g, 16), d1 = fg_alloc(&g, 512), s1 = fg_alloc(&g, 1);
    struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_IN, .sector = 20};
    memcpy(fg_ptr(&g, h1), &h, 16);
    struct fg_seg segs[] = {{h1, 5, 0},         {h1 + 5, 11, 0},   {d1, 100, 1},
                            {d1 + 100, 400, 1}, {d1 + 500, 12, 1}, {s1, 1, 1}};
    fg_add(&g, 0, segs, 6);
    fg_kick(&g, 0);
    uint32_t id;
    ok(fg_get_used(&g, 0, &id, &ulen) == 1 && *(uint8_t *)fg_ptr(&g, s1) == 0 &&
           ((uint8_t *)fg_ptr(&g, d1))[511] == 20,
       "request scattered over 6 buffers");

    /* No writable byte for the status: the device needs a reset. */
    uint64_t hh = fg_alloc(&g, 16);
    memcpy(fg_ptr(&g, hh), &h, 16);
    struct fg_seg only = {hh, 16, 0};
    fg_add(&g, 0, &only, 1);
    fg_kick(&g, 0);
    ok(fg_r32(&g, 0x70) & 64, "request without status byte: DEVICE_NEEDS_RESET");
    ok(fg_r32(&g, 0x60) & 2, "config change interrupt tells the driver");
    ok(request(&g, VIRTIO_BLK_T_IN, 0, buf, 512, 1, NULL) == -1, "no more requests served");
    st = fg_setup(&g, ALL_FEATURES, 1, 16);
    ok(st == 15 && request(&g, VIRTIO_BLK_T_IN, 1, buf, 512, 1, NULL) == VIRTIO_BLK_S_OK,
       "reset and re-setup makes it work again");
    ok(fg_r32(&g, 0x60) == 1, "interrupt status after reset is only the new vring bit");
    fg_fini(&g);
}

static void test_ro(void)
{
    struct fg g;

    fg_init(&g);
    ok(blk_new(&g, true) == 0, "read-only virtio-blk created");
    fg_w32(&g, 0x14, 0);
    ok(fg_r32(&g, 0x10) & (1u << VIRTIO_BLK_F_RO), "VIRTIO_BLK_F_RO offered");
    fg_setup(&g, ALL_FEATURES, 1, 16);
    uint64_t buf = fg_alloc(&g, 512);
    memset(fg_ptr(&g, buf), 0x77, 512);
    ok(request(&g, VIRTIO_BLK_T_OUT, 30, buf, 512, 0, NULL) == VIRTIO_BLK_S_IOERR,
       "write to a read-only disk: IOERR");
    ok(disk_byte(30 * 512) == 30, "file unchanged");
    ok(request(&g, VIRTIO_BLK_T_IN, 30, buf, 512, 1, NULL) == VIRTIO_BLK_S_OK, "read works");
    fg_fini(&g);
}

static void test_negotiation(void)
{
    struct fg g;

    fg_init(&g);
    blk_new(&g, false);
    fg_w32(&g, 0x70, 1);
    fg_w32(&g, 0x70, 3);
    fg_w32(&g, 0x24, 1);
    fg_w32(&g, 0x20, 1 | (1u << 8)); /* VERSION_1 and an unoffered bit 40 */
    fg_w32(&g, 0x70, 11);
    ok(!(fg_r32(&g, 0x70) & 8), "FEATURES_OK refused for features not offered");
    fg_w32(&g, 0x70, 0);
    fg_w32(&g, 0x70, 1);
    fg_w32(&g, 0x70, 3);
    fg_w32(&g, 0x70, 11);
    ok(!(fg_r32(&g, 0x70) & 8), "FEATURES_OK refused without VERSION_1");
    fg_w32(&g, 0x70, 0);
    ok(fg_r32(&g, 0x70) == 0, "reset");
    fg_w32(&g, 0x30, 5);
    ok(fg_r32(&g, 0x34) == 0, "QueueNumMax of a missing queue is 0");
    fg_w32(&g, 0x30, 0);
    ok(fg_r32(&g, 0x34) == 256, "QueueNumMax 256");
    uint8_t b = 0xff;
    g.dev.ops->read(g.dev.state, 0x3, &b, 1);
    ok(b == 0, "narrow register reads return 0");
    g.dev.ops->read(g.dev.state, 0x1000, &b, 1);
    ok(b == 0, "reads past the window return 0");
    fg_w32(&g, 0x70, 1 | 2 | 8 | 4); /* DRIVER_OK before FEATURES_OK was accepted */
    ok(fg_r32(&g, 0x70) & 64, "DRIVER_OK without FEATURES_OK: needs reset");
    fg_fini(&g);
}

static void test_snapshot(void)
{
    struct fg g;
    _cleanup_err_ struct err *e = NULL;

    fg_init(&g);
    blk_new(&g, false);
    fg_setup(&g, ALL_FEATURES, 1, 16);
    uint64_t buf = fg_alloc(&g, 512);
    request(&g, VIRTIO_BLK_T_IN, 5, buf, 512, 1, NULL);
    json_t *s = g.dev.ops->save(g.dev.state);
    ok(s != NULL, "saved");
    /* A new device, same guest memory: restore and continue. */
    g.dev.ops->destroy(g.dev.state);
    blk_new(&g, false);
    ok(g.dev.ops->restore(g.dev.state, s, &e) == 0, "restored%s%s", e ? ": " : "", e ? e->msg : "");
    ok(fg_r32(&g, 0x70) == 15, "status restored");
    ok(request(&g, VIRTIO_BLK_T_IN, 6, buf, 512, 1, NULL) == VIRTIO_BLK_S_OK &&
           ((uint8_t *)fg_ptr(&g, buf))[0] == 6,
       "requests continue after restore");
    json_object_set_new(s, "device", json_string("virtio-net"));
    ok(g.dev.ops->restore(g.dev.state, s, &e) < 0 && e != NULL,
       "restore of another device kind refused");
    json_decref(s);
    fg_fini(&g);
}

/* The ioeventfd registrations follow the queues' state (mmio.h). */
static void test_ioevent(void)
{
    struct fg g;
    _cleanup_err_ struct err *e = NULL;

    fg_init(&g);
    ioev_mode = true;
    ok(blk_new(&g, false) == 0, "ioeventfd: device with a notify thread");
    ok(!g.ioev_on[0], "ioeventfd: nothing registered before the driver is ready");
    fg_w32(&g, 0x70, 1);
    fg_w32(&g, 0x70, 3);
    fg_w32(&g, 0x24, 1);
    fg_w32(&g, 0x20, 1);
    fg_w32(&g, 0x70, 11);
    fg_w32(&g, 0x30, 0);
    fg_w32(&g, 0x38, 16);
    fg_w32(&g, 0x80, (uint32_t)FG_RING_AREA);
    fg_w32(&g, 0x90, (uint32_t)FG_RING_AREA + 0x1000);
    fg_w32(&g, 0xa0, (uint32_t)FG_RING_AREA + 0x2000);
    fg_w32(&g, 0x44, 1);
    ok(!g.ioev_on[0], "ioeventfd: a ready queue before DRIVER_OK is not registered");
    fg_w32(&g, 0x70, 15);
    ok(g.ioev_on[0], "ioeventfd: registered at DRIVER_OK for the ready queue");
    fg_w32(&g, 0x44, 0);
    ok(!g.ioev_on[0], "ioeventfd: removed at QueueReady=0");
    fg_w32(&g, 0x38, 16);
    fg_w32(&g, 0x80, (uint32_t)FG_RING_AREA);
    fg_w32(&g, 0x90, (uint32_t)FG_RING_AREA + 0x1000);
    fg_w32(&g, 0xa0, (uint32_t)FG_RING_AREA + 0x2000);
    fg_w32(&g, 0x44, 1);
    ok(g.ioev_on[0], "ioeventfd: registered again at QueueReady=1 while active");
    fg_w32(&g, 0x70, 0);
    ok(!g.ioev_on[0], "ioeventfd: removed at device reset");
    fg_setup(&g, ALL_FEATURES, 1, 16);
    uint64_t buf = fg_alloc(&g, 512);
    uint64_t served = virtio_mmio_ioevent_count(g.dev.state);
    ok(request(&g, VIRTIO_BLK_T_IN, 9, buf, 512, 1, NULL) == VIRTIO_BLK_S_OK &&
           ((uint8_t *)fg_ptr(&g, buf))[0] == 9 &&
           virtio_mmio_ioevent_count(g.dev.state) == served + 1,
       "ioeventfd: a request served by the notify thread");
    json_t *s = g.dev.ops->save(g.dev.state);
    g.dev.ops->destroy(g.dev.state);
    ok(!g.ioev_on[0], "ioeventfd: removed at destroy");
    blk_new(&g, false);
    ok(g.dev.ops->restore(g.dev.state, s, &e) == 0 && g.ioev_on[0],
       "ioeventfd: registered by restore of an active queue");
    json_decref(s);
    ok(request(&g, VIRTIO_BLK_T_IN, 13, buf, 512, 1, NULL) == VIRTIO_BLK_S_OK &&
           ((uint8_t *)fg_ptr(&g, buf))[0] == 13 && virtio_mmio_ioevent_count(g.dev.state) == 1,
       "ioeventfd: requests after restore go through the notify thread");
    ok(g.ioev_bad == 0, "ioeventfd: no registration KVM would refuse");
    fg_fini(&g);

    /* A hypervisor that refuses: MMIO exits keep working. */
    fg_init(&g);
    g.ioev_fail = true;
    ok(blk_new(&g, false) == 0, "ioeventfd refused: device created");
    ok(fg_setup(&g, ALL_FEATURES, 1, 16) == 15 && g.ioev_calls == 1 && !g.ioev_on[0],
       "ioeventfd refused: one attempt, nothing registered");
    buf = fg_alloc(&g, 512);
    ok(request(&g, VIRTIO_BLK_T_IN, 12, buf, 512, 1, NULL) == VIRTIO_BLK_S_OK &&
           ((uint8_t *)fg_ptr(&g, buf))[0] == 12 && virtio_mmio_ioevent_count(g.dev.state) == 0,
       "ioeventfd refused: requests served by MMIO exits");
    fg_setup(&g, ALL_FEATURES, 1, 16);
    ok(g.ioev_calls == 1, "ioeventfd refused: not retried");
    fg_fini(&g);
    ioev_mode = false;
}

int main(void)
{
    struct fg g;
    _cleanup_err_ struct err *e = NULL;

    if (make_disk() < 0) {
        printf("Bail out! cannot create %s\n", disk);
        return 1;
    }
    test_rw();
    test_ro();
    test_negotiation();
    test_snapshot();
    test_ioevent();
    printf("# the same tests, notifications through the notify thread\n");
    ioev_mode = true;
    test_rw();
    test_ro();
    test_negotiation();
    test_snapshot();
    ioev_mode = false;

    fg_init(&g);
    struct virtio_blk_opts o = {.path = "/nonexistent/isola-disk"};
    ok(virtio_blk_create(&o, &g.mem, fg_irq(&g), &g.dev, &e) < 0 && e &&
           strstr(e->msg, "/nonexistent/isola-disk") != NULL,
       "missing disk: error names the path");
    fg_fini(&g);
    unlink(disk);
    return done_testing();
}
