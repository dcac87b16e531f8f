/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net on a real tap, driven by a fake guest. The test creates its own
 * tap (ivt<pid>), exchanges frames with it through an AF_PACKET socket and
 * deletes it in every outcome (exit, failure, fatal signal).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "virtio_guest.h"
#include "vm/virtio/net.h"

#define ETHERTYPE_TEST 0x88b5 /* IEEE local experimental */

static char tapname[IFNAMSIZ];
static int tap_made;

static void tap_delete(void)
{
    struct ifreq ifr;
    int fd;

    if (!tap_made)
        return;
    tap_made = 0;
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    memcpy(ifr.ifr_name, tapname, sizeof(tapname));
    if (ioctl(fd, TUNSETIFF, &ifr) == 0)
        ioctl(fd, TUNSETPERSIST, 0);
    close(fd);
}

static void on_signal(int sig)
{
    tap_delete();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int tap_create(void)
{
    struct ifreq ifr;
    int fd, s;

    snprintf(tapname, sizeof(tapname), "ivt%d", getpid());
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    memcpy(ifr.ifr_name, tapname, sizeof(tapname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
        close(fd);
        return -1;
    }
    tap_made = 1;
    close(fd);
    /* No IPv6 chatter (router solicitations, MLD) to fill the guest's buffers. */
    char path[128];
    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", tapname);
    int d = open(path, O_WRONLY | O_CLOEXEC);
    if (d >= 0) {
        if (write(d, "1", 1) != 1)
            printf("# could not disable IPv6 on %s\n", tapname);
        close(d);
    }
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, tapname, sizeof(tapname));
    ifr.ifr_flags = IFF_UP;
    int r = ioctl(s, SIOCSIFFLAGS, &ifr);
    close(s);
    return r;
}

static int packet_socket(int ifindex)
{
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};

    if (s >= 0 && bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        close(s);
        return -1;
    }
    return s;
}

static size_t make_frame(uint8_t *f, const uint8_t *src, const char *payload)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, src, 6);
    f[12] = ETHERTYPE_TEST >> 8;
    f[13] = ETHERTYPE_TEST & 0xff;
    size_t n = strlen(payload);
    memcpy(f + 14, payload, n);
    memset(f + 14 + n, 0, 60 - 14 - n < 60 ? 60 - 14 - n : 0);
    return 14 + n < 60 ? 60 : 14 + n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait (bounded) for a frame with our ethertype and payload on socket s. */
