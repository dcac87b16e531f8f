/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Health checks as Docker's (docs/engine.md, "Health checks"): the
 * configuration (Docker's HealthConfig, the image's `Healthcheck` and the
 * `--health-*` flags merged over it), and the state machine the monitor keeps
 * (moby daemon/health.go): starting -> healthy on a probe exiting 0, ->
 * unhealthy after `Retries` failures in a row (failures within the start
 * period of a container that has not been healthy yet do not count); the last
 * 5 results, each output cut at 4 KiB. Pure code: no fds, no processes.
 */
#ifndef ISOLA_ENGINE_HEALTH_H
#define ISOLA_ENGINE_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define HEALTH_LOG_MAX             5    /* moby's maxLogEntries */
#define HEALTH_OUTPUT_MAX          4096 /* moby's maxOutputLen */
#define HEALTH_DEFAULT_INTERVAL_NS (30 * 1000000000LL)
#define HEALTH_DEFAULT_TIMEOUT_NS  (30 * 1000000000LL)
#define HEALTH_DEFAULT_RETRIES     3

/* ---- configuration ---- */

/* The `--health-*` flags of run/create, as the front end parsed them. */
struct health_opts {
    const char *cmd;         /* --health-cmd: ["CMD-SHELL", cmd] */
    int64_t interval_ns;     /* 0: unset */
    int64_t timeout_ns;      /* 0: unset */
    int64_t start_period_ns; /* 0: unset */
    int retries;             /* 0: unset */
    bool none;               /* --no-healthcheck: ["NONE"] */
};

/* One --health-* flag (name without the dashes, e.g. "health-interval") into
 * o; EINVAL with Docker's words for a bad value. */
int health_opts_take(struct health_opts *o, const char *flag, const char *value, struct err **err);
/* The image's Healthcheck (a JSON object or NULL) with the flags over it
 * (moby's merge: each field the user set replaces the image's); *out is
 * NULL when there is none at all. --no-healthcheck with another flag is
 * refused, as Docker's CLI does. */
int health_config_merge(json_t *image_hc, const struct health_opts *o, json_t **out,
                        struct err **err);

/* What the monitor runs. */
struct health_config {
    char **args; /* the probe's argv (CMD-SHELL: /bin/sh -c CMD); NULL: no check */
    int64_t interval_ns, timeout_ns, start_period_ns;
    unsigned retries;
};
/* Docker's Healthcheck JSON text -> c, defaults applied; c->args NULL for
 * NONE or an empty Test. */
int health_config_parse(const char *json, struct health_config *c, struct err **err);
void health_config_release(struct health_config *c);

/* ---- state ---- */

enum health_status { HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY };
/* "starting", "healthy", "unhealthy" (the words of the database and Docker). */
const char *health_status_name(enum health_status s);

struct health_result {
    int64_t start_ns, end_ns; /* realtime */
    int exit_code;            /* 0 healthy, 1 unhealthy, -1 timed out or not run */
    char *output;
};

struct health_state {
    enum health_status status;
    unsigned failing_streak;
    struct health_result log[HEALTH_LOG_MAX]; /* oldest first */
    size_t n_log;
};

/* A (re)start of the workload: starting again, streak 0; the log is kept. */
void health_state_reset(struct health_state *s);
/* Docker's handleProbeResult. r->output is taken over. started_ns: when
 * the workload started (realtime), for the start period. */
void health_state_add(struct health_state *s, const struct health_config *c, int64_t started_ns,
                      struct health_result *r);
/* Docker's State.Health: {"Status","FailingStreak","Log":[{"Start","End",
 * "ExitCode","Output"}]}. NULL on ENOMEM. */
json_t *health_state_json(const struct health_state *s);
void health_state_release(struct health_state *s);
/* Make len bytes of probe output valid UTF-8 for JSON, in place. */
void health_output_clean(char *s, size_t len);

#endif
