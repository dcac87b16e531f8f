/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Containers managed as Docker's: create, start, stop, kill, rm, sync, list
 * (container.h; docs/engine.md, "Containers"). */
#include "engine/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/ctr_fg.h"
#include "engine/monitor.h"
#include "engine/volume.h"
#include "image/bundle.h"
#include "image/image.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/proc.h"

char *ctr_run_dir(const struct ctr_env *env, const char *id)
{
    char *p = NULL;
    /* short: DIR/ctl.sock must fit in sun_path (108 bytes) */
    return asprintf(&p, "%s/c/%s", env->run_dir, id) < 0 ? NULL : p;
}

char *ctr_bundle_dir(const struct ctr_env *env, const char *id)
{
    char *p = NULL;
    return asprintf(&p, "%s/containers/%s", env->state_root, id) < 0 ? NULL : p;
}

/* The runtime's private state root of the monitors' workloads. */
static char *ctr_oci_root(const struct ctr_env *env)
{
    char *p = NULL;
    return asprintf(&p, "%s/containers-oci", env->run_dir) < 0 ? NULL : p;
}

static bool ctr_live(const struct db_container *c)
{
    return c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_RESTARTING ||
           c->status == DB_STATUS_PAUSED;
}

/* An annotation of the row's config, NULL when absent. */
static const char *ctr_annotation(json_t *cfg, const char *key)
{
    return json_string_value(json_object_get(json_object_get(cfg, "annotations"), key));
}

static void ctr_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- create ---- */

int ctr_new_id(char id[DB_ID_LEN + 1], struct err **err)
{
    unsigned char b[DB_ID_LEN / 2];

    for (;;) {
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
            return err_sys(err, "getrandom for a container id");
        for (size_t i = 0; i < sizeof(b); i++)
            sprintf(id + 2 * i, "%02x", b[i]);
        /* as Docker: never a short id of decimal digits only */
        if (strspn(id, "0123456789") < 12)
            return 0;
    }
}

/* Undo a create that failed midway: volumes, bundle, row. */
static void ctr_create_undo(struct db *db, const struct ctr_env *env, const char *id,
                            const struct ctr_create_opts *o, size_t n_vols)
{
    struct err *e = NULL;
    _cleanup_free_ char *bundle = ctr_bundle_dir(env, id);

    for (size_t i = 0; i < n_vols; i++)
        if (volume_release(db, o->volumes[i].name, id, &e) < 0)
            err_free(&e);
    if (bundle && fs_exists(bundle) && bundle_remove(bundle, &e) < 0)
        err_free(&e);
    if (db_container_delete(db, id, &e) < 0)
        err_free(&e);
}

static int ctr_set_annotations(json_t *spec, const struct ctr_create_opts *o, struct err **err)
{
    json_t *ann = json_object_get(spec, "annotations");
    char buf[32];

    if (!ann) {
        ann = json_object();
        if (!ann || json_object_set_new(spec, "annotations", ann) < 0)
            return err_set(err, ENOMEM, "annotations");
    }
    if (o->autoremove)
        json_object_set_new(ann, CTR_ANN_AUTOREMOVE, json_string("true"));
    if (o->open_stdin)
        json_object_set_new(ann, CTR_ANN_OPEN_STDIN, json_string("true"));
    if (o->stop_timeout >= 0) {
        snprintf(buf, sizeof(buf), "%d", o->stop_timeout);
        json_object_set_new(ann, CTR_ANN_STOP_TIMEOUT, json_string(buf));
    }
    if (o->log_max_size)
        json_object_set_new(ann, CTR_ANN_LOG_MAX_SIZE, json_string(o->log_max_size));
    if (o->log_max_file) {
        snprintf(buf, sizeof(buf), "%u", o->log_max_file);
        json_object_set_new(ann, CTR_ANN_LOG_MAX_FILE, json_string(buf));
    }
    if (o->n_volumes) {
        json_t *v = json_array();
        for (size_t i = 0; i < o->n_volumes; i++)
            json_array_append_new(v, json_string(o->volumes[i].name));
        _cleanup_free_ char *text = js_dump(v);
        json_decref(v);
        if (!text)
            return err_set(err, ENOMEM, "annotations");
        json_object_set_new(ann, CTR_ANN_VOLUMES, json_string(text));
    }
    return 0;
}

