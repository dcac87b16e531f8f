/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The microVM agent protocol (docs/microvm.md, "Protocol"): framed messages
 * between the host (src/engine/iso_microvm.c) and the guest agent
 * (src/agent/) over virtio-vsock stream connections.
 *
 * A frame is a header of two little-endian u32, type and payload length, then
 * the payload. A payload longer than MVP_MAX_PAYLOAD or an unknown type is a
 * protocol error: the reader stops and reports it (the host then kills the
 * VM). Both sides read with a deadline, so a peer that never answers is an
 * error too, not a hang.
 */
#ifndef ISOLA_UTIL_MVPROTO_H
#define ISOLA_UTIL_MVPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define MVP_VERSION     1
#define MVP_PORT        1024       /* the agent's vsock port in the guest */
#define MVP_MAX_PAYLOAD (1u << 20) /* hard cap of one frame's payload */
#define MVP_HDR_LEN     8

enum mvp_type {
    MVP_HELLO = 1,   /* both ways, first: u32 version */
    MVP_STREAM = 2,  /* host -> agent, first frame of a stdio connection: u32 channel */
    MVP_SPEC = 3,    /* host -> agent: the container's config.json */
    MVP_START = 4,   /* host -> agent: run the container */
    MVP_STARTED = 5, /* agent -> host: u32 pid (the runtime's, in the guest) */
    MVP_ERROR = 6,   /* agent -> host: message text; the request failed */
    MVP_SIGNAL = 7,  /* host -> agent: u32 signal, u32 all */
    MVP_EXIT = 8,    /* agent -> host: u32 code (shell-style), u32 signal */
    MVP_TYPE_MAX = 8,
};

enum mvp_channel { MVP_STDIN = 0, MVP_STDOUT = 1, MVP_STDERR = 2 };

struct mvp_frame {
    uint32_t type;
    uint32_t len;
    uint8_t *payload; /* len bytes + a NUL (for text), owned; NULL when len is 0 */
};

/* Write one frame (all of it). */
int mvp_send(int fd, uint32_t type, const void *payload, size_t len, struct err **err);
/* mvp_send() of n little-endian u32 values. */
int mvp_send_u32(int fd, uint32_t type, const uint32_t *vals, size_t n, struct err **err);
/* Read one frame, waiting at most timeout_ms for each part (<0: forever).
 * EOF before a header: code ENODATA (the peer closed). */
int mvp_recv(int fd, int timeout_ms, struct mvp_frame *f, struct err **err);
/* The i-th little-endian u32 of f's payload; an error if the payload is shorter. */
int mvp_u32(const struct mvp_frame *f, size_t i, uint32_t *out, struct err **err);
void mvp_frame_free(struct mvp_frame *f);
const char *mvp_type_name(uint32_t type);

#endif
