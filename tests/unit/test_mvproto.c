/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The microVM agent protocol's frames (util/mvproto.h): round trip, the hard
 * size cap, unknown types, truncated frames, a silent peer. */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "util/mvproto.h"

static void pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        sv[0] = sv[1] = -1;
}

/* Write a raw header (and no payload) and close the writer. */
static int recv_raw(uint32_t type, uint32_t len, const void *extra, size_t n, int timeout_ms,
                    struct err **e)
{
    int sv[2];
    uint32_t hdr[2] = {type, len}; /* little-endian host (x86, arm64) */
    struct mvp_frame f;

    pair(sv);
    if (write(sv[1], hdr, sizeof(hdr)) < 0 || (n > 0 && write(sv[1], extra, n) < 0))
        return -2;
    if (timeout_ms < 0)
        close(sv[1]);
    int r = mvp_recv(sv[0], timeout_ms < 0 ? 1000 : timeout_ms, &f, e);
    if (r == 0)
        mvp_frame_free(&f);
    close(sv[0]);
    if (timeout_ms >= 0)
        close(sv[1]);
    return r;
}

int main(void)
{
    int sv[2];
    struct err *e = NULL;
    struct mvp_frame f;
    uint32_t v = 0;

    pair(sv);
    ok(mvp_send_u32(sv[1], MVP_EXIT, (uint32_t[]){3, 0}, 2, &e) == 0, "send exit frame");
    ok(mvp_recv(sv[0], 1000, &f, &e) == 0 && f.type == MVP_EXIT && f.len == 8, "receive it");
    ok(mvp_u32(&f, 0, &v, &e) == 0 && v == 3, "its code is 3");
    ok(mvp_u32(&f, 2, &v, &e) < 0 && e->code == EPROTO, "a u32 past its payload is refused");
    err_free(&e);
    mvp_frame_free(&f);
    close(sv[1]);
    ok(mvp_recv(sv[0], 1000, &f, &e) < 0 && e->code == ENODATA, "EOF: the peer closed (%s)",
       e ? e->msg : "-");
    err_free(&e);
    close(sv[0]);

    ok(recv_raw(MVP_HELLO, MVP_MAX_PAYLOAD + 1, NULL, 0, -1, &e) == -1 && e->code == EMSGSIZE,
       "a payload over the cap is refused before reading it (%s)", e ? e->msg : "-");
    err_free(&e);
    ok(recv_raw(MVP_HELLO, 0xfffffff0u, NULL, 0, -1, &e) == -1 && e->code == EMSGSIZE,
       "4 GiB announced: refused (%s)", e ? e->msg : "-");
    err_free(&e);
    ok(recv_raw(0, 0, NULL, 0, -1, &e) == -1 && e->code == EPROTO, "type 0 is refused");
    err_free(&e);
    ok(recv_raw(MVP_TYPE_MAX + 1, 0, NULL, 0, -1, &e) == -1 && e->code == EPROTO,
       "an unknown type is refused");
    err_free(&e);
    ok(recv_raw(MVP_SPEC, 10, "abc", 3, -1, &e) == -1 && e->code == EPROTO,
       "a payload cut short by EOF is refused (%s)", e ? e->msg : "-");
    err_free(&e);
    ok(recv_raw(MVP_SPEC, 10, "abc", 3, 100, &e) == -1 && e->code == ETIMEDOUT,
       "a peer that stops sending inside a frame times out (%s)", e ? e->msg : "-");
    err_free(&e);

    pair(sv);
    char big[16];
    ok(mvp_send(sv[1], MVP_SPEC, big, (size_t)MVP_MAX_PAYLOAD + 1, &e) < 0 && e->code == EMSGSIZE,
       "sending over the cap is refused");
    err_free(&e);
    close(sv[1]);
    ok(mvp_send(sv[0], MVP_START, NULL, 0, &e) < 0 && e->code == EPIPE,
       "sending to a closed peer: EPIPE, no SIGPIPE");
    err_free(&e);
    close(sv[0]);
    return done_testing();
}
