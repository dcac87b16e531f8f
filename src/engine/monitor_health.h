/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's health checks (docs/engine.md, "Health checks"): a probe is
 * an exec in the workload through the isolation table, run on a timerfd in
 * the monitor's epoll loop (no thread), its stdout and stderr on one pipe,
 * killed after the timeout; the state (health.h) goes to DIR/health, Docker's
 * State.Health document, replaced atomically after each probe.
 */
#ifndef ISOLA_ENGINE_MONITOR_HEALTH_H
#define ISOLA_ENGINE_MONITOR_HEALTH_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/health.h"
#include "engine/isolation.h"
#include "util/err.h"

struct mon_health {
    bool on; /* a check is configured */
    struct health_config cfg;
    struct health_state st;
    char path[PATH_MAX]; /* DIR/health */
    int ep, tfd, out;
    uint64_t tag_timer, tag_out, tag_exit;
    const struct iso_ops *iso;
    struct iso_workload *w;
    struct iso_exec x;
    bool probing, timed_out;
    int64_t started_ns, probe_start_ns; /* realtime */
    char buf[HEALTH_OUTPUT_MAX + 1];
    size_t len;
    bool truncated;
};

/* json: Docker's Healthcheck (NULL or NONE: h->on stays false). The timerfd
 * and the probe's fds are added to ep with the given tags. */
int mon_health_init(struct mon_health *h, const char *json, const char *dir, int ep,
                    uint64_t tag_timer, uint64_t tag_out, uint64_t tag_exit,
                    const struct iso_ops *iso, struct iso_workload *w, struct err **err);
/* The workload runs (again): "starting", the first probe after the interval. */
void mon_health_started(struct mon_health *h);
/* The workload ended: a running probe is killed and reaped, the timer off. */
void mon_health_stopped(struct mon_health *h);
/* One of its tags fired; true when a probe ended (its result is the last of
 * h->st.log). */
bool mon_health_event(struct mon_health *h, uint64_t tag);
/* A probe now (`healthcheck run`), unless one runs: 0 when one runs (its
 * end comes through mon_health_event), 1 when it ended at once (it could not
 * run), -1 when there is no check or the workload does not run. */
int mon_health_run_now(struct mon_health *h, bool running);
/* Is pid the probe's (not an orphan to reap)? */
bool mon_health_owns(const struct mon_health *h, pid_t pid);
void mon_health_release(struct mon_health *h);

#endif
