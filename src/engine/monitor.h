/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor: one small process per workload (the role of Podman's conmon or
 * containerd's shim), started detached by the engine so that the CLI can exit.
 * It creates the workload through the isolation table in-process, so it is the
 * only parent of the workload's first process (PR_SET_CHILD_SUBREAPER also
 * makes it the parent of orphans), holds its stdio (pipes, or a pty), writes
 * the log (ctrlog.h), applies the restart policy (restart.h), stops it on
 * request, serves attach and wait on a unix socket, and records each
 * transition in files of its run dir (docs/engine.md, "Monitor"):
 *
 *   status    JSON, replaced atomically at each transition
 *   exit      JSON, the last exit (code, signal, OOM kill), replaced atomically
 *   ctl.sock  the control socket (SOCK_SEQPACKET)
 *   ctr.log   the log (unless another path is given), ctr.log.1 ... rotated
 */
#ifndef ISOLA_ENGINE_MONITOR_H
#define ISOLA_ENGINE_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/isolation.h"
#include "engine/restart.h"
#include "util/err.h"

struct monitor_opts {
    const char *dir; /* run dir (exists) */
    const char *id;
    const char *bundle; /* absolute */
    const struct iso_ops *iso;
    struct iso_ctx iso_ctx;
    const char *log_path; /* NULL: DIR/ctr.log */
    uint64_t log_max_size;
    unsigned log_max_file;
    struct restart_policy restart;
    bool tty;
    bool stdin_open;         /* -i: stdin is a pipe that attach clients write to */
    int stop_signal;         /* 0: SIGTERM */
    unsigned stop_timeout;   /* seconds before SIGKILL on a stop request */
    const char *healthcheck; /* Docker's Healthcheck JSON (health.h); NULL: none */
    const char *root_key;    /* microvm: the root image's cache key (iso_create_opts) */
};

/* Control socket packets (one message per packet, at most MONITOR_MSG_MAX). */
#define MONITOR_MSG_MAX 65536

/*
 * Run the workload for its whole life. Once it runs, "ok PID\n" is written to
 * ready_fd (then closed); if it cannot be started, "error MESSAGE\n" is, and
 * the error is returned. Returns when the workload has ended for good (after
 * its restarts) and is deleted.
 */
int monitor_run(const struct monitor_opts *o, int ready_fd, struct err **err);

/* Is the monitor that wrote DIR/status still running? (its pid and start time
 * match). *pid gets its pid (0 when there is no status); *ended is true when
 * the status says the workload's life ended (the monitor exited normally). */
int monitor_alive(const char *dir, bool *alive, bool *ended, pid_t *pid, struct err **err);

#endif
