/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker pause / unpause: every process of the container frozen or thawed
 * through the runtime (its cgroup's freezer); the row says "paused". And
 * docker top's pids, from the same runtime state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/container.h"
#include "runtime/container.h"
#include "util/cleanup.h"

int ctr_pause(struct db *db, const struct ctr_env *env, const char *ref, bool pause,
              struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *oci = NULL;

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (pause && c->status == DB_STATUS_PAUSED)
        return err_val(err, EINVAL, "Container %s is already paused", c->id);
    if (!pause && c->status != DB_STATUS_PAUSED)
        return err_val(err, EINVAL, "Container %s is not paused", c->id);
    if (pause && c->status != DB_STATUS_RUNNING)
        return err_val(err, EINVAL, "Container %s is not running", c->id);
    if (asprintf(&oci, "%s/containers-oci", env->run_dir) < 0) {
        oci = NULL;
        return err_set(err, ENOMEM, "%s container %s", pause ? "pause" : "unpause", c->id);
    }
    if (pause)
        ctr_health_hold(env, c, true); /* no probe exec may be frozen midway */
    if (container_pause(oci, c->id, pause, err) < 0) {
        err_wrap(err, "%s container %s", pause ? "pause" : "unpause", c->id);
        return -1;
    }
    if (!pause)
        ctr_health_hold(env, c, false);
    c->status = pause ? DB_STATUS_PAUSED : DB_STATUS_RUNNING;
    return db_container_update(db, c, DB_SET_STATUS, err);
}

void ctr_thaw_if_paused(const struct ctr_env *env, const struct db_container *c)
{
    _cleanup_free_ char *oci = NULL;
    struct err *e = NULL;

    if (c->status != DB_STATUS_PAUSED || asprintf(&oci, "%s/containers-oci", env->run_dir) < 0)
        return;
    if (container_pause(oci, c->id, false, &e) < 0)
        err_free(&e);
    ctr_health_hold(env, c, false);
}

int ctr_top_pids(struct db *db, const struct ctr_env *env, const char *ref, pid_t **pids, size_t *n,
                 struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *oci = NULL;

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (c->status != DB_STATUS_RUNNING && c->status != DB_STATUS_PAUSED)
        return err_val(err, EINVAL, "container %s is not running", c->id);
    if (asprintf(&oci, "%s/containers-oci", env->run_dir) < 0) {
        oci = NULL;
        return err_set(err, ENOMEM, "top of container %s", c->id);
    }
    if (container_ps(oci, c->id, pids, n, err) < 0) {
        err_wrap(err, "top of container %s", c->id);
        return -1;
    }
    return 0;
}

int ctr_kill_monitor(const struct ctr_env *env, const struct db_container *c, int sig,
                     struct err **err)
{
    _cleanup_free_ char *dir = ctr_run_dir(env, c->id);
    char req[32], rep[512];

    if (!dir)
        return err_set(err, ENOMEM, "kill container %s", c->id);
    int len = snprintf(req, sizeof(req), "kill %d", sig);
    _cleanup_close_ int fd = ctr_monitor_connect(dir, req, (size_t)len);
    if (fd < 0)
        return 0;
    ssize_t n;
    do
        n = recv(fd, rep, sizeof(rep) - 1, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 0; /* an older monitor closes unknown requests: the runtime does it */
    rep[n] = '\0';
    if (rep[0] == 'E' && strncmp(rep + 1, "unknown request", 15) == 0)
        return 0;
    if (rep[0] == 'E')
        return err_val(err, EINVAL, "kill container %s: %s", c->id, rep + 1);
    return 1;
}
