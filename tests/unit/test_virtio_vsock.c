/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-vsock driven by a fake guest, with host programs played by this
 * test over the unix sockets: guest- and host-initiated connections, data
 * both ways, shutdown, reset, credit violations and malformed packets.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_vsock.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "virtio_guest.h"
#include "vm/virtio/vsock.h"

#define CID   42
#define RXBUF (4096 + 44)
#define NRX   32
#define QSIZE 64

static char dir[48], uds[64];
static struct fg g;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct virtio_vsock_hdr hdr(uint32_t src_port, uint32_t dst_port, uint16_t op)
{
    struct virtio_vsock_hdr h = {.src_cid = CID,
                                 .dst_cid = 2,
                                 .src_port = src_port,
                                 .dst_port = dst_port,
                                 .type = VIRTIO_VSOCK_TYPE_STREAM,
                                 .op = op,
                                 .buf_alloc = 65536};
    return h;
}

/* Guest sends one packet: header and payload in two readable buffers. */
static void guest_tx(struct virtio_vsock_hdr h, const void *payload, uint32_t len)
{
    uint64_t hb = fg_alloc(&g, 44), pb = fg_alloc(&g, len ? len : 1);
    struct fg_seg segs[2] = {{hb, 44, 0}, {pb, len, 0}};
    uint32_t id, ulen;

    if (h.op == VIRTIO_VSOCK_OP_RW && h.len == 0)
        h.len = len;
    memcpy(fg_ptr(&g, hb), &h, 44);
    if (len)
        memcpy(fg_ptr(&g, pb), payload, len);
    fg_add(&g, 1, segs, len ? 2 : 1);
    fg_kick(&g, 1);
    while (fg_get_used(&g, 1, &id, &ulen) == 1)
        ;
}

/* Wait (bounded) for the next packet the device puts in the rx queue; the
 * buffer is given back to the device at once. */
static int guest_rx(struct virtio_vsock_hdr *h, char *payload, size_t max)
{
    double end = now() + 10;
    uint32_t id, len;

    while (now() < end) {
        if (fg_get_used(&g, 0, &id, &len) != 1) {
            usleep(500);
            continue;
        }
        uint8_t *p = fg_ptr(&g, fg_desc(&g, 0, (uint16_t)id)->addr);
        memcpy(h, p, 44);
        size_t n = len - 44 < max ? len - 44 : max;
        if (payload != NULL) {
            memcpy(payload, p + 44, n);
            payload[n < max ? n : max - 1] = '\0';
        }
        fg_publish(&g, 0, (uint16_t)id);
        fg_kick(&g, 0);
        return 1;
    }
    return 0;
}

/* The next packet with operation op (others, such as RSTs left over from an
 * earlier test, are skipped). */
static int guest_rx_op(uint16_t op, struct virtio_vsock_hdr *h)
{
    while (guest_rx(h, NULL, 0))
        if (h->op == op)
            return 1;
    return 0;
}

static int wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 10000) == 1;
}

static int listen_port(uint32_t port)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", uds, port);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
        return -1;
    return fd;
}

static int connect_uds(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", uds);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -1;
    return fd;
}

