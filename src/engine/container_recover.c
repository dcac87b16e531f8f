/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starts that their CLI did not record (container.h, ctr_sync_unrecorded;
 * docs/engine.md, "Crash safety"). `run -d` and `start` record a start in the
 * row only after the monitor reports that the workload runs; a CLI killed in
 * between (SIGKILL, a closed terminal) leaves a row that says created or
 * exited while a detached monitor runs the workload, or has run it and ended.
 * The monitor's files in the run dir tell the truth: the row takes it over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/container.h"
#include "engine/monitor.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static json_t *recover_read(const char *dir, const char *name)
{
    _cleanup_free_ char *p = NULL;
    json_t *j = NULL;
    struct err *e = NULL;

    if (asprintf(&p, "%s/%s", dir, name) < 0 || !fs_exists(p))
        return NULL;
    if (js_load_file(p, &j, &e) < 0)
        err_free(&e);
    return j;
}

/* RFC 3339 (the monitor's) -> ns since the epoch; 0 when unreadable. */
static int64_t recover_time(const char *s)
{
    struct tm tm = {0};
    const char *p;
    int64_t ns = 0;
    int digits = 0;

    if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
        return 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*p - '0');
    for (; digits < 9; digits++)
        ns *= 10;
    return (int64_t)timegm(&tm) * 1000000000LL + ns;
}

int ctr_sync_unrecorded(struct db *db, const struct ctr_env *env, struct db_container *c,
                        struct err **err)
{
    _cleanup_free_ char *dir = NULL;
    _cleanup_json_ json_t *st = NULL, *ex = NULL, *cfg = NULL;
    bool alive = false, ended = false;
    pid_t mpid = 0;
    struct err *e = NULL;

    if (c->status != DB_STATUS_CREATED && c->status != DB_STATUS_EXITED)
        return 0;
    if (!(dir = ctr_run_dir(env, c->id)))
        return err_set(err, ENOMEM, "container %s", c->id);
    /* one stat per row for `ps -a`: a created row has no status file until a
     * start; an exited one has no socket unless a monitor runs (or was
     * killed). So an exited row does not learn of a later run that ended
     * unrecorded; the next start replaces it anyway. */
    _cleanup_free_ char *probe = NULL;
    if (asprintf(&probe, "%s/%s", dir, c->status == DB_STATUS_CREATED ? "status" : "ctl.sock") < 0)
        return err_set(err, ENOMEM, "container %s", c->id);
    if (!fs_exists(probe))
        return 0;
    if (monitor_alive(dir, &alive, &ended, &mpid, &e) < 0) {
        err_free(&e); /* a torn or foreign file: nothing to take over */
        return 0;
    }
    if (mpid == 0 || (alive && ended))
        return 0; /* no monitor yet, or one finishing: its files are final later */
    struct db_container u = *c;
    unsigned fields;
    if (alive) {
        /* it runs: the start the CLI did not record */
        if (!(st = recover_read(dir, "status")))
            return 0;
        const char *state = json_string_value(json_object_get(st, "state"));
        u.status =
            state && strcmp(state, "restarting") == 0 ? DB_STATUS_RESTARTING : DB_STATUS_RUNNING;
        u.pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
        u.monitor_pid = mpid;
        u.monitor_start_time =
            (uint64_t)json_integer_value(json_object_get(st, "monitorStartTime"));
        u.started_ns = recover_time(json_string_value(json_object_get(st, "startedAt")));
        if (u.started_ns == 0)
            u.started_ns = db_now_ns();
        u.restart_count = (int)json_integer_value(json_object_get(st, "restartCount"));
        if (js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) == 0)
            u.health = ctr_health_config(cfg) ? DB_HEALTH_STARTING : DB_HEALTH_NONE;
        fields = DB_SET_STATUS | DB_SET_PID | DB_SET_MONITOR | DB_SET_STARTED |
                 DB_SET_RESTART_COUNT | DB_SET_HEALTH;
    } else {
        /* it ran and ended normally; unrecorded when the row knows no such
         * end (created, or an older exit) */
        if (!ended || !(ex = recover_read(dir, "exit")))
            return 0;
        int64_t fin = recover_time(json_string_value(json_object_get(ex, "finishedAt")));
        if (fin == 0 || c->status != DB_STATUS_CREATED)
            return 0;
        if ((st = recover_read(dir, "status")))
            u.started_ns = recover_time(json_string_value(json_object_get(st, "startedAt")));
        u.status = DB_STATUS_EXITED;
        u.pid = 0;
        u.monitor_pid = 0;
        u.monitor_start_time = 0;
        u.exit_code = (int)json_integer_value(json_object_get(ex, "exitCode"));
        u.oom_killed = json_is_true(json_object_get(ex, "oomKilled"));
        u.finished_ns = fin;
        u.restart_count = (int)json_integer_value(json_object_get(ex, "restartCount"));
        fields = DB_SET_STATUS | DB_SET_PID | DB_SET_MONITOR | DB_SET_RESTART_COUNT | DB_SET_EXIT |
                 DB_SET_FINISHED | (u.started_ns ? DB_SET_STARTED : 0);
    }
    if (db_container_update(db, &u, fields, err) < 0)
        return err_wrap(err, "container %s: record its unrecorded start", c->id);
    *c = u;
    return 0;
}
