/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's detached execs (docs/engine.md, "Monitor"): processes exec'd
 * in the workload that outlive their client's connection, `exec -d` and an
 * `exec -it` whose client detached (Docker's detach keys). The monitor keeps
 * their pipes or pty master open and drains them (a pty whose master closes
 * hangs its session up; a full pipe blocks the writer), and records each exit
 * as one JSON line in DIR/execs:
 *   {"pid":N,"command":"sleep 1","exitCode":N,"signal":N,"finishedAt":"RFC3339"}
 * At the end of the workload they are killed and reaped with it.
 */
#ifndef ISOLA_ENGINE_MONITOR_DEXEC_H
#define ISOLA_ENGINE_MONITOR_DEXEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/isolation.h"

#define MON_DEXEC_MAX     32
#define MON_DEXEC_TAG     0x1000 /* epoll tags from here: 4 per slot */
#define MON_DEXEC_TAG_END (MON_DEXEC_TAG + 4 * MON_DEXEC_MAX)

struct mon_dexec {
    struct iso_exec x;
    int fds[3]; /* out (or the pty master), err, in; -1: none */
    char what[128];
};

struct mon_dexecs {
    struct mon_dexec s[MON_DEXEC_MAX];
    int ep;
    const struct iso_ops *iso;
    struct iso_workload *w;
    char path[PATH_MAX]; /* DIR/execs */
};

void mon_dexec_init(struct mon_dexecs *d, int ep, const struct iso_ops *iso, struct iso_workload *w,
                    const char *dir);
/* Take over a running exec (*x and its fds, -1 for none; the caller has
 * removed them from the epoll set and keeps none). false when every slot is
 * taken: then nothing was taken. */
bool mon_dexec_adopt(struct mon_dexecs *d, const struct iso_exec *x, int out, int err, int in,
                     const char *what);
/* An epoll tag in [MON_DEXEC_TAG, MON_DEXEC_TAG_END): handled. */
void mon_dexec_event(struct mon_dexecs *d, uint64_t tag);
bool mon_dexec_owns(const struct mon_dexecs *d, pid_t pid);
/* The workload ended or the monitor exits: each killed, reaped, recorded. */
void mon_dexec_end_all(struct mon_dexecs *d);

#endif