static void test_guest_initiated(void)
{
    struct virtio_vsock_hdr h;
    char buf[256];

    int l = listen_port(5000);
    ok(l >= 0, "host program listens on %s_5000", uds);
    guest_tx(hdr(1234, 5000, VIRTIO_VSOCK_OP_REQUEST), NULL, 0);
    ok(wait_readable(l), "guest connect reaches the host listener");
    int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    ok(guest_rx(&h, NULL, 0) && h.op == VIRTIO_VSOCK_OP_RESPONSE && h.src_port == 5000 &&
           h.dst_port == 1234 && h.src_cid == 2 && h.dst_cid == CID,
       "guest gets RESPONSE from host port 5000");
    ok(h.buf_alloc == VIRTIO_VSOCK_BUF_ALLOC, "device advertises its buffer");

    guest_tx(hdr(1234, 5000, VIRTIO_VSOCK_OP_RW), "ping", 4);
    ok(wait_readable(s) && read(s, buf, sizeof(buf)) == 4 && memcmp(buf, "ping", 4) == 0,
       "guest -> host bytes");
    ok(write(s, "pong!", 5) == 5, "host writes");
    ok(guest_rx(&h, buf, sizeof(buf)) && h.op == VIRTIO_VSOCK_OP_RW && h.len == 5 &&
           strcmp(buf, "pong!") == 0,
       "host -> guest bytes");

    /* 200 KiB from the host: delivered in packets within the guest's credit. */
    size_t total = 200 * 1024, got = 0, sent = 0;
    char *big = malloc(total);
    for (size_t i = 0; i < total; i++)
        big[i] = (char)(i * 7);
    int bad = 0;
    uint32_t fwd = 0;
    double end = now() + 20;
    while (got < total && now() < end) {
        if (sent < total) {
            ssize_t w = send(s, big + sent, total - sent, MSG_DONTWAIT);
            if (w > 0)
                sent += (size_t)w;
        }
        static char pkt[RXBUF];
        if (!guest_rx(&h, pkt, sizeof(pkt)))
            break;
        if (h.op != VIRTIO_VSOCK_OP_RW)
            continue;
        if (h.len > 65536 || memcmp(pkt, big + got, h.len) != 0)
            bad = 1;
        got += h.len;
        fwd += h.len;
        /* The guest consumes and tells the device (credit update). */
        struct virtio_vsock_hdr cu = hdr(1234, 5000, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
        cu.fwd_cnt = fwd + 5;
        guest_tx(cu, NULL, 0);
    }
    ok(got == total && !bad, "200 KiB host -> guest in order (%zu bytes)", got);
    free(big);

    /* Guest -> host beyond one packet, with the device's credit. */
    char chunk[4096];
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 16; i++)
        guest_tx(hdr(1234, 5000, VIRTIO_VSOCK_OP_RW), chunk, sizeof(chunk));
    size_t rd = 0;
    while (rd < 16 * sizeof(chunk) && wait_readable(s)) {
        ssize_t n = read(s, chunk, sizeof(chunk));
        if (n <= 0)
            break;
        rd += (size_t)n;
    }
    ok(rd == 16 * sizeof(chunk), "64 KiB guest -> host");

    guest_tx(hdr(1234, 5000, VIRTIO_VSOCK_OP_SHUTDOWN), NULL, 0);
    struct virtio_vsock_hdr sh = hdr(1234, 5000, VIRTIO_VSOCK_OP_SHUTDOWN);
    sh.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
    guest_tx(sh, NULL, 0);
    int rst = 0;
    while (guest_rx(&h, NULL, 0))
        if (h.op == VIRTIO_VSOCK_OP_RST && h.dst_port == 1234) {
            rst = 1;
            break;
        }
    ok(rst, "full shutdown from the guest is answered with RST");
    ok(wait_readable(s) && read(s, buf, sizeof(buf)) == 0, "host side sees EOF");
    close(s);

    guest_tx(hdr(1234, 5000, VIRTIO_VSOCK_OP_RW), "late", 4);
    ok(guest_rx(&h, NULL, 0) && h.op == VIRTIO_VSOCK_OP_RST, "data on a closed connection: RST");

    guest_tx(hdr(1235, 5001, VIRTIO_VSOCK_OP_REQUEST), NULL, 0);
    ok(guest_rx(&h, NULL, 0) && h.op == VIRTIO_VSOCK_OP_RST && h.dst_port == 1235,
       "connect to a port nobody listens on: RST");
    close(l);
    char p[160];
    snprintf(p, sizeof(p), "%s_5000", uds);
    unlink(p);
}