int ctr_create(struct db *db, const struct ctr_env *env, struct store *s,
               const struct ctr_create_opts *o, struct db_container **out, struct err **err)
{
    _cleanup_db_container_ struct db_container *row = NULL;
    _cleanup_json_ json_t *image_cfg = NULL, *spec = NULL;
    _cleanup_free_ char *bundle = NULL, *rootfs = NULL, *imgname = NULL, *cfgtext = NULL,
                        *logp = NULL, *rundir = NULL, *cfgpath = NULL;
    _cleanup_free_ struct compose_mount *mounts = NULL;
    char **hostdirs = NULL;
    struct restart_policy rp = {0};
    struct db_container c = {0};
    struct ctr_net cn = {0};
    bool mounted = false, net_up = false;
    size_t nv = 0;
    int rc = -1;

    _cleanup_image_ struct image *img = NULL;

    if (o->restart && restart_policy_parse(o->restart, &rp, err) < 0)
        return -1;
    /* the image first: an unknown one leaves nothing behind */
    if (image_open(s, o->image, NULL, &img, err) < 0)
        return err_wrap(err, "create container from %s", o->image);
    if (ctr_new_id(c.id, err) < 0)
        return -1;
    rundir = ctr_run_dir(env, c.id);
    bundle = ctr_bundle_dir(env, c.id);
    if (!rundir || !bundle || asprintf(&logp, "%s/ctr.log", rundir) < 0 ||
        asprintf(&rootfs, "%s/rootfs", bundle) < 0 ||
        asprintf(&cfgpath, "%s/config.json", bundle) < 0)
        return err_set(err, ENOMEM, "create container");
    c.name = (char *)o->name;
    c.image_ref = (char *)o->image;
    c.image_id = (char *)img->m.config.digest;
    c.config = (char *)"{}";
    c.status = DB_STATUS_CREATED;
    c.restart_policy = rp.mode;
    c.restart_max_retries = (int)rp.max_retries;
    c.isolation = o->microvm ? DB_ISOLATION_MICROVM : DB_ISOLATION_LINUX;
    c.log_path = logp;
    c.health = DB_HEALTH_NONE;
    if (db_container_insert(db, &c, &row, err) < 0)
        return -1;
    /* From here on, a failure undoes the row and what was made for it. */
    if (fs_mkdir_p(bundle, 0700, err) < 0 ||
        bundle_rootfs(s, o->image, bundle, false, &image_cfg, &imgname, &mounted, err) < 0)
        goto fail;
    hostdirs = calloc(o->n_volumes + 1, sizeof(*hostdirs));
    mounts = calloc(o->co.n_mounts + o->n_volumes + 4, sizeof(*mounts));
    if (!hostdirs || !mounts) {
        err_set(err, ENOMEM, "create container");
        goto fail;
    }
    for (size_t i = 0; i < o->co.n_mounts; i++)
        mounts[i] = o->co.mounts[i];
    for (; nv < o->n_volumes; nv++) {
        const struct ctr_volume *v = &o->volumes[nv];
        if (volume_mount_source(db, env->state_root, v->name, rootfs, v->destination, row->id,
                                &hostdirs[nv], err) < 0)
            goto fail;
        mounts[o->co.n_mounts + nv] = (struct compose_mount){
            .type = COMPOSE_MOUNT_BIND,
            .source = hostdirs[nv],
            .destination = v->destination,
            .readonly = v->readonly,
        };
    }
    struct compose_opts co = o->co;
    co.mounts = mounts;
    co.n_mounts = o->co.n_mounts + o->n_volumes;
    co.rootfs = NULL;
    /* Docker's default hostname: the short id */
    char short_id[13];
    snprintf(short_id, sizeof(short_id), "%.12s", row->id);
    if (!co.hostname)
        co.hostname = short_id;
    if (ctr_net_setup(db, env->run_dir, rundir, c.id, row->name, co.hostname, &o->net, image_cfg,
                      &cn, err) < 0)
        goto fail;
    net_up = true;
    ctr_net_mounts(&cn, mounts, &co.n_mounts);
    co.netns_path = cn.netns;
    co.host_network = co.host_network || cn.host;
    if (cn.hostname_of)
        co.hostname = cn.hostname_of;
    if (compose_spec(image_cfg, imgname, rootfs, &co, &spec, err) < 0 ||
        ctr_set_annotations(spec, o, err) < 0 || ctr_net_annotate(spec, &cn, err) < 0 ||
        ctr_net_annotate_opts(spec, &o->net, err) < 0 ||
        ctr_inspect_annotate(spec, &o->co, image_cfg, err) < 0 ||
        ctr_health_annotate(spec, &o->health, err) < 0 ||
        js_write_file(cfgpath, spec, 0600, err) < 0)
        goto fail;
    cfgtext = js_dump(spec);
    if (!cfgtext) {
        err_set(err, ENOMEM, "create container");
        goto fail;
    }
    if (db_container_set_config(db, row->id, cfgtext, err) < 0)
        goto fail;
    db_container_free(row);
    row = NULL;
    if (db_container_get(db, c.id, &row, err) < 0)
        goto fail;
    *out = row;
    row = NULL;
    rc = 0;
fail:
    if (rc < 0) {
        err_wrap(err, "create container from %s", o->image);
        if (net_up)
            ctr_net_teardown(db, env->run_dir, c.id, cn.network, cn.ports, cn.addr);
        /* the /etc files ctr_net_setup() wrote (a failed one removes none) */
        struct err *e2 = NULL;
        if (rundir && fs_rm_rf(rundir, &e2) < 0)
            err_free(&e2);
        ctr_create_undo(db, env, c.id, o, nv);
    }
    ctr_net_free(&cn);
    for (size_t i = 0; hostdirs && i < o->n_volumes; i++)
        free(hostdirs[i]);
    free(hostdirs);
    return rc;
}

