/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A foreground run's row and network: see ctr_fg.h. */
#include "engine/ctr_fg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/ctr_netgc.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

bool ctr_fg_wants_network(const struct ctr_net_opts *o)
{
    /* none and host need no address, but --dns, --dns-search and
     * --add-host need the /etc files of a row's run dir */
    return !o->network || (strcmp(o->network, "none") != 0 && strcmp(o->network, "host") != 0) ||
           (o->dns && o->dns[0]) || (o->dns_search && o->dns_search[0]) ||
           (o->add_host && o->add_host[0]);
}

void ctr_fg_collect(struct db *db, const struct ctr_env *env)
{
    struct db_container **v = NULL;
    size_t n = 0;
    struct err *e = NULL;

    if (db_container_list(db, true, &v, &n, &e) < 0) {
        err_free(&e);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        _cleanup_json_ json_t *cfg = NULL;
        if (!v[i]->config ||
            js_load_buf(v[i]->config, strlen(v[i]->config), "config", &cfg, NULL) < 0 ||
            !json_object_get(json_object_get(cfg, "annotations"), CTR_ANN_FOREGROUND))
            continue;
        if (ctr_sync(db, env, v[i], NULL, &e) < 0)
            err_free(&e);
    }
    db_container_list_free(v, n);
}

static char *ctr_fg_config(const char *bundle, const char *oci_root, const struct ctr_net *cn)
{
    _cleanup_json_ json_t *cfg = json_pack("{s:{s:s, s:s}}", "annotations", CTR_ANN_AUTOREMOVE,
                                           "true", CTR_ANN_FOREGROUND, bundle);

    if (cfg && oci_root)
        json_object_set_new(json_object_get(cfg, "annotations"), CTR_ANN_FOREGROUND_STATE,
                            json_string(oci_root));
    if (!cfg || (cn && ctr_net_annotate(cfg, cn, NULL) < 0))
        return NULL;
    return js_dump(cfg);
}

/* The runtime state root of c's workload (caller frees), NULL: not a
 * foreground run's row. */
static char *ctr_fg_state(const struct db_container *c)
{
    _cleanup_json_ json_t *cfg = NULL;
    const char *state;

    if (!c->config || js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) < 0 ||
        !(state = json_string_value(
              json_object_get(json_object_get(cfg, "annotations"), CTR_ANN_FOREGROUND_STATE))))
        return NULL;
    return strdup(state);
}

bool ctr_fg_is(const struct db_container *c)
{
    _cleanup_free_ char *state = ctr_fg_state(c);

    return state != NULL;
}

int ctr_fg_kill(const struct db_container *c, int sig, bool all, struct err **err)
{
    _cleanup_free_ char *state = ctr_fg_state(c);

    if (!state)
        return 0;
    if (container_kill(state, c->name, sig, all, err) < 0)
        return err_wrap(err, "foreground run %s", c->name);
    return 1;
}

int ctr_fg_setup(struct db *db, const struct ctr_env *env, const char *name, const char *image_ref,
                 const char *bundle, const char *oci_root, const char *hostname,
                 const struct ctr_net_opts *o, json_t *image_config, struct ctr_fg *out,
                 struct err **err)
{
    _cleanup_db_container_ struct db_container *row = NULL;
    _cleanup_free_ char *cfg = ctr_fg_config(bundle, oci_root, NULL), *rundir = NULL, *cfg2 = NULL;
    struct db_container c = {0};
    struct ctr_fg f = {0};

    if (!cfg)
        return err_set(err, ENOMEM, "foreground run %s", name);
    ctr_fg_collect(db, env);
    ctr_netgc_collect(db, env->run_dir);
    /* "running", its monitor this process: once it is gone, however it
     * ended, ctr_sync() finds the row dead and removes it (autoRemove) */
    c.name = (char *)name;
    c.image_ref = (char *)image_ref;
    c.image_id = (char *)"";
    c.config = cfg;
    c.status = DB_STATUS_RUNNING;
    c.monitor_pid = getpid();
    c.started_ns = db_now_ns();
    c.isolation = DB_ISOLATION_LINUX;
    c.log_path = (char *)"";
    c.health = DB_HEALTH_NONE;
    if (db_proc_start_time(c.monitor_pid, &c.monitor_start_time, err) < 0 ||
        db_container_insert(db, &c, &row, err) < 0)
        return err_wrap(err, "foreground run %s", name);
    snprintf(f.id, sizeof(f.id), "%s", row->id);
    rundir = ctr_run_dir(env, f.id);
    if (!rundir) {
        err_set(err, ENOMEM, "foreground run %s", name);
        goto fail;
    }
    if (ctr_net_setup(db, env->run_dir, rundir, f.id, row->name, hostname, o, image_config, &f.cn,
                      err) < 0)
        goto fail;
    if (!(cfg2 = ctr_fg_config(bundle, oci_root, &f.cn))) {
        err_set(err, ENOMEM, "foreground run %s", name);
        goto fail;
    }
    if (db_container_set_config(db, f.id, cfg2, err) < 0)
        goto fail;
    *out = f;
    return 0;
fail:
    ctr_fg_teardown(db, env, &f);
    return err_wrap(err, "foreground run %s", name);
}

void ctr_fg_teardown(struct db *db, const struct ctr_env *env, struct ctr_fg *f)
{
    _cleanup_free_ char *rundir = NULL;
    struct err *e = NULL;

    if (!f->id[0])
        return;
    if (f->cn.hosts)
        ctr_net_teardown(db, env->run_dir, f->id, f->cn.network, f->cn.ports, f->cn.addr);
    rundir = ctr_run_dir(env, f->id);
    if (rundir && fs_rm_rf(rundir, &e) < 0)
        err_free(&e);
    if (db_container_delete(db, f->id, &e) < 0)
        err_free(&e);
    ctr_net_free(&f->cn);
    f->id[0] = 0;
}

json_t *ctr_fg_args(const struct db_container *c)
{
    _cleanup_json_ json_t *cfg = NULL, *spec = NULL;
    _cleanup_free_ char *path = NULL;
    const char *bundle;

    if (!c->config || js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) < 0 ||
        !(bundle = json_string_value(
              json_object_get(json_object_get(cfg, "annotations"), CTR_ANN_FOREGROUND))) ||
        asprintf(&path, "%s/config.json", bundle) < 0) {
        path = NULL;
        return NULL;
    }
    if (js_load_file(path, &spec, NULL) < 0)
        return NULL;
    return json_incref(json_object_get(json_object_get(spec, "process"), "args"));
}