static void test_host_initiated(void)
{
    struct virtio_vsock_hdr h;
    char buf[256];

    int s = connect_uds();
    ok(s >= 0, "host program connects to %s", uds);
    ok(write(s, "CONNECT 7000\nhello", 18) == 18, "asks for guest port 7000, data follows");
    ok(guest_rx(&h, NULL, 0) && h.op == VIRTIO_VSOCK_OP_REQUEST && h.dst_port == 7000 &&
           h.src_port >= (1u << 30),
       "guest gets REQUEST to port 7000 from host port %u", h.src_port);
    uint32_t hp = h.src_port;
    guest_tx(hdr(7000, hp, VIRTIO_VSOCK_OP_RESPONSE), NULL, 0);
    char expect[32];
    snprintf(expect, sizeof(expect), "OK %u\n", hp);
    ssize_t n = wait_readable(s) ? read(s, buf, strlen(expect)) : -1;
    ok(n == (ssize_t)strlen(expect) && memcmp(buf, expect, (size_t)n) == 0,
       "host program reads `OK %u`", hp);
    ok(guest_rx(&h, buf, sizeof(buf)) && h.op == VIRTIO_VSOCK_OP_RW && strcmp(buf, "hello") == 0,
       "bytes written after the CONNECT line reach the guest");
    guest_tx(hdr(7000, hp, VIRTIO_VSOCK_OP_RW), "world", 5);
    ok(wait_readable(s) && read(s, buf, sizeof(buf)) == 5 && memcmp(buf, "world", 5) == 0,
       "guest -> host on a host-initiated connection");

    /* Credit violation: more than the device's buffer in flight. */
    struct virtio_vsock_hdr big = hdr(7000, hp, VIRTIO_VSOCK_OP_RW);
    static char blob[65536];
    int rst = 0;
    /* The host never reads: the socket buffer and then the device's 256 KiB
     * fill up, and the guest (ignoring credit) overruns it. */
    for (int i = 0; i < 24; i++)
        guest_tx(big, blob, sizeof(blob));
    while (guest_rx(&h, NULL, 0))
        if (h.op == VIRTIO_VSOCK_OP_RST && h.dst_port == 7000) {
            rst = 1;
            break;
        }
    ok(rst, "guest overrunning its credit gets RST");
    close(s);

    s = connect_uds();
    ok(s >= 0 && write(s, "CONNECT x\n", 10) == 10, "bad CONNECT line sent");
    ok(wait_readable(s) && read(s, buf, sizeof(buf)) == 0, "device closes the connection");
    close(s);

    s = connect_uds();
    ok(write(s, "CONNECT 7001\n", 13) == 13, "CONNECT 7001");
    ok(guest_rx_op(VIRTIO_VSOCK_OP_REQUEST, &h) && h.dst_port == 7001, "REQUEST to the guest");
    guest_tx(hdr(7001, h.src_port, VIRTIO_VSOCK_OP_RST), NULL, 0);
    ok(wait_readable(s) && read(s, buf, sizeof(buf)) == 0, "guest refuses: host sees EOF");
    close(s);
}

static void test_hostile(void)
{
    struct virtio_vsock_hdr h;

    /* A header too short, from another CID, to another CID: dropped. */
    uint64_t b = fg_alloc(&g, 16);
    struct fg_seg short_hdr = {b, 16, 0};
    fg_add(&g, 1, &short_hdr, 1);
    fg_kick(&g, 1);
    struct virtio_vsock_hdr x = hdr(1, 5000, VIRTIO_VSOCK_OP_REQUEST);
    x.src_cid = 7;
    guest_tx(x, NULL, 0);
    x = hdr(1, 5000, VIRTIO_VSOCK_OP_REQUEST);
    x.dst_cid = 99;
    guest_tx(x, NULL, 0);
    /* Length field larger than the payload: RST. */
    x = hdr(9, 9, VIRTIO_VSOCK_OP_RW);
    x.len = 1000;
    guest_tx(x, "abc", 3);
    ok(guest_rx_op(VIRTIO_VSOCK_OP_RST, &h) && h.dst_port == 9,
       "len beyond the payload: RST (earlier bad packets dropped silently)");
    x = hdr(10, 10, VIRTIO_VSOCK_OP_REQUEST);
    x.type = 2;
    guest_tx(x, NULL, 0);
    ok(guest_rx_op(VIRTIO_VSOCK_OP_RST, &h) && h.dst_port == 10, "SEQPACKET not offered: RST");
    ok((fg_r32(&g, 0x70) & 64) == 0, "none of it needs a device reset");

    struct vring_desc *d = fg_desc(&g, 1, 50);
    d[0] = (struct vring_desc){b, 44, VRING_DESC_F_NEXT, 50};
    fg_publish(&g, 1, 50);
    fg_kick(&g, 1);
    ok(fg_r32(&g, 0x70) & 64, "looping tx chain: DEVICE_NEEDS_RESET");
}

static struct reaper reaper;