/* ---- sync ---- */

static int ctr_read_json(const char *dir, const char *name, json_t **out)
{
    _cleanup_free_ char *p = NULL;
    struct err *e = NULL;

    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return -1;
    if (!fs_exists(p))
        return -1;
    if (js_load_file(p, out, &e) < 0) {
        err_free(&e);
        return -1;
    }
    return 0;
}

/* RFC 3339 text (the monitor's) -> ns; 0 when unreadable. */
static int64_t ctr_parse_time(const char *s)
{
    struct tm tm = {0};
    const char *p;
    int64_t ns = 0;

    if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
        return 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*p - '0');
        for (; digits < 9; digits++)
            ns *= 10;
    }
    return (int64_t)timegm(&tm) * 1000000000LL + ns;
}

/* Read c's row again (another process wrote it meanwhile). */
static int ctr_reload(struct db *db, struct db_container *c, struct err **err)
{
    struct db_container *n = NULL, tmp;

    if (db_container_get(db, c->id, &n, err) < 0)
        return -1;
    tmp = *c;
    *c = *n;
    *n = tmp;
    db_container_free(n);
    return 0;
}

int ctr_sync(struct db *db, const struct ctr_env *env, struct db_container *c, bool *removed,
             struct err **err)
{
    _cleanup_free_ char *dir = ctr_run_dir(env, c->id);
    _cleanup_json_ json_t *status = NULL, *exitj = NULL, *cfg = NULL;
    bool changed = false;

