// SPDX-License-Identifier: GPL-2.0-or-later
/* The microVM agent protocol's frames (mvproto.h, docs/microvm.md). */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/mvproto.h"

static const char *const type_names[] = {
    [MVP_HELLO] = "hello",   [MVP_STREAM] = "stream",   [MVP_SPEC] = "spec",
    [MVP_START] = "start",   [MVP_STARTED] = "started", [MVP_ERROR] = "error",
    [MVP_SIGNAL] = "signal", [MVP_EXIT] = "exit",
};

const char *mvp_type_name(uint32_t type)
{
    if (type == 0 || type > MVP_TYPE_MAX)
        return "unknown";
    return type_names[type];
}

/* A socket: no SIGPIPE when the peer is gone (EPIPE instead). */
static int send_all(int fd, const void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = send(fd, (const uint8_t *)buf + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

int mvp_send(int fd, uint32_t type, const void *payload, size_t len, struct err **err)
{
    uint32_t hdr[2] = {htole32(type), htole32((uint32_t)len)};

    if (len > MVP_MAX_PAYLOAD)
        return err_val(err, EMSGSIZE, "send %s frame: %zu bytes is over the cap of %u",
                       mvp_type_name(type), len, MVP_MAX_PAYLOAD);
    if (send_all(fd, hdr, sizeof(hdr)) < 0 || (len > 0 && send_all(fd, payload, len) < 0))
        return err_sys(err, "send %s frame", mvp_type_name(type));
    return 0;
}

int mvp_send_u32(int fd, uint32_t type, const uint32_t *vals, size_t n, struct err **err)
{
    uint32_t buf[8];

    if (n > 8)
        return err_val(err, EINVAL, "send %s frame: too many values", mvp_type_name(type));
    for (size_t i = 0; i < n; i++)
        buf[i] = htole32(vals[i]);
    return mvp_send(fd, type, buf, n * sizeof(uint32_t), err);
}

/* Read exactly len bytes; *got tells how many came before EOF. */
static int read_full(int fd, void *buf, size_t len, int timeout_ms, size_t *got, struct err **err)
{
    size_t off = 0;

    while (off < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_sys(err, "poll");
        if (r == 0) {
            *got = off;
            return err_val(err, ETIMEDOUT, "no data within %d ms", timeout_ms);
        }
        ssize_t n = read(fd, (uint8_t *)buf + off, len - off);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return err_sys(err, "read");
        if (n == 0)
            break;
        off += (size_t)n;
    }
    *got = off;
    return 0;
}

int mvp_recv(int fd, int timeout_ms, struct mvp_frame *f, struct err **err)
{
    uint32_t hdr[2];
    size_t got = 0;

    memset(f, 0, sizeof(*f));
    if (read_full(fd, hdr, sizeof(hdr), timeout_ms, &got, err) < 0)
        return err_wrap(err, "receive frame header");
    if (got == 0)
        return err_val(err, ENODATA, "receive frame: the peer closed the connection");
    if (got < sizeof(hdr))
        return err_val(err, EPROTO, "receive frame: connection closed inside a header");
    f->type = le32toh(hdr[0]);
    f->len = le32toh(hdr[1]);
    if (f->type == 0 || f->type > MVP_TYPE_MAX)
        return err_val(err, EPROTO, "receive frame: unknown type %u", f->type);
    if (f->len > MVP_MAX_PAYLOAD)
        return err_val(err, EMSGSIZE, "receive %s frame: %u bytes is over the cap of %u",
                       mvp_type_name(f->type), f->len, MVP_MAX_PAYLOAD);
    f->payload = malloc((size_t)f->len + 1);
    if (f->payload == NULL)
        return err_set(err, ENOMEM, "receive %s frame", mvp_type_name(f->type));
    if (read_full(fd, f->payload, f->len, timeout_ms, &got, err) < 0 ||
        (got < f->len && err_val(err, EPROTO, "connection closed inside the payload") < 0)) {
        mvp_frame_free(f);
        return err_wrap(err, "receive %s frame", mvp_type_name(f->type));
    }
    f->payload[f->len] = 0;
    return 0;
}

int mvp_u32(const struct mvp_frame *f, size_t i, uint32_t *out, struct err **err)
{
    uint32_t v;

    if (f->len < (i + 1) * sizeof(uint32_t))
        return err_val(err, EPROTO, "%s frame: %u bytes, too short", mvp_type_name(f->type),
                       f->len);
    memcpy(&v, f->payload + i * sizeof(uint32_t), sizeof(v));
    *out = le32toh(v);
    return 0;
}

void mvp_frame_free(struct mvp_frame *f)
{
    free(f->payload);
    f->payload = NULL;
    f->len = 0;
}