int main(void)
{
    _cleanup_err_ struct err *e = NULL;

    snprintf(dir, sizeof(dir), "/tmp/isola-test-vsock-%d", getpid());
    snprintf(uds, sizeof(uds), "%s/v.sock", dir);
    if (mkdir(dir, 0700) < 0) {
        printf("Bail out! mkdir %s: %s\n", dir, strerror(errno));
        return 1;
    }
    fg_init(&g);
    reaper_init(&reaper);
    struct virtio_vsock_opts o = {.guest_cid = 2, .uds_path = uds};
    ok(virtio_vsock_create(&o, &g.mem, fg_irq(&g), &g.dev, &e) < 0 && e, "CID 2 refused");
    err_free(&e);
    o.guest_cid = CID;
    int f = open(uds, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    close(f);
    ok(virtio_vsock_create(&o, &g.mem, fg_irq(&g), &g.dev, &e) < 0 && e &&
           strstr(e->msg, "not a socket"),
       "a regular file at the socket path is not replaced");
    err_free(&e);
    unlink(uds);
    /* A stale socket (nobody listening) is replaced. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", uds);
    int stale = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ok(stale >= 0 && bind(stale, (struct sockaddr *)&sa, sizeof(sa)) == 0, "stale socket made");
    close(stale);
    o.reaper = &reaper;
    ok(virtio_vsock_create(&o, &g.mem, fg_irq(&g), &g.dev, &e) == 0, "virtio-vsock created%s%s",
       e ? ": " : "", e ? e->msg : "");
    if (g.dev.ops == NULL)
        goto out;
    struct stat us;
    ok(reaper.nfiles == 1 && strcmp(reaper.files[0].path, uds) == 0 && stat(uds, &us) == 0 &&
           reaper.files[0].ino == us.st_ino,
       "listening socket registered with the cleanup watcher (util/reaper.h)");
    struct vm_dev other;
    ok(virtio_vsock_create(&o, &g.mem, fg_irq(&g), &other, &e) < 0 && e && strstr(e->msg, "in use"),
       "second device on the same socket refused");
    ok(reaper.nfiles == 1, "a refused device registers nothing");
    err_free(&e);
    ok(fg_r32(&g, 8) == 19, "device id 19");
    uint64_t cid = 0;
    fg_config(&g, 0, &cid, 8);
    ok(cid == CID, "guest CID in config space");
    ok(fg_setup(&g, ~0ull, 3, QSIZE) == 15, "driver OK");
    for (int i = 0; i < NRX; i++) {
        struct fg_seg s = {fg_alloc(&g, RXBUF), RXBUF, 1};
        fg_add(&g, 0, &s, 1);
    }
    for (int i = 0; i < 4; i++) {
        struct fg_seg s = {fg_alloc(&g, 8), 8, 1};
        fg_add(&g, 2, &s, 1);
    }
    g.data_base = g.data_next; /* keep the rx and event buffers */
    fg_kick(&g, 0);

    test_guest_initiated();
    /* From here on, notifications go through the transport's notify thread (a
     * fake ioeventfd, registered now for the active queues). */
    ok(fg_use_ioevent(&g) == 0 && g.ioev_on[0] && g.ioev_on[1] && g.ioev_on[2],
       "ioeventfd for the three queues");
    test_host_initiated();

    json_t *st = g.dev.ops->save(g.dev.state);
    ok(g.dev.ops->restore(g.dev.state, st, &e) == 0, "save/restore");
    json_decref(st);
    uint32_t id, len;
    ok(fg_get_used(&g, 2, &id, &len) == 1 && len == 4 &&
           *(uint32_t *)fg_ptr(&g, fg_desc(&g, 2, (uint16_t)id)->addr) ==
               VIRTIO_VSOCK_EVENT_TRANSPORT_RESET,
       "TRANSPORT_RESET event after restore");

    test_hostile();
    ok(g.ioev_bad == 0 && virtio_mmio_ioevent_count(g.dev.state) > 0,
       "notifications served by the notify thread");
out:
    fg_fini(&g);
    struct stat sb;
    ok(stat(uds, &sb) < 0 && errno == ENOENT, "socket removed with the device");
    reaper_stop(&reaper);
    fs_rm_rf(dir, &e);
    return done_testing();
}