    if (removed)
        *removed = false;
    if (!dir)
        return err_set(err, ENOMEM, "container %s", c->id);
    if (ctr_sync_unrecorded(db, env, c, err) < 0)
        return -1;
    if (ctr_live(c)) {
        bool alive = db_container_monitor_alive(c);
        ctr_read_json(dir, "status", &status);
        const char *state = json_string_value(json_object_get(status, "state"));
        json_int_t mpid = json_integer_value(json_object_get(status, "monitorPid"));
        if (alive && state && strcmp(state, "exited") == 0) {
            /* the monitor is finishing: its files are final once it is gone */
        } else if (alive && state) {
            struct db_container u = *c;
            u.status = strcmp(state, "restarting") == 0 ? DB_STATUS_RESTARTING : DB_STATUS_RUNNING;
            if (u.status == DB_STATUS_RUNNING && c->status == DB_STATUS_PAUSED)
                u.status = DB_STATUS_PAUSED; /* the monitor does not know (ctr_pause) */
            u.pid = (pid_t)json_integer_value(json_object_get(status, "pid"));
            u.restart_count = (int)json_integer_value(json_object_get(status, "restartCount"));
            if (u.status != c->status || u.pid != c->pid || u.restart_count != c->restart_count) {
                if (db_container_sync_run(db, &u, c->monitor_pid, c->monitor_start_time, &changed,
                                          err) < 0)
                    return -1;
                if (changed)
                    *c = u;
                else if (ctr_reload(db, c, err) < 0)
                    return -1;
            }
        } else if (!alive && state && strcmp(state, "exited") == 0 && mpid == c->monitor_pid &&
                   ctr_read_json(dir, "exit", &exitj) == 0) {
            /* The monitor ended normally: the exit file has the truth. */
            struct db_container u = *c;
            u.status = DB_STATUS_EXITED;
            u.pid = 0;
            u.monitor_pid = 0;
            u.monitor_start_time = 0;
            u.exit_code = (int)json_integer_value(json_object_get(exitj, "exitCode"));
            u.oom_killed = json_is_true(json_object_get(exitj, "oomKilled"));
            u.finished_ns = ctr_parse_time(json_string_value(json_object_get(exitj, "finishedAt")));
            if (u.finished_ns == 0)
                u.finished_ns = db_now_ns();
            u.restart_count = (int)json_integer_value(json_object_get(exitj, "restartCount"));
            if (db_container_sync_run(db, &u, c->monitor_pid, c->monitor_start_time, &changed,
                                      err) < 0)
                return -1;
            if (changed)
                *c = u;
            else if (ctr_reload(db, c, err) < 0)
                return -1;
        } else if (!alive) {
            /* Killed monitor, or a reboot emptied the run dir: exit code 255. */
            if (db_container_check_monitor(db, c, &changed, err) < 0)
                return -1;
        }
        if (ctr_health_sync(db, env, c, err) < 0)
            return -1;
    }
    if (c->status == DB_STATUS_EXITED && c->config &&
        js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) == 0) {
        const char *ar = ctr_annotation(cfg, CTR_ANN_AUTOREMOVE);
        if (ar && strcmp(ar, "true") == 0) {
            struct err *e = NULL;
            if (ctr_remove(db, env, c->id, true, true, &e) < 0) {
                if (e->code != ENOENT) {
                    *err = e;
                    return -1;
                }
                err_free(&e);
            }
            if (removed)
                *removed = true;
        }
    }
    return 0;
}

int ctr_get(struct db *db, const struct ctr_env *env, const char *ref, struct db_container **out,
            struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    bool removed = false;

    if (db_container_get(db, ref, &c, err) < 0 || ctr_sync(db, env, c, &removed, err) < 0)
        return -1;
    if (removed)
        return err_val(err, ENOENT, "No such container: %s", ref);
    *out = c;
    c = NULL;
    return 0;
}

static int ctr_list_rows(struct db *db, const struct ctr_env *env, bool all, bool brief,
                         struct db_container ***out, size_t *n, struct err **err)
{
    struct db_container **v = NULL;
    size_t nv = 0, k = 0;

    if ((brief ? db_container_list_brief(db, true, &v, &nv, err)
               : db_container_list(db, true, &v, &nv, err)) < 0)
        return -1;
    for (size_t i = 0; i < nv; i++) {
        bool removed = false;
        if (ctr_sync(db, env, v[i], &removed, err) < 0) {
            db_container_list_free(v, nv);
            return -1;
        }
        if (removed || (!all && !ctr_live(v[i]))) {
            db_container_free(v[i]);
            continue;
        }
        v[k++] = v[i];
    }
    *out = v;
    *n = k;
    return 0;
}

int ctr_list(struct db *db, const struct ctr_env *env, bool all, struct db_container ***out,
             size_t *n, struct err **err)
{
    return ctr_list_rows(db, env, all, false, out, n, err);
}

int ctr_list_brief(struct db *db, const struct ctr_env *env, bool all, struct db_container ***out,
                   size_t *n, struct err **err)
{
    return ctr_list_rows(db, env, all, true, out, n, err);
}

/* ---- start ---- */

