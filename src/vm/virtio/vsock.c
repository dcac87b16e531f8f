/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-vsock with Firecracker-style unix socket host side: virtio 1.2
 * §5.10. See vsock.h. */
#include "vm/virtio/vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_vsock.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/js.h"
#include "util/log.h"
#include "vm/virtio/mmio.h"

#define RXQ             0
#define TXQ             1
#define EVQ             2
#define HOST_CID        2
#define HDR_LEN         ((uint32_t)sizeof(struct virtio_vsock_hdr)) /* 44 */
#define MAX_PKT         (64u * 1024) /* VIRTIO_VSOCK_MAX_PKT_BUF_SIZE of Linux */
#define MAX_CONNS       256
#define MAX_RSTS        64
#define LOCAL_PORT_BASE (1u << 30) /* host ports of host-initiated connections */
#define BUF_ALLOC       VIRTIO_VSOCK_BUF_ALLOC

enum conn_state {
    CS_CONNECT_LINE, /* host-initiated: reading "CONNECT <port>\n" */
    CS_REQUEST_SENT, /* host-initiated: waiting for the guest's RESPONSE */
    CS_ESTABLISHED,
};

struct conn {
    struct conn *next;
    int fd;
    enum conn_state state;
    uint32_t local_port, peer_port;
    /* Host -> guest credit (§5.10.6.3): what the guest told us, what we sent. */
    uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
    /* Guest -> host: received, forwarded to the socket, fwd_cnt last told. */
    uint32_t rx_cnt, fwd_cnt, fwd_cnt_sent;
    uint8_t *buf; /* guest bytes the socket has not taken yet (BUF_ALLOC) */
    uint32_t buf_len;
    bool readable;     /* socket readable, not read yet */
    bool hup;          /* poll reported hang-up or error */
    bool host_eof;     /* the host closed its side; SHUTDOWN sent */
    bool shut_wr;      /* guest SHUTDOWN SEND: shutdown(SHUT_WR) once buf drained */
    bool peer_no_recv; /* guest SHUTDOWN RCV: send no more data */
    bool want_request, want_response, want_credit, want_rst;
    bool dead; /* closed and freed by the device thread */
    char line[32];
    uint32_t line_len;
};

struct rst {
    uint32_t local_port, peer_port;
};

struct vsock {
    struct virtio_mmio *t;
    uint64_t cid;
    struct virtio_vsock_config cfg;
    char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int listen_fd, wake;
    pthread_t thread;
    bool thread_started, stop;
    struct conn *conns;
    unsigned int nconns;
    uint32_t next_local_port;
    struct rst rsts[MAX_RSTS];
    unsigned int nrsts;
    bool rx_blocked;
    bool have_chain; /* rx_chain popped, not used yet */
    bool want_transport_reset;
    struct virtqueue_chain rx_chain, tx_chain, ev_chain;
};

