/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Containers' health checks (container.h; docs/engine.md, "Health checks"):
 * the merged Healthcheck in the config, the monitor's DIR/health in the row,
 * inspect's State.Health, `healthcheck run`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/container.h"
#include "engine/health.h"
#include "engine/monitor.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

int ctr_health_annotate(json_t *spec, const struct health_opts *o, struct err **err)
{
    json_t *ann = json_object_get(spec, "annotations");
    _cleanup_json_ json_t *image_hc = NULL, *hc = NULL;
    const char *text = json_string_value(json_object_get(ann, COMPOSE_ANN_HEALTHCHECK));

    if (text)
        image_hc = json_loads(text, 0, NULL);
    if (health_config_merge(image_hc, o, &hc, err) < 0)
        return -1;
    if (!hc) {
        json_object_del(ann, COMPOSE_ANN_HEALTHCHECK);
        return 0;
    }
    _cleanup_free_ char *out = js_dump(hc);
    if (!out || !json_is_object(ann) ||
        json_object_set_new(ann, COMPOSE_ANN_HEALTHCHECK, json_string(out)) < 0)
        return err_set(err, ENOMEM, "healthcheck annotation");
    return 0;
}

const char *ctr_health_config(json_t *cfg)
{
    const char *text = json_string_value(
        json_object_get(json_object_get(cfg, "annotations"), COMPOSE_ANN_HEALTHCHECK));
    struct health_config hc;
    struct err *e = NULL;

    if (!text)
        return NULL;
    if (health_config_parse(text, &hc, &e) < 0) {
        err_free(&e);
        return NULL;
    }
    bool on = hc.args != NULL;
    health_config_release(&hc);
    return on ? text : NULL;
}

/* The monitor's DIR/health, or NULL. */
static json_t *ctr_health_read(const struct ctr_env *env, const char *id)
{
    _cleanup_free_ char *dir = ctr_run_dir(env, id), *p = NULL;
    json_t *j = NULL;
    struct err *e = NULL;

    if (!dir || asprintf(&p, "%s/health", dir) < 0 || !fs_exists(p))
        return NULL;
    if (js_load_file(p, &j, &e) < 0)
        err_free(&e);
    return j;
}

int ctr_health_sync(struct db *db, const struct ctr_env *env, struct db_container *c,
                    struct err **err)
{
    _cleanup_json_ json_t *j = NULL;

    if (c->health == DB_HEALTH_NONE || !(j = ctr_health_read(env, c->id)))
        return 0;
    int h = db_health_parse(json_string_value(json_object_get(j, "Status")) ?: "");
    if (h < 0 || h == (int)c->health)
        return 0;
    struct db_container u = *c;
    u.health = (enum db_health)h;
    if (db_container_update(db, &u, DB_SET_HEALTH, err) < 0)
        return -1;
    c->health = u.health;
    return 0;
}

json_t *ctr_health_inspect(const struct ctr_env *env, const struct db_container *c)
{
    json_t *j;

    if (c->health == DB_HEALTH_NONE)
        return NULL;
    if ((j = ctr_health_read(env, c->id))) {
        /* the row has the status the commands act on */
        json_object_set_new(j, "Status", json_string(db_health_name(c->health)));
        return j;
    }
    return json_pack("{s:s,s:i,s:[]}", "Status", db_health_name(c->health), "FailingStreak", 0,
                     "Log");
}

int ctr_healthcheck_run(struct db *db, const struct ctr_env *env, const char *ref, json_t **out,
                        struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_json_ json_t *cfg = NULL;
    _cleanup_free_ char *dir = NULL, *buf = NULL;

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, err) < 0)
        return err_wrap(err, "healthcheck of container %s", c->id);
    if (!ctr_health_config(cfg))
        return err_val(err, EINVAL, "container %s has no defined healthcheck", c->id);
    if (c->status != DB_STATUS_RUNNING)
        return err_val(err, EINVAL, "container %s is not running", c->id);
    dir = ctr_run_dir(env, c->id);
    buf = malloc(MONITOR_MSG_MAX + 1);
    if (!dir || !buf)
        return err_set(err, ENOMEM, "healthcheck of container %s", c->id);
    _cleanup_close_ int fd = ctr_monitor_connect(dir, "health", 6);
    if (fd < 0)
        return err_sys(err, "healthcheck of container %s: the monitor's socket in %s", c->id, dir);
    ssize_t k;
    while ((k = recv(fd, buf, MONITOR_MSG_MAX, 0)) < 0 && errno == EINTR)
        ;
    if (k <= 0)
        return err_val(err, EPIPE, "healthcheck of container %s: the monitor went away", c->id);
    buf[k] = '\0';
    if (buf[0] == 'E')
        return err_val(err, EINVAL, "healthcheck of container %s: %s", c->id, buf + 1);
    if (buf[0] != 'h' || js_load_buf(buf + 1, (size_t)k - 1, "health reply", out, err) < 0)
        return err_val(err, EPROTO, "healthcheck of container %s: unexpected reply", c->id);
    /* the new state in the row now, for ps and filters */
    struct err *e = NULL;
    if (ctr_health_sync(db, env, c, &e) < 0)
        err_free(&e);
    return 0;
}