/* Run argv, its stdout in *outp; its stderr, when it fails, in the error. */
static int ctr_spawn(char *const argv[], char **outp, struct err **err)
{
    int po[2], pe[2], st;
    _cleanup_free_ char *o = NULL, *e = NULL;
    size_t lo = 0, le = 0;

    if (pipe2(po, O_CLOEXEC) < 0)
        return err_sys(err, "pipe for %s", argv[0]);
    if (pipe2(pe, O_CLOEXEC) < 0) {
        close(po[0]);
        close(po[1]);
        return err_sys(err, "pipe for %s", argv[0]);
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        return err_sys(err, "fork for %s", argv[0]);
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        dup2(null, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        execv(argv[0], argv);
        dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    struct err *ignored = NULL;
    if (fs_read_fd(po[0], argv[0], &o, &lo, &ignored) < 0)
        err_free(&ignored);
    if (fs_read_fd(pe[0], argv[0], &e, &le, &ignored) < 0)
        err_free(&ignored);
    close(po[0]);
    close(pe[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (e && le && e[le - 1] == '\n')
            e[le - 1] = '\0';
        return err_set(err, EIO, "%s", e && *e ? e : "the monitor failed");
    }
    *outp = o;
    o = NULL;
    return 0;
}

/* The monitor's options of a microVM workload (docs/microvm.md); its root
 * image is cached under the image's config digest. */
static int ctr_microvm_argv(const struct ctr_env *env, const struct db_container *c,
                            const char **argv, int *n, struct err **err)
{
    if (env->microvm_kernel_dir == NULL || env->microvm_agent == NULL || env->microvm_vmm == NULL ||
        env->microvm_cache_dir == NULL)
        return err_val(err, ENOENT, "no guest kernel, agent or VM monitor for a microVM");
    argv[(*n)++] = "--isolation";
    argv[(*n)++] = "microvm";
    argv[(*n)++] = "--kernel-dir";
    argv[(*n)++] = env->microvm_kernel_dir;
    argv[(*n)++] = "--agent";
    argv[(*n)++] = env->microvm_agent;
    argv[(*n)++] = "--vmm";
    argv[(*n)++] = env->microvm_vmm;
    argv[(*n)++] = "--cache-dir";
    argv[(*n)++] = env->microvm_cache_dir;
    const char *hex = c->image_id ? strchr(c->image_id, ':') : NULL;
    if (hex != NULL) {
        argv[(*n)++] = "--root-key";
        argv[(*n)++] = hex + 1;
    }
    return 0;
}

int ctr_start(struct db *db, const struct ctr_env *env, const char *ref, struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_json_ json_t *cfg = NULL;
    _cleanup_free_ char *dir = NULL, *bundle = NULL, *oci = NULL, *outp = NULL, *p = NULL;
    char restart[32], sigbuf[16] = "";
    const char *argv[64];
    int n = 0;

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (ctr_live(c))
        return 0;
    dir = ctr_run_dir(env, c->id);
    bundle = ctr_bundle_dir(env, c->id);
    oci = ctr_oci_root(env);
    if (!dir || !bundle || !oci)
        return err_set(err, ENOMEM, "start container %s", c->id);
    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, err) < 0)
        return err_wrap(err, "start container %s", c->id);
    /* the overlay is mounted at create; a reboot unmounts it (docs/engine.md) */
    struct stat sb, sr;
    if (asprintf(&p, "%s/rootfs", bundle) < 0)
        return err_set(err, ENOMEM, "start container %s", c->id);
    if (stat(bundle, &sb) == 0 && stat(p, &sr) == 0 && sb.st_dev == sr.st_dev)
        return err_val(err, ENXIO,
                       "start container %s: its root `%s` is not mounted any more (was the host "
                       "rebooted?): remove it (`isola rm`) and run it again",
                       c->id, p);
    free(p);
    p = NULL;
    if (fs_mkdir_p(dir, 0700, err) < 0 || fs_mkdir_p(oci, 0700, err) < 0)
        return err_wrap(err, "start container %s", c->id);
    /* A previous run's files: the monitor writes new ones. */
    if (asprintf(&p, "%s/status", dir) >= 0)
        unlink(p);
    /* Runtime state of an earlier run whose monitor was killed. */
    struct err *e = NULL;
    if (container_delete(oci, c->id, true, &e) < 0)
        err_free(&e);
    restart_policy_format(&(struct restart_policy){.mode = c->restart_policy,
                                                   .max_retries = (unsigned)c->restart_max_retries},
                          restart, sizeof(restart));
    argv[n++] = env->monitor_exe;
    argv[n++] = "start";
    argv[n++] = "--dir";
    argv[n++] = dir;
    argv[n++] = "--id";
    argv[n++] = c->id;
    argv[n++] = "--bundle";
    argv[n++] = bundle;
    argv[n++] = "--state-root";
    argv[n++] = oci;
    argv[n++] = "--restart";
    argv[n++] = restart;
    argv[n++] = "--log";
    argv[n++] = c->log_path;
    if (c->isolation == DB_ISOLATION_MICROVM) {
        if (ctr_microvm_argv(env, c, argv, &n, err) < 0)
            return err_wrap(err, "start container %s", c->id);
    } else if (c->isolation != DB_ISOLATION_LINUX) {
        argv[n++] = "--isolation";
        argv[n++] = db_isolation_name(c->isolation);
    }
    const char *v;
    if ((v = ctr_annotation(cfg, COMPOSE_ANN_STOP_SIGNAL))) {
        snprintf(sigbuf, sizeof(sigbuf), "%s", v);
        argv[n++] = "--stop-signal";
        argv[n++] = sigbuf;
    }
    if ((v = ctr_annotation(cfg, CTR_ANN_STOP_TIMEOUT))) {
        argv[n++] = "--stop-timeout";
        argv[n++] = v;
    }
    if ((v = ctr_annotation(cfg, CTR_ANN_LOG_MAX_SIZE))) {
        argv[n++] = "--log-max-size";
        argv[n++] = v;
    }
    if ((v = ctr_annotation(cfg, CTR_ANN_LOG_MAX_FILE))) {
        argv[n++] = "--log-max-file";
        argv[n++] = v;
    }
    if (json_is_true(json_object_get(json_object_get(cfg, "process"), "terminal")))
        argv[n++] = "--tty";
    if ((v = ctr_annotation(cfg, CTR_ANN_OPEN_STDIN)) && strcmp(v, "true") == 0)
        argv[n++] = "--interactive";
    if ((v = ctr_health_config(cfg))) {
        argv[n++] = "--healthcheck";
        argv[n++] = v;
    }
    if ((v = ctr_annotation(cfg, CTR_ANN_AUTOREMOVE)) && strcmp(v, "true") == 0 &&
        env->cleanup_argv && env->cleanup_argv[0]) {
        /* --rm: removed as soon as it ends (conmon's --exit-command) */
        argv[n++] = "--exit-command";
        argv[n++] = env->cleanup_argv[0];
        for (size_t i = 1; env->cleanup_argv[i] && n < 60; i++) {
            argv[n++] = "--exit-command-arg";
            argv[n++] = env->cleanup_argv[i];
        }
        argv[n++] = "--exit-command-arg";
        argv[n++] = c->id;
    }
    argv[n] = NULL;
    if (ctr_spawn((char *const *)argv, &outp, err) < 0)
        return err_wrap(err, "start container %s", c->id);
    long wpid = 0, mpid = 0;
    if (!outp || sscanf(outp, "%ld %ld", &wpid, &mpid) != 2)
        return err_set(err, EPROTO, "start container %s: the monitor said `%s`", c->id,
                       outp ? outp : "");
    c->status = DB_STATUS_RUNNING;
    c->pid = (pid_t)wpid;
    c->monitor_pid = (pid_t)mpid;
    c->started_ns = db_now_ns();
    c->restart_count = 0;
    c->health = ctr_health_config(cfg) ? DB_HEALTH_STARTING : DB_HEALTH_NONE;
    if (db_proc_start_time(c->monitor_pid, &c->monitor_start_time, &e) < 0)
        err_free(&e); /* it has ended already: the next sync reads its files */
    return db_container_update(db, c,
                               DB_SET_STATUS | DB_SET_PID | DB_SET_MONITOR | DB_SET_STARTED |
                                   DB_SET_RESTART_COUNT | DB_SET_HEALTH,
                               err);
}

/* ---- stop, kill ---- */

int ctr_monitor_connect(const char *dir, const char *req, size_t len)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd;

    if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/ctl.sock", dir) >=
        sizeof(a.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || send(fd, req, len, 0) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Read packets until the exit (`x`); timeout_ms -1: forever. 1: got it, 0:
 * timed out, -1: the connection ended without it. */
int ctr_await_exit(int fd, int timeout_ms, json_t **exitj)
{
    char *buf = malloc(MONITOR_MSG_MAX);
    int rc = -1;

    if (!buf)
        return -1;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            rc = 0;
            break;
        }
        ssize_t k = recv(fd, buf, MONITOR_MSG_MAX, 0);
        if (k <= 0)
            break;
        if (buf[0] == 'x') {
            if (exitj)
                js_load_buf(buf + 1, (size_t)k - 1, "exit", exitj, NULL);
            rc = 1;
            break;
        }
    }
    free(buf);
    return rc;
}