static void vsock_wake(struct vsock *v)
{
    uint64_t one = 1;

    if (write(v->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_debug("virtio-vsock: eventfd write: %s", strerror(errno));
}

static void vsock_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
    struct vsock *v = dev;

    virtio_mmio_config_copy(&v->cfg, sizeof(v->cfg), off, data, len);
}

static struct conn *conn_find(struct vsock *v, uint32_t local_port, uint32_t peer_port)
{
    for (struct conn *c = v->conns; c != NULL; c = c->next)
        if (!c->dead && c->state != CS_CONNECT_LINE && c->local_port == local_port &&
            c->peer_port == peer_port)
            return c;
    return NULL;
}

static struct conn *conn_new(struct vsock *v, int fd, enum conn_state state)
{
    struct conn *c;

    if (v->nconns >= MAX_CONNS)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->fd = fd;
    c->state = state;
    c->next = v->conns;
    v->conns = c;
    v->nconns++;
    return c;
}

static uint32_t conn_credit(const struct conn *c)
{
    uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

    return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static void queue_rst(struct vsock *v, uint32_t local_port, uint32_t peer_port)
{
    if (v->nrsts < MAX_RSTS)
        v->rsts[v->nrsts++] = (struct rst){local_port, peer_port};
}

static void hdr_init(struct vsock *v, struct virtio_vsock_hdr *h, uint32_t local_port,
                     uint32_t peer_port, uint16_t op)
{
    memset(h, 0, sizeof(*h));
    h->src_cid = HOST_CID;
    h->dst_cid = v->cid;
    h->src_port = local_port;
    h->dst_port = peer_port;
    h->type = VIRTIO_VSOCK_TYPE_STREAM;
    h->op = op;
    h->buf_alloc = BUF_ALLOC;
}

/* An rx buffer to send into; false if the guest has none. */
static bool rx_get_chain(struct vsock *v)
{
    struct virtqueue *q = virtio_mmio_queue(v->t, RXQ);
    const char *why = NULL;
    int r;

    if (v->have_chain)
        return true;
    r = virtqueue_pop(q, &v->rx_chain, &why);
    if (r == 0 && virtqueue_has_avail(q))
        r = virtqueue_pop(q, &v->rx_chain, &why);
    if (r < 0) {
        virtio_mmio_needs_reset(v->t, why);
        return false;
    }
    if (r == 0) {
        v->rx_blocked = true;
        return false;
    }
    if (v->rx_chain.in_len < HDR_LEN) {
        virtio_mmio_needs_reset(v->t, "vsock rx buffer smaller than a packet header");
        return false;
    }
    v->have_chain = true;
    return true;
}

static void rx_send(struct vsock *v, struct conn *c, struct virtio_vsock_hdr *h, uint32_t payload)
{
    if (c != NULL) {
        h->fwd_cnt = c->fwd_cnt;
        c->fwd_cnt_sent = c->fwd_cnt;
        c->want_credit = false;
    }
    virtqueue_chain_write(&v->rx_chain, 0, h, HDR_LEN);
    virtqueue_push(virtio_mmio_queue(v->t, RXQ), v->rx_chain.head, HDR_LEN + payload);
    v->have_chain = false;
}

/* One packet for connection c, if it has one to send: control first, then
 * data the socket has and the guest has credit for. */
static bool rx_conn(struct vsock *v, struct conn *c)
{
    struct virtio_vsock_hdr h;

    if (c->dead || c->state == CS_CONNECT_LINE)
        return false;
    if (c->want_rst) {
        hdr_init(v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_RST);
        rx_send(v, c, &h, 0);
        c->dead = true;
        return true;
    }
    if (c->want_request) {
        hdr_init(v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_REQUEST);
        c->want_request = false;
        rx_send(v, c, &h, 0);
        return true;
    }
    if (c->state != CS_ESTABLISHED)
        return false;
    if (c->want_response) {
        hdr_init(v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_RESPONSE);
        c->want_response = false;
        rx_send(v, c, &h, 0);
        return true;
    }
    if (c->readable && !c->host_eof && !c->peer_no_recv && conn_credit(c) > 0) {
        struct iovec iov[VIRTQUEUE_MAX_SEGS];
        uint32_t room = v->rx_chain.in_len - HDR_LEN, credit = conn_credit(c);
        if (room > credit)
            room = credit;
        if (room > MAX_PKT)
            room = MAX_PKT;
        c->readable = false;
        if (room == 0)
            return false;
        unsigned int n =
            virtqueue_chain_slice(&v->rx_chain, true, HDR_LEN, room, iov, VIRTQUEUE_MAX_SEGS);
        ssize_t r = readv(c->fd, iov, (int)n);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return false;
        if (r > 0) {
            hdr_init(v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_RW);
            h.len = (uint32_t)r;
            c->tx_cnt += (uint32_t)r;
            c->readable = c->hup; /* after a hang-up, read on until EOF */
            rx_send(v, c, &h, (uint32_t)r);
            return true;
        }
        if (r == 0) {
            /* The host closed: neither side will send more (§5.10.6.5). */
            c->host_eof = true;
            hdr_init(v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_SHUTDOWN);
            h.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
            rx_send(v, c, &h, 0);
            return true;
        }
        hdr_init(v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_RST);
        rx_send(v, c, &h, 0);
        c->dead = true;
        return true;
    }
    if (c->want_credit) {
        hdr_init(v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
        rx_send(v, c, &h, 0);
        return true;
    }
    return false;
}

static void event_flush(struct vsock *v)
{
    struct virtqueue *q = virtio_mmio_queue(v->t, EVQ);
    const char *why = NULL;
    struct virtio_vsock_event ev = {.id = VIRTIO_VSOCK_EVENT_TRANSPORT_RESET};

    if (!v->want_transport_reset || !virtio_mmio_active(v->t))
        return;
    int r = virtqueue_pop(q, &v->ev_chain, &why);
    if (r < 0) {
        virtio_mmio_needs_reset(v->t, why);
        return;
    }
    if (r == 0)
        return;
    uint32_t n = virtqueue_chain_write(&v->ev_chain, 0, &ev, sizeof(ev));
    virtqueue_push(q, v->ev_chain.head, n);
    virtio_mmio_notify(v->t, EVQ);
    v->want_transport_reset = false;
}

/* Send what can be sent into the guest's rx buffers. Lock held. */
static void rx_flush(struct vsock *v)
{
    bool pushed = false;

    if (!virtio_mmio_active(v->t))
        return;
    event_flush(v);
    while (rx_get_chain(v)) {
        bool sent = false;
        if (v->nrsts > 0) {
            struct virtio_vsock_hdr h;
            struct rst r = v->rsts[0];
            memmove(v->rsts, v->rsts + 1, --v->nrsts * sizeof(v->rsts[0]));
            hdr_init(v, &h, r.local_port, r.peer_port, VIRTIO_VSOCK_OP_RST);
            rx_send(v, NULL, &h, 0);
            sent = true;
        }
        for (struct conn *c = v->conns; c != NULL && !sent && v->have_chain; c = c->next)
            sent = rx_conn(v, c);
        if (!sent)
            break;
        pushed = true;
    }
    if (pushed)
        virtio_mmio_notify(v->t, RXQ);
}

/* Write buffered guest bytes to the socket. */
static void conn_flush(struct conn *c)
{
    while (c->buf_len > 0) {
        ssize_t n = send(c->fd, c->buf, c->buf_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            c->want_rst = true;
            c->buf_len = 0;
            return;
        }
        memmove(c->buf, c->buf + n, c->buf_len - (uint32_t)n);
        c->buf_len -= (uint32_t)n;
        c->fwd_cnt += (uint32_t)n;
    }
    if (c->buf_len == 0 && c->shut_wr) {
        shutdown(c->fd, SHUT_WR);
        c->shut_wr = false;
    }
    /* Tell the guest about freed space before it runs out (it believes it
     * has BUF_ALLOC - (rx_cnt - fwd_cnt_sent) left). */
    if (c->fwd_cnt != c->fwd_cnt_sent && BUF_ALLOC - (c->rx_cnt - c->fwd_cnt_sent) < MAX_PKT)
        c->want_credit = true;
}

/* A guest connect(2) to the host: connect `<uds>_<port>`. */
static void guest_connect(struct vsock *v, const struct virtio_vsock_hdr *h)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -1;
    struct conn *c;

    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", v->uds, h->dst_port) >=
        sizeof(sa.sun_path))
        goto refuse;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto refuse;
    c = conn_new(v, fd, CS_ESTABLISHED);
    if (c == NULL)
        goto refuse;
    fd = -1;
    c->local_port = h->dst_port;
    c->peer_port = h->src_port;
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;
    c->want_response = true;
    return;
refuse:
    log_debug("virtio-vsock: guest connection to port %u refused", h->dst_port);
    queue_rst(v, h->dst_port, h->src_port);
}

/* One packet from the guest (§5.10.6.4). Anything not addressed from the
 * guest's CID to the host is dropped; anything else that makes no sense for
 * the connection state is answered with RST. */
static void tx_packet(struct vsock *v, const struct virtqueue_chain *ch)
{
    struct virtio_vsock_hdr h;
    struct conn *c;

    if (ch->out_len < HDR_LEN)
        return;
    virtqueue_chain_read(ch, 0, &h, HDR_LEN);
    if (h.src_cid != v->cid || h.dst_cid != HOST_CID)
        return;
    if (h.type != VIRTIO_VSOCK_TYPE_STREAM || h.len > MAX_PKT || h.len > ch->out_len - HDR_LEN) {
        if (h.op != VIRTIO_VSOCK_OP_RST)
            queue_rst(v, h.dst_port, h.src_port);
        return;
    }
    c = conn_find(v, h.dst_port, h.src_port);
    if (c != NULL) {
        c->peer_buf_alloc = h.buf_alloc;
        c->peer_fwd_cnt = h.fwd_cnt;
    }
    switch (h.op) {
    case VIRTIO_VSOCK_OP_REQUEST:
        if (c != NULL)
            c->want_rst = true;
        else
            guest_connect(v, &h);
        return;
    case VIRTIO_VSOCK_OP_RST:
        if (c != NULL)
            c->dead = true;
        return;
    default:
        break;
    }
    if (c == NULL) {
        queue_rst(v, h.dst_port, h.src_port);
        return;
    }
    switch (h.op) {
    case VIRTIO_VSOCK_OP_RESPONSE: {
        char ok[32];
        int n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);
        if (c->state != CS_REQUEST_SENT ||
            send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
            c->want_rst = true;
            return;
        }
        c->state = CS_ESTABLISHED;
        return;
    }
    case VIRTIO_VSOCK_OP_SHUTDOWN:
        if (h.flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
            c->peer_no_recv = true;
        if (h.flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
            c->shut_wr = true;
        if ((h.flags & (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)) ==
            (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)) {
            /* Both ways closed: deliver what is buffered, then reset. */
            conn_flush(c);
            c->want_rst = true;
            return;
        }
        conn_flush(c);
        return;
    case VIRTIO_VSOCK_OP_RW:
        if (c->state != CS_ESTABLISHED || c->shut_wr) {
            c->want_rst = true;
            return;
        }
        if (h.len > BUF_ALLOC - c->buf_len) {
            log_debug("virtio-vsock: guest port %u overran its credit", c->peer_port);
            c->want_rst = true;
            return;
        }
        if (c->buf == NULL && (c->buf = malloc(BUF_ALLOC)) == NULL) {
            c->want_rst = true;
            return;
        }
        virtqueue_chain_read(ch, HDR_LEN, c->buf + c->buf_len, h.len);
        c->buf_len += h.len;
        c->rx_cnt += h.len;
        conn_flush(c);
        return;
    case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
        return; /* the credit fields were taken above */
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
        c->want_credit = true;
        return;
    default:
        c->want_rst = true;
        return;
    }
}

static void vsock_tx(struct vsock *v)
{
    struct virtqueue *q = virtio_mmio_queue(v->t, TXQ);
    const char *why = NULL;
    bool pushed = false;
    int r;

    do {
        while ((r = virtqueue_pop(q, &v->tx_chain, &why)) > 0) {
            tx_packet(v, &v->tx_chain);
            virtqueue_push(q, v->tx_chain.head, 0);
            pushed = true;
        }
        if (r < 0) {
            virtio_mmio_needs_reset(v->t, why);
            return;
        }
    } while (virtqueue_has_avail(q));
    if (pushed)
        virtio_mmio_notify(v->t, TXQ);
    rx_flush(v);
    vsock_wake(v); /* sockets or credits changed: the thread re-polls */
}

static void vsock_queue_notify(void *dev, unsigned int q)
{
    struct vsock *v = dev;

    if (q == TXQ) {
        vsock_tx(v);
    } else if (q == RXQ) {
        v->rx_blocked = false;
        rx_flush(v);
        vsock_wake(v);
    } else if (q == EVQ) {
        event_flush(v);
    }
}

static void kill_all(struct vsock *v)
{
    for (struct conn *c = v->conns; c != NULL; c = c->next)
        c->dead = true;
    v->nrsts = 0;
    v->have_chain = false;
}

static void vsock_activate(void *dev, uint64_t features)
{
    struct vsock *v = dev;

    v->rx_blocked = false;
    vsock_wake(v);
}

static void vsock_reset(void *dev)
{
    struct vsock *v = dev;

    kill_all(v);
    v->rx_blocked = true;
    v->want_transport_reset = false;
    vsock_wake(v);
}

/* Host-initiated: the client wrote (part of) "CONNECT <port>\n". Read byte by
 * byte so that nothing after the newline (the stream) is consumed. */
static void read_connect_line(struct vsock *v, struct conn *c)
{
    for (;;) {
        char ch;
        ssize_t n = read(c->fd, &ch, 1);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            c->dead = true;
            return;
        }
        if (ch != '\n') {
            if (c->line_len + 1 >= sizeof(c->line)) {
                c->dead = true;
                return;
            }
            c->line[c->line_len++] = ch;
            continue;
        }
        c->line[c->line_len] = '\0';
        char *end = NULL;
        errno = 0;
        unsigned long port =
            strncmp(c->line, "CONNECT ", 8) == 0 ? strtoul(c->line + 8, &end, 10) : 0;
        if (end == NULL || end == c->line + 8 || *end != '\0' || errno != 0 || port > UINT32_MAX) {
            log_debug("virtio-vsock: bad host request `%s`", c->line);
            c->dead = true;
            return;
        }
        uint32_t local;
        do
            local = v->next_local_port++;
        while (local < LOCAL_PORT_BASE || conn_find(v, local, (uint32_t)port) != NULL);
        c->local_port = local;
        c->peer_port = (uint32_t)port;
        c->state = CS_REQUEST_SENT;
        c->want_request = true;
        return;
    }
}

static void accept_all(struct vsock *v)
{
    for (;;) {
        int fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        if (conn_new(v, fd, CS_CONNECT_LINE) == NULL)
            close(fd);
    }
}

static void reap(struct vsock *v)
{
    struct conn **pp = &v->conns;

    while (*pp != NULL) {
        struct conn *c = *pp;
        if (!c->dead) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        close(c->fd);
        free(c->buf);
        free(c);
        v->nconns--;
    }
}

static short conn_events(const struct vsock *v, const struct conn *c)
{
    short ev = 0;

    if (c->dead || c->want_rst)
        return 0; /* nothing to learn from the socket; a hang-up would spin */
    switch (c->state) {
    case CS_CONNECT_LINE:
        return POLLIN;
    case CS_REQUEST_SENT:
        return POLLRDHUP; /* only to see the client hang up; nothing is read yet */
    case CS_ESTABLISHED:
        if (!c->hup && !c->readable && !c->host_eof && !c->peer_no_recv && !v->rx_blocked &&
            conn_credit(c) > 0)
            ev |= POLLIN;
        if (c->buf_len > 0)
            ev |= POLLOUT;
        return ev;
    }
    return 0;
}

static void *vsock_thread(void *arg)
{
    struct vsock *v = arg;
    struct pollfd *pfd = calloc(MAX_CONNS + 2, sizeof(*pfd));
    struct conn **pc = calloc(MAX_CONNS + 2, sizeof(*pc));

    if (pfd == NULL || pc == NULL) {
        free(pfd);
        free(pc);
        return NULL;
    }
    for (;;) {
        nfds_t n = 2;
        virtio_mmio_lock(v->t);
        if (v->stop) {
            virtio_mmio_unlock(v->t);
            break;
        }
        reap(v);
        pfd[0] = (struct pollfd){.fd = v->wake, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = v->listen_fd, .events = POLLIN};
        for (struct conn *c = v->conns; c != NULL && n < MAX_CONNS + 2; c = c->next) {
            short ev = conn_events(v, c);
            if (ev == 0)
                continue; /* not polled at all: a hang-up would spin */
            pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
            pc[n++] = c;
        }
        virtio_mmio_unlock(v->t);

        if (poll(pfd, n, -1) < 0 && errno != EINTR)
            break;

        virtio_mmio_lock(v->t);
        if (pfd[0].revents & POLLIN) {
            uint64_t val;
            if (read(v->wake, &val, sizeof(val)) < 0 && errno != EAGAIN)
                log_debug("virtio-vsock: eventfd read: %s", strerror(errno));
        }
        if (pfd[1].revents & POLLIN)
            accept_all(v);
        for (nfds_t i = 2; i < n; i++) {
            struct conn *c = pc[i];
            short re = pfd[i].revents;
            if (re == 0 || c->dead)
                continue;
            if (c->state == CS_CONNECT_LINE) {
                read_connect_line(v, c);
            } else if (c->state == CS_REQUEST_SENT) {
                if (re & (POLLHUP | POLLERR | POLLRDHUP))
                    c->want_rst = true;
            } else {
                if (re & POLLOUT)
                    conn_flush(c);
                if (re & (POLLIN | POLLHUP | POLLERR)) {
                    c->readable = true;
                    if (re & (POLLHUP | POLLERR))
                        c->hup = true;
                }
            }
        }
        rx_flush(v);
        virtio_mmio_unlock(v->t);
    }
    free(pfd);
    free(pc);
    return NULL;
}

static json_t *vsock_save(void *dev)
{
    struct vsock *v = dev;

    /* Connections are not saved: after a restore the guest gets a
     * TRANSPORT_RESET event (§5.10.6.6), as after a migration. */
    return json_pack("{s:I, s:s}", "guest_cid", (json_int_t)v->cid, "uds_path", v->uds);
}

static int vsock_restore(void *dev, json_t *state, struct err **err)
{
    struct vsock *v = dev;
    uint64_t cid = 0;

    if (js_get_u64(state, "state", "guest_cid", true, &cid, err) < 0)
        return -1;
    if (cid != v->cid)
        return err_val(err, EINVAL, "vsock: snapshot guest CID %llu, device has %llu",
                       (unsigned long long)cid, (unsigned long long)v->cid);
    kill_all(v);
    v->rx_blocked = false;
    v->want_transport_reset = true;
    event_flush(v);
    vsock_wake(v);
    return 0;
}

static void vsock_destroy(void *dev)
{
    struct vsock *v = dev;

    if (v == NULL)
        return;
    if (v->thread_started) {
        virtio_mmio_lock(v->t);
        v->stop = true;
        virtio_mmio_unlock(v->t);
        vsock_wake(v);
        pthread_join(v->thread, NULL);
    }
    kill_all(v);
    reap(v);
    if (v->listen_fd >= 0) {
        close(v->listen_fd);
        unlink(v->uds);
    }
    if (v->wake >= 0)
        close(v->wake);
    free(v);
}

static const struct virtio_dev_ops vsock_ops = {
    .name = "virtio-vsock",
    .device_id = 19,
    .nqueues = 3,
    .queue_max = 256,
    .features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX),
    .config_read = vsock_config_read,
    .activate = vsock_activate,
    .queue_notify = vsock_queue_notify,
    .reset = vsock_reset,
    .save = vsock_save,
    .restore = vsock_restore,
    .destroy = vsock_destroy,
};

