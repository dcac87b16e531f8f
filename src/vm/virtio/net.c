/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-net on a tap device: virtio 1.2 §5.1. See net.h. */
#include "vm/virtio/net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/js.h"
#include "util/log.h"
#include "vm/virtio/mmio.h"

#define RXQ          0
#define TXQ          1
#define QUEUE_SIZE   256
#define HDR_LEN      ((uint32_t)sizeof(struct virtio_net_hdr_v1)) /* 12 with VERSION_1 (§5.1.6) */
#define MAX_FRAME    (65535u + HDR_LEN)
#define MAX_MRG_BUFS 64 /* chains one frame may take with MRG_RXBUF */

struct net {
    struct virtio_mmio *t;
    int tap, wake;
    char name[IFNAMSIZ];
    struct virtio_net_config cfg;
    pthread_t thread;
    bool thread_started;
    bool stop;       /* under the transport lock */
    bool rx_blocked; /* no rx buffers: stop reading the tap until a notify */
    bool tap_dead;   /* the tap failed (deleted?): never polled again */
    bool mrg;        /* VIRTIO_NET_F_MRG_RXBUF negotiated */
    uint64_t rx_dropped, tx_dropped;
    struct virtqueue_chain tx_chain, rx_chain; /* scratch, used under the lock */
    uint32_t pkt_len;                          /* pending received frame, 0 if none */
    uint8_t pkt[MAX_FRAME];
};