/* Wait (bounded) until c's monitor process is gone: on a pidfd (readable when
 * it exits), else polling every 20 ms. The second liveness check after
 * pidfd_open makes sure the pidfd is the recorded monitor, not a recycled pid.
 * The pidfd saves rm -f, stop and wait ~10 ms on average (bench/engine.sh). */
void ctr_wait_monitor_gone(const struct db_container *c, int timeout_ms)
{
    struct err *e = NULL;
    _cleanup_close_ int pfd = -1;

    if (c->monitor_pid > 0 && db_container_monitor_alive(c)) {
        pfd = proc_pidfd(c->monitor_pid, &e);
        if (pfd < 0)
            err_free(&e);
        if (pfd >= 0 && db_container_monitor_alive(c)) {
            struct pollfd p = {.fd = pfd, .events = POLLIN};
            while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR) {
            }
            return;
        }
    }
    for (int t = 0; t < timeout_ms && db_container_monitor_alive(c); t += 20)
        ctr_sleep_ms(20);
}

static int ctr_stop_timeout(const struct db_container *c)
{
    _cleanup_json_ json_t *cfg = NULL;
    const char *v;

    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) == 0 &&
        (v = ctr_annotation(cfg, CTR_ANN_STOP_TIMEOUT)))
        return atoi(v);
    return 10;
}