/* Listen on path; a stale socket nobody listens on is replaced. */
static int uds_listen(const char *path, struct err **err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -1;
    struct stat st;

    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return err_val(err, EEXIST, "vsock socket `%s`: exists and is not a socket", path);
        _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return err_val(err, EADDRINUSE, "vsock socket `%s`: in use by another VM", path);
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return err_sys(err, "vsock socket `%s`: socket", path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return err_sys(err, "vsock socket `%s`: bind", path);
    if (listen(fd, 64) < 0) {
        err_sys(err, "vsock socket `%s`: listen", path);
        unlink(path);
        return -1;
    }
    return steal_fd(&fd);
}

int virtio_vsock_create(const struct virtio_vsock_opts *o, const struct vm_mem *mem,
                        struct vm_irq irq, struct vm_dev *out, struct err **err)
{
    struct vsock *v;
    int r;

    if (o->guest_cid < 3 || o->guest_cid > 0xfffffffeull)
        return err_val(err, EINVAL, "vsock guest CID %llu: must be 3 to 4294967294",
                       (unsigned long long)o->guest_cid);
    /* Room for "_<port>" (11 bytes) after the path in sun_path. */
    if (o->uds_path == NULL || o->uds_path[0] == '\0' ||
        strlen(o->uds_path) + 12 > sizeof(((struct sockaddr_un *)0)->sun_path))
        return err_val(err, ENAMETOOLONG, "vsock socket path `%s`: empty or longer than %zu bytes",
                       o->uds_path ? o->uds_path : "",
                       sizeof(((struct sockaddr_un *)0)->sun_path) - 12);
    v = calloc(1, sizeof(*v));
    if (v == NULL)
        return err_set(err, ENOMEM, "virtio-vsock");
    v->wake = -1;
    v->cid = o->guest_cid;
    v->cfg.guest_cid = o->guest_cid;
    v->next_local_port = LOCAL_PORT_BASE;
    v->rx_blocked = true;
    strcpy(v->uds, o->uds_path);
    v->listen_fd = uds_listen(o->uds_path, err);
    if (v->listen_fd < 0) {
        free(v);
        return -1;
    }
    /* The host's `<uds_path>_<port>` sockets belong to host programs: only
     * our own listening socket is registered. */
    if (o->reaper != NULL && reaper_add(o->reaper, o->uds_path, err) < 0) {
        close(v->listen_fd);
        unlink(v->uds);
        free(v);
        return -1;
    }
    v->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (v->wake < 0) {
        err_sys(err, "virtio-vsock: eventfd");
        vsock_destroy(v);
        return -1;
    }
    if (virtio_mmio_create(&vsock_ops, v, mem, irq, out, err) < 0)
        return -1;
    v->t = out->state;
    r = vm_dev_thread_start(&v->thread, vsock_thread, v);
    if (r != 0) {
        out->ops->destroy(out->state);
        memset(out, 0, sizeof(*out));
        return err_set(err, r, "virtio-vsock: start thread");
    }
    v->thread_started = true;
    return 0;
}