static void net_wake(struct net *n)
{
    uint64_t one = 1;

    if (write(n->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_debug("virtio-net %s: eventfd write: %s", n->name, strerror(errno));
}

static void net_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
    struct net *n = dev;

    virtio_mmio_config_copy(&n->cfg, sizeof(n->cfg), off, data, len);
}

/* §5.1.6.2: the driver's header asks for offloads we did not offer; the tap
 * gets a zeroed header instead, so a guest cannot make the host kernel
 * segment or checksum on its behalf. */
static void net_tx(struct net *n)
{
    static const struct virtio_net_hdr_v1 zero_hdr;
    struct virtqueue *q = virtio_mmio_queue(n->t, TXQ);
    const char *why = NULL;
    bool pushed = false;
    int r;

    do {
        while ((r = virtqueue_pop(q, &n->tx_chain, &why)) > 0) {
            struct virtqueue_chain *c = &n->tx_chain;
            struct iovec iov[VIRTQUEUE_MAX_SEGS + 1];
            if (c->out_len > HDR_LEN && c->out_len - HDR_LEN <= MAX_FRAME - HDR_LEN) {
                iov[0].iov_base = (void *)&zero_hdr;
                iov[0].iov_len = HDR_LEN;
                unsigned int cnt = virtqueue_chain_slice(c, false, HDR_LEN, c->out_len - HDR_LEN,
                                                         iov + 1, VIRTQUEUE_MAX_SEGS);
                if (writev(n->tap, iov, (int)cnt + 1) < 0)
                    n->tx_dropped++;
            } else {
                n->tx_dropped++;
            }
            virtqueue_push(q, c->head, 0);
            pushed = true;
        }
        if (r < 0) {
            virtio_mmio_needs_reset(n->t, why);
            return;
        }
    } while (virtqueue_has_avail(q));
    if (pushed)
        virtio_mmio_notify(n->t, TXQ);
}

static void net_queue_notify(void *dev, unsigned int q)
{
    struct net *n = dev;

    if (q == TXQ)
        net_tx(n);
    else if (q == RXQ && n->rx_blocked)
        net_wake(n);
}

static void net_activate(void *dev, uint64_t features)
{
    struct net *n = dev;

    n->mrg = features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
    net_wake(n);
}

static void net_reset(void *dev)
{
    struct net *n = dev;

    n->pkt_len = 0;
    n->rx_blocked = true;
    n->mrg = false;
}

static int rx_pop(struct net *n, struct virtqueue *q)
{
    const char *why = NULL;
    int r = virtqueue_pop(q, &n->rx_chain, &why);

    if (r == 0 && virtqueue_has_avail(q))
        r = virtqueue_pop(q, &n->rx_chain, &why);
    if (r < 0)
        virtio_mmio_needs_reset(n->t, why);
    return r;
}

/* Deliver the pending frame (§5.1.6.4). Without MRG_RXBUF one chain holds
 * header and frame (a frame too long for it is truncated); with it, the frame
 * is spread over as many chains as it takes and num_buffers says how many.
 * Returns false if the driver has not given enough buffers (the frame stays
 * pending) or on a guest error (the frame is dropped). */
static bool net_rx_deliver(struct net *n)
{
    struct virtqueue *q = virtio_mmio_queue(n->t, RXQ);
    struct virtqueue_chain *c = &n->rx_chain;
    struct virtio_net_hdr_v1 *h = (struct virtio_net_hdr_v1 *)n->pkt;
    uint16_t heads[MAX_MRG_BUFS];
    uint32_t lens[MAX_MRG_BUFS], off = 0;
    struct iovec nb[2];
    unsigned int count = 0, nnb = 0;

    /* No GUEST_CSUM/GUEST_* offloads: flags and GSO fields zero. */
    memset(h, 0, HDR_LEN);
    h->num_buffers = 1;
    while (off < n->pkt_len && count < (n->mrg ? MAX_MRG_BUFS : 1)) {
        int r = rx_pop(n, q);
        if (r < 0) {
            n->pkt_len = 0;
            return false;
        }
        if (r == 0) {
            virtqueue_unpop(q, count); /* wait for more buffers, keep the frame */
            return false;
        }
        if (count == 0)
            nnb = virtqueue_chain_slice(c, true, 10, 2, nb, 2); /* num_buffers */
        uint32_t len = virtqueue_chain_write(c, 0, n->pkt + off, n->pkt_len - off);
        if (len == 0 || (count == 0 && len < HDR_LEN)) {
            virtio_mmio_needs_reset(n->t, "rx buffer smaller than the header");
            n->pkt_len = 0;
            return false;
        }
        heads[count] = c->head;
        lens[count++] = len;
        off += len;
    }
    if (off < n->pkt_len)
        n->rx_dropped++; /* truncated: the driver's buffers are too small */
    if (n->mrg && count > 1) {
        uint16_t v = (uint16_t)count;
        uint8_t *p = (uint8_t *)&v;
        for (unsigned int i = 0, k = 0; i < nnb; i++)
            for (size_t j = 0; j < nb[i].iov_len && k < 2; j++)
                ((uint8_t *)nb[i].iov_base)[j] = p[k++];
    }
    for (unsigned int i = 0; i < count; i++)
        virtqueue_push(q, heads[i], lens[i]);
    virtio_mmio_notify(n->t, RXQ);
    n->pkt_len = 0;
    return true;
}

static void *net_rx_thread(void *arg)
{
    struct net *n = arg;

    for (;;) {
        struct pollfd p[2] = {{.fd = n->wake, .events = POLLIN}, {.fd = n->tap, .events = POLLIN}};
        virtio_mmio_lock(n->t);
        bool stop = n->stop, blocked = n->rx_blocked || n->tap_dead;
        virtio_mmio_unlock(n->t);
        if (stop)
            return NULL;
        if (poll(p, blocked ? 1 : 2, -1) < 0 && errno != EINTR)
            return NULL;
        if (p[0].revents & POLLIN) {
            uint64_t v;
            if (read(n->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
                return NULL;
            virtio_mmio_lock(n->t);
            n->rx_blocked = false;
            virtio_mmio_unlock(n->t);
        }
        for (;;) {
            virtio_mmio_lock(n->t);
            if (n->stop || n->rx_blocked || n->tap_dead) {
                virtio_mmio_unlock(n->t);
                break;
            }
            if (n->pkt_len == 0) {
                ssize_t r = read(n->tap, n->pkt, sizeof(n->pkt));
                if (r < 0 && errno != EAGAIN && errno != EINTR) {
                    /* Without this the thread would spin on POLLERR. */
                    log_warn("virtio-net: tap `%s` failed, receive stopped: %s", n->name,
                             strerror(errno));
                    n->tap_dead = true;
                }
                if (r < 0) {
                    virtio_mmio_unlock(n->t);
                    break; /* EAGAIN: wait in poll */
                }
                if ((size_t)r <= HDR_LEN) {
                    virtio_mmio_unlock(n->t);
                    continue;
                }
                n->pkt_len = (uint32_t)r;
            }
            if (!virtio_mmio_active(n->t)) {
                /* No driver: the frame is lost, as on an unplugged cable. */
                n->pkt_len = 0;
                n->rx_dropped++;
                n->rx_blocked = true;
            } else if (!net_rx_deliver(n)) {
                n->rx_blocked = true;
            }
            virtio_mmio_unlock(n->t);
        }
    }
}

static json_t *net_save(void *dev)
{
    struct net *n = dev;
    char mac[18];

    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->cfg.mac[0], n->cfg.mac[1],
             n->cfg.mac[2], n->cfg.mac[3], n->cfg.mac[4], n->cfg.mac[5]);
    return json_pack("{s:s, s:s}", "tap", n->name, "mac", mac);
}

static int net_restore(void *dev, json_t *state, struct err **err)
{
    struct net *n = dev;
    const char *mac = NULL;
    unsigned int m[6];

    if (js_get_str(state, "state", "mac", true, &mac, err) < 0)
        return -1;
    if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
        return err_val(err, EINVAL, "state.mac: bad MAC address `%s`", mac);
    for (int i = 0; i < 6; i++)
        n->cfg.mac[i] = (uint8_t)m[i];
    n->pkt_len = 0;
    n->rx_blocked = false;
    n->mrg = virtio_mmio_features(n->t) & (1ull << VIRTIO_NET_F_MRG_RXBUF);
    net_wake(n);
    return 0;
}

static void net_destroy(void *dev)
{
    struct net *n = dev;

    if (n == NULL)
        return;
    if (n->thread_started) {
        virtio_mmio_lock(n->t);
        n->stop = true;
        virtio_mmio_unlock(n->t);
        net_wake(n);
        pthread_join(n->thread, NULL);
    }
    if (n->tap >= 0)
        close(n->tap);
    if (n->wake >= 0)
        close(n->wake);
    free(n);
}

static const struct virtio_dev_ops net_ops = {
    .name = "virtio-net",
    .device_id = 1,
    .nqueues = 2,
    .queue_max = QUEUE_SIZE,
    .features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
                (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_F_INDIRECT_DESC) |
                (1ull << VIRTIO_F_EVENT_IDX),
    .config_read = net_config_read,
    .activate = net_activate,
    .queue_notify = net_queue_notify,
    .reset = net_reset,
    .save = net_save,
    .restore = net_restore,
    .destroy = net_destroy,
};

static int tap_open(const struct virtio_net_opts *o, char name[IFNAMSIZ], struct err **err)
{
    _cleanup_close_ int fd = -1;
    struct ifreq ifr;
    int hdr = HDR_LEN;

    if (o->fd < 0) {
        if (o->tap == NULL || o->tap[0] == '\0' || strlen(o->tap) >= IFNAMSIZ)
            return err_val(err, EINVAL, "tap name `%s` is empty or too long", o->tap ? o->tap : "");
        if (!o->create && if_nametoindex(o->tap) == 0)
            return err_val(err, ENODEV,
                           "tap `%s` does not exist (create it: ip tuntap add %s mode tap)", o->tap,
                           o->tap);
        fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return err_sys(err, "open /dev/net/tun for tap `%s`", o->tap);
        memset(&ifr, 0, sizeof(ifr));
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        strncpy(ifr.ifr_name, o->tap, IFNAMSIZ - 1);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
            return err_sys(err, "attach to tap `%s` (TUNSETIFF; is it a tap, and free?)", o->tap);
    } else {
        fd = o->fd;
        memset(&ifr, 0, sizeof(ifr));
        if (ioctl(fd, TUNGETIFF, &ifr) < 0)
            return err_sys(err, "tap fd %d (TUNGETIFF)", fd);
        if ((ifr.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)) !=
            (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
            return err_val(err, EINVAL, "tap `%s`: fd lacks IFF_TAP|IFF_NO_PI|IFF_VNET_HDR",
                           ifr.ifr_name);
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
            return err_sys(err, "tap `%s`: set O_NONBLOCK", ifr.ifr_name);
    }
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    name[IFNAMSIZ - 1] = '\0';
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
        return err_sys(err, "tap `%s`: TUNSETVNETHDRSZ", name);
    if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
        return err_sys(err, "tap `%s`: TUNSETOFFLOAD", name);
    return steal_fd(&fd);
}

int virtio_net_create(const struct virtio_net_opts *o, const struct vm_mem *mem, struct vm_irq irq,
                      struct vm_dev *out, struct err **err)
{
    struct net *n = calloc(1, sizeof(*n));
    char name[IFNAMSIZ];
    int r;

    if (n == NULL)
        return err_set(err, ENOMEM, "virtio-net");
    n->wake = -1;
    n->tap = tap_open(o, name, err);
    if (n->tap < 0) {
        free(n);
        return -1;
    }
    memcpy(n->name, name, IFNAMSIZ);
    n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (n->wake < 0) {
        err_sys(err, "virtio-net `%s`: eventfd", n->name);
        net_destroy(n);
        return -1;
    }
    if (o->mac != NULL) {
        memcpy(n->cfg.mac, o->mac, 6);
    } else {
        if (getrandom(n->cfg.mac, 6, 0) != 6)
            memset(n->cfg.mac, 0x42, 6);
        n->cfg.mac[0] = (uint8_t)((n->cfg.mac[0] & 0xfe) | 0x02); /* unicast, local */
    }
    n->cfg.status = VIRTIO_NET_S_LINK_UP;
    n->cfg.max_virtqueue_pairs = 1;
    n->rx_blocked = true;
    if (virtio_mmio_create(&net_ops, n, mem, irq, out, err) < 0)
        return err_wrap(err, "tap `%s`", name);
    n->t = out->state;
    r = vm_dev_thread_start(&n->thread, net_rx_thread, n);
    if (r != 0) {
        out->ops->destroy(out->state);
        memset(out, 0, sizeof(*out));
        return err_set(err, r, "virtio-net `%s`: start receive thread", name);
    }
    n->thread_started = true;
    return 0;
}