int ctr_stop(struct db *db, const struct ctr_env *env, const char *ref, int timeout,
             struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *dir = NULL, *oci = NULL;
    _cleanup_close_ int fd = -1;
    struct err *e = NULL;

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (!ctr_live(c))
        return 0;
    if (timeout < 0)
        timeout = ctr_stop_timeout(c);
    dir = ctr_run_dir(env, c->id);
    oci = ctr_oci_root(env);
    if (!dir || !oci)
        return err_set(err, ENOMEM, "stop container %s", c->id);
    /* as Docker: a paused container is thawed so that it gets the signal */
    ctr_thaw_if_paused(env, c);
    fd = ctr_monitor_connect(dir, "stop", 4);
    if (fd < 0) {
        /* No socket: signal the monitor (SIGTERM is a stop request to it). */
        if (db_container_monitor_alive(c))
            kill(c->monitor_pid, SIGTERM);
        /* a foreground run's row: its `isola run` forwards SIGTERM; SIGKILL
         * to its workload after the timeout (ctr_fg.h) */
        if (ctr_fg_is(c)) {
            ctr_wait_monitor_gone(c, timeout * 1000);
            if (db_container_monitor_alive(c) && ctr_fg_kill(c, SIGKILL, true, &e) < 0)
                err_free(&e);
        }
    } else if (ctr_await_exit(fd, timeout * 1000, NULL) == 0) {
        /* Docker's stop -t: SIGKILL once the timeout is over. */
        if (container_kill(oci, c->id, SIGKILL, true, &e) < 0)
            err_free(&e);
        ctr_await_exit(fd, 30000, NULL);
    }
    ctr_wait_monitor_gone(c, 30000);
    char id[DB_ID_LEN + 1];
    memcpy(id, c->id, sizeof(id));
    db_container_free(c);
    c = NULL;
    if (db_container_get(db, id, &c, &e) < 0) {
        /* an --rm container: its monitor's exit command removed it */
        if (e->code == ENOENT) {
            err_free(&e);
            return 0;
        }
        *err = e;
        return -1;
    }
    return ctr_sync(db, env, c, NULL, err);
}

int ctr_kill(struct db *db, const struct ctr_env *env, const char *ref, int sig, struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *oci = ctr_oci_root(env);

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (c->status != DB_STATUS_RUNNING && c->status != DB_STATUS_PAUSED)
        return err_val(err, EINVAL, "cannot kill container: %s: container %s is not running", ref,
                       c->id);
    if (!oci)
        return err_set(err, ENOMEM, "kill container %s", c->id);
    /* through the monitor: SIGKILL and the stop signal turn its restart
     * policy off (Docker's); the runtime when there is no monitor to ask */
    int r = ctr_kill_monitor(env, c, sig, err);
    if (r < 0)
        return -1;
    if (r == 0 && (r = ctr_fg_kill(c, sig, false, err)) < 0) /* a foreground run's row */
        return -1;
    if (r == 0 && container_kill(oci, c->id, sig, false, err) < 0)
        return -1;
    /* as Docker: a paused container is thawed after the signal, to act on it */
    ctr_thaw_if_paused(env, c);
    return 0;
}