static int wait_frame(int s, const char *payload, uint8_t *src)
{
    uint8_t buf[2048];
    double end = now() + 10;

    while (now() < end) {
        struct pollfd p = {.fd = s, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(s, buf, sizeof(buf), 0);
        if (n < 14 + (ssize_t)strlen(payload))
            continue;
        if (buf[12] == ETHERTYPE_TEST >> 8 && buf[13] == (ETHERTYPE_TEST & 0xff) &&
            memcmp(buf + 14, payload, strlen(payload)) == 0) {
            memcpy(src, buf + 6, 6);
            return 0;
        }
    }
    return -1;
}

/* Send the frame (again every 100 ms: until the kernel's link watch has
 * activated the tap's queue after the device attached, frames are dropped)
 * and wait, bounded, for a used rx entry carrying the payload. */
static int wait_rx(struct fg *g, int ps, const struct sockaddr_ll *to, const uint8_t *frame,
                   size_t flen, const uint64_t *bufs, unsigned int nbufs, const char *payload,
                   uint32_t *len_out, uint64_t *buf_out)
{
    double end = now() + 10, next_send = 0;

    while (now() < end) {
        uint32_t id, len;
        if (now() >= next_send) {
            if (sendto(ps, frame, flen, 0, (const struct sockaddr *)to, sizeof(*to)) !=
                (ssize_t)flen)
                return -1;
            next_send = now() + 0.1;
        }
        if (fg_get_used(g, 0, &id, &len) != 1) {
            usleep(1000);
            continue;
        }
        if (id >= nbufs || len < 12 + 14)
            continue;
        uint8_t *p = fg_ptr(g, bufs[id]);
        if (p[12 + 12] == ETHERTYPE_TEST >> 8 &&
            memcmp(p + 12 + 14, payload, strlen(payload)) == 0) {
            *len_out = len;
            *buf_out = bufs[id];
            return 1;
        }
    }
    return 0;
}

int main(void)
{
    struct fg g;
    _cleanup_err_ struct err *e = NULL;
    char name[IFNAMSIZ], payload[64];
    uint8_t frame[128], src[6];

    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        skip("/dev/net/tun is missing or not accessible: virtio-net tests need a tap");
        return done_testing();
    }
    fg_init(&g);
    snprintf(name, sizeof(name), "ivx%d", getpid());
    struct virtio_net_opts o = {.tap = name, .fd = -1};
    ok(virtio_net_create(&o, &g.mem, fg_irq(&g), &g.dev, &e) < 0 && e && strstr(e->msg, name) &&
           strstr(e->msg, "does not exist"),
       "missing tap: error names it");
    if (e)
        printf("#   %s\n", e->msg);
    err_free(&e);

    atexit(tap_delete);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGSEGV, on_signal);
    signal(SIGABRT, on_signal);
    signal(SIGBUS, on_signal);
    if (tap_create() < 0) {
        if (errno == EPERM || errno == EACCES) {
            printf("# creating tap %s: %s\n", tapname, strerror(errno));
            skip("no permission to create a tap (needs CAP_NET_ADMIN)");
        } else {
            ok(0, "create tap %s: %s", tapname, strerror(errno));
        }
        return done_testing();
    }
    int ifindex = (int)if_nametoindex(tapname);
    int ps = packet_socket(ifindex);
    ok(ps >= 0, "packet socket on %s", tapname);

    static const uint8_t mac[6] = {0x02, 0x15, 0x01, 0xa0, 0x00, 0x01};
    o = (struct virtio_net_opts){.tap = tapname, .fd = -1, .mac = mac};
    ok(virtio_net_create(&o, &g.mem, fg_irq(&g), &g.dev, &e) == 0, "virtio-net on %s%s%s", tapname,
       e ? ": " : "", e ? e->msg : "");
    if (g.dev.ops == NULL)
        return done_testing();
    ok(fg_r32(&g, 8) == 1, "device id 1");
    uint8_t cmac[6];
    fg_config(&g, 0, cmac, 6);
    ok(memcmp(cmac, mac, 6) == 0, "MAC in config space");
    uint16_t status = 0;
    fg_config(&g, 6, &status, 2);
    ok(status == VIRTIO_NET_S_LINK_UP, "link up");
    ok(fg_setup(&g, ~0ull, 2, 64) == 15, "driver OK");

    /* Transmit: the header carries a GSO request the device must not pass on. */
    snprintf(payload, sizeof(payload), "isola-tx-%d", getpid());
    uint64_t hdr = fg_alloc(&g, 12), data = fg_alloc(&g, 128);
    struct virtio_net_hdr_v1 h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                  .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                  .gso_size = 1000,
                                  .csum_start = 9999};
    memcpy(fg_ptr(&g, hdr), &h, sizeof(h));
    size_t flen = make_frame(fg_ptr(&g, data), mac, payload);
    struct fg_seg tx[] = {{hdr, 12, 0}, {data, (uint32_t)flen, 0}};
    fg_add(&g, 1, tx, 2);
    fg_kick(&g, 1);
    uint32_t id, len;
    ok(fg_get_used(&g, 1, &id, &len) == 1 && len == 0, "tx chain returned");
    ok(wait_frame(ps, payload, src) == 0 && memcmp(src, mac, 6) == 0,
       "frame sent by the guest arrives on the tap");
    /* From here on, notifications go through the transport's notify thread (a
     * fake ioeventfd, registered now for the active queues). */
    ok(fg_use_ioevent(&g) == 0 && g.ioev_on[0] && g.ioev_on[1], "ioeventfd for both queues");

    /* Receive. */
    uint64_t bufs[32];
    for (unsigned int i = 0; i < 32; i++) {
        bufs[i] = fg_alloc(&g, 2048);
        struct fg_seg s = {bufs[i], 2048, 1};
        fg_add(&g, 0, &s, 1);
    }
    fg_ack(&g);
    g.irq_raises = 0;
    fg_kick(&g, 0);
    snprintf(payload, sizeof(payload), "isola-rx-%d", getpid());
    static const uint8_t hostmac[6] = {0x02, 0x15, 0x01, 0xa0, 0x00, 0x02};
    flen = make_frame(frame, hostmac, payload);
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};
    memset(to.sll_addr, 0xff, 6);
    uint64_t got = 0;
    ok(wait_rx(&g, ps, &to, frame, flen, bufs, 32, payload, &len, &got) == 1 && len == 12 + flen,
       "guest received the frame with a 12-byte header");
    struct virtio_net_hdr_v1 *rh = got ? fg_ptr(&g, got) : NULL;
    ok(rh && rh->num_buffers == 1 && rh->flags == 0 && rh->gso_type == 0,
       "rx header: one buffer, no offload flags");
    ok(__atomic_load_n(&g.irq_raises, __ATOMIC_SEQ_CST) > 0, "rx interrupt raised");

    /* MRG_RXBUF: a frame larger than one buffer spreads over several, the
     * first header says how many (§5.1.6.4). */
    ok(fg_setup(&g, ~0ull, 2, 64) == 15, "driver OK again after a reset");
    uint64_t small[16];
    for (unsigned int i = 0; i < 16; i++) {
        small[i] = fg_alloc(&g, 48);
        struct fg_seg sg = {small[i], 48, 1};
        fg_add(&g, 0, &sg, 1);
    }
    fg_kick(&g, 0);
    snprintf(payload, sizeof(payload), "isola-mrg-%d-0123456789abcdef0123456789", getpid());
    flen = make_frame(frame, hostmac, payload); /* 12 + flen > 48: 2 or more buffers */
    uint8_t joined[256];
    unsigned int nbuf = 0, want = 0;
    size_t jl = 0;
    double end = now() + 10, next_send = 0;
    while (now() < end && (want == 0 || nbuf < want)) {
        if (now() >= next_send) {
            sendto(ps, frame, flen, 0, (struct sockaddr *)&to, sizeof(to));
            next_send = now() + 0.1;
        }
        if (fg_get_used(&g, 0, &id, &len) != 1) {
            usleep(1000);
            continue;
        }
        uint8_t *p = fg_ptr(&g, small[id & 15]);
        if (want == 0) {
            struct virtio_net_hdr_v1 *mh = (struct virtio_net_hdr_v1 *)p;
            if (len < 12 + 14 + 6 || p[12 + 12] != ETHERTYPE_TEST >> 8)
                continue; /* a resend's leftovers, or not ours */
            want = mh->num_buffers;
            jl = 0;
        }
        if (jl + len <= sizeof(joined)) {
            memcpy(joined + jl, p, len);
            jl += len;
        }
        nbuf++;
    }
    ok(want == (12 + flen + 47) / 48 && nbuf == want, "frame of %zu bytes in %u buffers of 48",
       12 + flen, want);
    ok(jl == 12 + flen && memcmp(joined + 12, frame, flen) == 0, "buffers join to the frame");

    /* A too-short tx chain is dropped but returned; a looping one breaks it. */
    struct fg_seg short_tx = {hdr, 8, 0};
    fg_add(&g, 1, &short_tx, 1);
    fg_kick(&g, 1);
    ok(fg_get_used(&g, 1, &id, &len) == 1, "short tx chain returned");
    struct vring_desc *d = fg_desc(&g, 1, 40);
    d[0] = (struct vring_desc){hdr, 12, VRING_DESC_F_NEXT, 41};
    d[1] = (struct vring_desc){data, 60, VRING_DESC_F_NEXT, 40};
    fg_publish(&g, 1, 40);
    fg_kick(&g, 1);
    ok(fg_r32(&g, 0x70) & 64, "looping tx chain: DEVICE_NEEDS_RESET");

    json_t *s = g.dev.ops->save(g.dev.state);
    ok(s && json_object_get(s, "state") &&
           strcmp(json_string_value(json_object_get(json_object_get(s, "state"), "tap")),
                  tapname) == 0,
       "save names the tap");
    json_decref(s);
    ok(g.ioev_bad == 0 && virtio_mmio_ioevent_count(g.dev.state) > 0,
       "notifications served by the notify thread");

    fg_fini(&g);
    ok(!g.ioev_on[0] && !g.ioev_on[1], "ioeventfds removed with the device");
    close(ps);
    tap_delete();
    ok(if_nametoindex(tapname) == 0, "tap %s deleted", tapname);
    return done_testing();
}