/* ---- rm ---- */

/* Release every volume the row records (CTR_ANN_VOLUMES). */
static void ctr_release_volumes(struct db *db, const struct ctr_env *env,
                                const struct db_container *c, bool remove_anonymous)
{
    _cleanup_json_ json_t *cfg = NULL, *vols = NULL;
    const char *v;
    struct err *e = NULL;
    size_t i;
    json_t *it;

    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) < 0 ||
        !(v = ctr_annotation(cfg, CTR_ANN_VOLUMES)) ||
        js_load_buf(v, strlen(v), "volumes", &vols, NULL) < 0)
        return;
    json_array_foreach (vols, i, it) {
        const char *name = json_string_value(it);
        _cleanup_db_volume_ struct db_volume *dv = NULL;
        if (!name)
            continue;
        if (volume_release(db, name, c->id, &e) < 0)
            err_free(&e);
        /* rm -v: anonymous volumes go with their container, as Docker's */
        if (remove_anonymous && db_volume_get(db, name, &dv, &e) == 0 && dv->anonymous) {
            if (volume_remove(db, env->state_root, name, false, &e) < 0)
                err_free(&e);
        }
        err_free(&e);
    }
}

/* Disconnect it and drop its network namespace (CTR_ANN_NETWORK). */
static void ctr_release_network(struct db *db, const struct ctr_env *env,
                                const struct db_container *c)
{
    _cleanup_json_ json_t *cfg = NULL, *ports = NULL;

    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) < 0)
        return;
    ports = ctr_net_ports_load(json_object_get(cfg, "annotations"));
    ctr_net_teardown(db, env->run_dir, c->id, ctr_annotation(cfg, CTR_ANN_NETWORK), ports,
                     ctr_annotation(cfg, CTR_ANN_IP));
}

int ctr_remove(struct db *db, const struct ctr_env *env, const char *ref, bool force, bool volumes,
               struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *dir = NULL, *oci = NULL, *bundle = NULL;
    struct err *e = NULL;

    if (db_container_get(db, ref, &c, err) < 0)
        return -1;
    dir = ctr_run_dir(env, c->id);
    oci = ctr_oci_root(env);
    bundle = ctr_bundle_dir(env, c->id);
    if (!dir || !oci || !bundle)
        return err_set(err, ENOMEM, "remove container %s", c->id);
    /* a monitor that a killed `run -d` or `start` did not record is stopped
     * as a recorded one is */
    if (ctr_sync_unrecorded(db, env, c, &e) < 0)
        err_free(&e);
    if (ctr_live(c) && db_container_monitor_alive(c)) {
        if (!force)
            return err_val(err, EBUSY,
                           "cannot remove container \"/%s\": container is running: stop the "
                           "container before removing or force remove",
                           c->name);
        /* SIGTERM to the monitor is a stop request (no restart); SIGKILL to
         * the workload makes it quick, as Docker's rm -f. */
        kill(c->monitor_pid, SIGTERM);
        if (container_kill(oci, c->id, SIGKILL, true, &e) < 0)
            err_free(&e);
        if (ctr_fg_kill(c, SIGKILL, true, &e) < 0) /* a foreground run's row */
            err_free(&e);
        ctr_wait_monitor_gone(c, 20000);
        if (db_container_monitor_alive(c)) {
            kill(c->monitor_pid, SIGKILL);
            ctr_wait_monitor_gone(c, 10000);
        }
    }
    /* What a killed monitor leaves: processes, cgroup, runtime state. */
    if (container_delete(oci, c->id, true, &e) < 0)
        err_free(&e);
    ctr_release_volumes(db, env, c, volumes);
    ctr_release_network(db, env, c);
    /* an --rm container's own cleanup may be removing it too: what is gone
     * meanwhile is not an error */
    if (fs_exists(bundle) && bundle_remove(bundle, &e) < 0) {
        if (e->code != ENOENT) {
            *err = e;
            return err_wrap(err, "remove container %s", c->id);
        }
        err_free(&e);
    }
    if (fs_rm_rf(dir, err) < 0)
        return err_wrap(err, "remove container %s", c->id);
    if (db_container_delete(db, c->id, &e) < 0) {
        if (e->code != ENOENT) {
            *err = e;
            return -1;
        }
        err_free(&e);
    }
    return 0;
}
