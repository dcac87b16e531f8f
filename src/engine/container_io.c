/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Containers: wait, exec, logs, inspect and the STATUS text (container.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/container.h"
#include "engine/ctr_net.h"
#include "engine/monitor.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static void exec_env_freep(char ***v);

static bool io_live(const struct db_container *c)
{
    return c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_RESTARTING ||
           c->status == DB_STATUS_PAUSED;
}

int ctr_wait(struct db *db, const struct ctr_env *env, const char *ref, int *code, struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *dir = NULL, *id = NULL;
    _cleanup_json_ json_t *exitj = NULL;
    struct err *e = NULL;

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (io_live(c)) {
        dir = ctr_run_dir(env, c->id);
        if (!dir)
            return err_set(err, ENOMEM, "wait for container %s", c->id);
        _cleanup_close_ int fd = ctr_monitor_connect(dir, "wait", 4);
        if (fd >= 0)
            ctr_await_exit(fd, -1, &exitj);
        /* the monitor writes its files, then exits */
        ctr_wait_monitor_gone(c, 30000);
    }
    id = strdup(c->id);
    db_container_free(c);
    c = NULL;
    if (!id)
        return err_set(err, ENOMEM, "wait for container");
    if (db_container_get(db, id, &c, &e) < 0) {
        /* an --rm container removed by its monitor's exit command: the code
         * is the one the monitor sent */
        json_t *code_j = json_object_get(exitj, "exitCode");
        if (e->code == ENOENT && json_is_integer(code_j)) {
            err_free(&e);
            *code = (int)json_integer_value(code_j);
            return 0;
        }
        *err = e;
        return -1;
    }
    /* an --rm container goes in the sync: c was updated from the exit file
     * before the row went */
    if (ctr_sync(db, env, c, NULL, err) < 0)
        return -1;
    *code = c->exit_code;
    return 0;
}

/* The id in a passwd or group file of the root for `name` (*gid: a passwd
 * entry's group); -1 when absent. */
static long exec_lookup(const char *root, const char *file, const char *name, long *gid)
{
    char path[4096], line[1024];
    _cleanup_fclose_ FILE *f = NULL;

    /* matched by name, or by id when name is a number */
    snprintf(path, sizeof(path), "%s/%s", root, file);
    if (!(f = fopen(path, "re")))
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *fld[4] = {0}, *save = NULL, *t = strtok_r(line, ":", &save);
        for (int i = 0; t && i < 4; i++, t = strtok_r(NULL, ":\n", &save))
            fld[i] = t;
        if (fld[0] && fld[2] && (strcmp(fld[0], name) == 0 || strcmp(fld[2], name) == 0)) {
            if (gid)
                *gid = fld[3] ? strtol(fld[3], NULL, 10) : 0;
            return strtol(fld[2], NULL, 10);
        }
    }
    return -1;
}

/* -u NAME|UID[:GROUP|GID] -> "uid:gid", as Docker resolves it in the root. */
static int exec_user(const char *root, const char *user, char *out, size_t len, struct err **err)
{
    char u[256], *g;
    long uid, gid = 0;

    snprintf(u, sizeof(u), "%s", user);
    if ((g = strchr(u, ':')))
        *g++ = '\0';
    char *end;
    uid = strtol(u, &end, 10);
    if (*u == '\0' || *end != '\0') {
        uid = exec_lookup(root, "etc/passwd", u, &gid);
        if (uid < 0)
            return err_val(err, ENOENT,
                           "unable to find user %s: no matching entries in passwd file", u);
    } else {
        /* a numeric uid with a passwd entry gets its group, as Docker's */
        exec_lookup(root, "etc/passwd", u, &gid);
    }
    if (g) {
        gid = strtol(g, &end, 10);
        if (*g == '\0' || *end != '\0') {
            gid = exec_lookup(root, "etc/group", g, NULL);
            if (gid < 0)
                return err_val(err, ENOENT,
                               "unable to find group %s: no matching entries in group file", g);
        }
    }
    snprintf(out, len, "%ld:%ld", uid, gid);
    return 0;
}

/* The container's env with -e entries over it (a key replaced in place). */
static char **exec_env(const char *config, char *const *add)
{
    _cleanup_json_ json_t *cfg = NULL;
    json_t *arr, *v;
    size_t i, n = 0, na = 0;

    if (js_load_buf(config, strlen(config), "config", &cfg, NULL) < 0)
        return NULL;
    arr = json_object_get(json_object_get(cfg, "process"), "env");
    while (add && add[na])
        na++;
    char **out = calloc(json_array_size(arr) + na + 1, sizeof(char *));
    if (!out)
        return NULL;
    json_array_foreach (arr, i, v) {
        if (json_string_value(v))
            out[n++] = strdup(json_string_value(v));
    }
    for (size_t k = 0; k < na; k++) {
        const char *eq = strchr(add[k], '=');
        size_t kl = eq ? (size_t)(eq - add[k]) : strlen(add[k]);
        size_t j;
        for (j = 0; j < n; j++)
            if (out[j] && strncmp(out[j], add[k], kl) == 0 && out[j][kl] == '=')
                break;
        if (j < n)
            free(out[j]);
        else
            j = n++;
        out[j] = strdup(add[k]);
    }
    return out;
}

static void exec_env_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void exec_env_freep(char ***v)
{
    exec_env_free(*v);
}

/* Append s and its NUL to the request. */
static int exec_put(char *req, size_t *off, const char *s)
{
    size_t l = strlen(s) + 1;
    if (*off + l > MONITOR_MSG_MAX)
        return -1;
    memcpy(req + *off, s, l);
    *off += l;
    return 0;
}

int ctr_exec(struct db *db, const struct ctr_env *env, const char *ref, char *const *args,
             const struct ctr_exec_opts *xo, FILE *out, FILE *errf, int *code, struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *dir = NULL, *req = NULL, *buf = NULL, *bundle = NULL;
    __attribute__((cleanup(exec_env_freep))) char **envv = NULL;
    char user[64];
    size_t off = 0;
    bool detach = xo && xo->detach;

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (c->status != DB_STATUS_RUNNING)
        return err_val(err, EINVAL, "container %s is not running", c->id);
    dir = ctr_run_dir(env, c->id);
    bundle = ctr_bundle_dir(env, c->id);
    req = malloc(MONITOR_MSG_MAX);
    buf = malloc(MONITOR_MSG_MAX);
    if (!dir || !bundle || !req || !buf)
        return err_set(err, ENOMEM, "exec in container %s", c->id);
    bool opts = xo && ((xo->env && xo->env[0]) || xo->workdir || xo->user || xo->tty ||
                       xo->interactive || detach);
    int bad = exec_put(req, &off, opts ? "execx" : "exec");
    if (opts) {
        if (xo->env && xo->env[0]) {
            envv = exec_env(c->config, xo->env);
            if (!envv)
                return err_set(err, ENOMEM, "exec in container %s: env", c->id);
            for (size_t i = 0; envv[i]; i++)
                bad |= exec_put(req, &off, "env") | exec_put(req, &off, envv[i]);
        }
        if (xo->workdir)
            bad |= exec_put(req, &off, "cwd") | exec_put(req, &off, xo->workdir);
        if (xo->user) {
            char root[4096];
            snprintf(root, sizeof(root), "%s/rootfs", bundle);
            if (exec_user(root, xo->user, user, sizeof(user), err) < 0)
                return -1;
            bad |= exec_put(req, &off, "user") | exec_put(req, &off, user);
        }
        if (detach) {
            /* Docker's exec -d: the monitor keeps it; no stdio to relay */
            bad |= exec_put(req, &off, "detach") | exec_put(req, &off, "1");
        } else if (xo->tty) {
            char size[32];
            snprintf(size, sizeof(size), "%u %u", xo->rows, xo->cols);
            bad |= exec_put(req, &off, "tty") | exec_put(req, &off, size);
        }
        if (xo->interactive && !detach)
            bad |= exec_put(req, &off, "stdin") | exec_put(req, &off, "1");
        bad |= exec_put(req, &off, "--");
    }
    for (size_t i = 0; args[i]; i++)
        bad |= exec_put(req, &off, args[i]);
    size_t len = off - 1; /* the last NUL is not sent */
    if (bad)
        return err_val(err, E2BIG, "exec in container %s: the command is too long", c->id);
    if (xo && xo->attach && !detach) {
        bool detached = false;
        return ctr_attach_req(dir, c->id, req, len, xo->attach, code, &detached, err) < 0 ? -1 : 0;
    }
    _cleanup_close_ int fd = ctr_monitor_connect(dir, req, len);
    if (fd < 0)
        return err_sys(err, "exec in container %s: the monitor's socket in %s", c->id, dir);
    for (;;) {
        ssize_t k = recv(fd, buf, MONITOR_MSG_MAX, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return err_val(err, EPIPE, "exec in container %s: the monitor went away", c->id);
        if (buf[0] == 'o' || buf[0] == 'e') {
            if (!detach) {
                FILE *f = buf[0] == 'o' ? out : errf;
                fwrite(buf + 1, 1, (size_t)k - 1, f);
                fflush(f);
            }
        } else if (buf[0] == 's') {
            /* exec -d: it started; the monitor records its exit */
            *code = 0;
            return 0;
        } else if (buf[0] == 'x') {
            _cleanup_json_ json_t *x = NULL;
            if (js_load_buf(buf + 1, (size_t)k - 1, "exec exit", &x, err) < 0)
                return -1;
            *code = (int)json_integer_value(json_object_get(x, "exitCode"));
            return 0;
        } else if (buf[0] == 'E') {
            /* Docker's 126/127: cannot execute / not found */
            const char *msg = buf + 1;
            buf[k < MONITOR_MSG_MAX ? k : MONITOR_MSG_MAX - 1] = '\0';
            bool notfound = strstr(msg, "No such file") || strstr(msg, "not found");
            *code = notfound ? 127 : 126;
            fprintf(errf, "OCI runtime exec failed: %s\n", msg);
            return 0;
        }
    }
}

/* ---- status text, inspect ---- */

void ctr_human_duration(int64_t ns, char *buf, size_t len)
{
    int64_t s = ns / 1000000000LL;

    /* Go's units.HumanDuration */
    if (s < 1)
        snprintf(buf, len, "Less than a second");
    else if (s == 1)
        snprintf(buf, len, "1 second");
    else if (s < 60)
        snprintf(buf, len, "%lld seconds", (long long)s);
    else if (s / 60 == 1)
        snprintf(buf, len, "About a minute");
    else if (s / 60 < 60)
        snprintf(buf, len, "%lld minutes", (long long)(s / 60));
    else if (s / 3600 == 1)
        snprintf(buf, len, "About an hour");
    else if (s / 3600 < 48)
        snprintf(buf, len, "%lld hours", (long long)(s / 3600));
    else if (s / 3600 < 24 * 7 * 2)
        snprintf(buf, len, "%lld days", (long long)(s / 86400));
    else if (s / 3600 < 24 * 30 * 2)
        snprintf(buf, len, "%lld weeks", (long long)(s / 86400 / 7));
    else if (s / 3600 < 24 * 365 * 2)
        snprintf(buf, len, "%lld months", (long long)(s / 86400 / 30));
    else
        snprintf(buf, len, "%lld years", (long long)(s / 86400 / 365));
}

void ctr_status_text(const struct db_container *c, char *buf, size_t len)
{
    char d[64];
    int64_t now = db_now_ns();

    switch (c->status) {
    case DB_STATUS_RUNNING:
    case DB_STATUS_PAUSED:
        ctr_human_duration(now - c->started_ns, d, sizeof(d));
        snprintf(buf, len, "Up %s%s", d, c->status == DB_STATUS_PAUSED ? " (Paused)" : "");
        if (c->status == DB_STATUS_RUNNING && c->health != DB_HEALTH_NONE) {
            /* Docker's State.String(): "(health: starting)", "(healthy)" */
            size_t l = strlen(buf);
            snprintf(buf + l, len - l, c->health == DB_HEALTH_STARTING ? " (health: %s)" : " (%s)",
                     db_health_name(c->health));
        }
        break;
    case DB_STATUS_RESTARTING:
        ctr_human_duration(now - c->finished_ns, d, sizeof(d));
        snprintf(buf, len, "Restarting (%d) %s ago", c->exit_code, d);
        break;
    case DB_STATUS_EXITED:
        ctr_human_duration(now - c->finished_ns, d, sizeof(d));
        snprintf(buf, len, "Exited (%d) %s ago", c->exit_code, d);
        break;
    case DB_STATUS_CREATED:
        snprintf(buf, len, "Created");
        break;
    case DB_STATUS_REMOVING:
        snprintf(buf, len, "Removal In Progress");
        break;
    case DB_STATUS_DEAD:
        snprintf(buf, len, "Dead");
        break;
    }
}

static json_t *io_time(int64_t ns)
{
    char b[DB_TIME_LEN];
    return json_string(db_time_format(ns, b));
}

static json_t *io_copy(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v ? json_deep_copy(v) : json_null();
}

int ctr_inspect(struct db *db, const struct ctr_env *env, const struct db_container *c,
                json_t **out, struct err **err)
{
    _cleanup_json_ json_t *cfg = NULL;
    json_t *proc, *ann, *mounts, *m, *env_arr, *labels = NULL;
    size_t i;
    char rp[32];

    (void)db;
    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, err) < 0)
        return err_wrap(err, "inspect container %s", c->id);
    proc = json_object_get(cfg, "process");
    ann = json_object_get(cfg, "annotations");
    env_arr = json_object_get(proc, "env");
    if (c->labels)
        labels = json_loads(c->labels, 0, NULL);
    if (labels && json_object_size(labels) == 0) {
        json_decref(labels);
        labels = NULL;
    }
    if (!labels) {
        /* the composer puts the labels among the annotations */
        labels = json_object();
        const char *k;
        json_t *v;
        json_object_foreach (ann, k, v) {
            if (strncmp(k, "org.opencontainers.image.", 25) != 0 && strncmp(k, "io.isola.", 9) != 0)
                json_object_set(labels, k, v);
        }
    }
    mounts = json_array();
    json_array_foreach (json_object_get(cfg, "mounts"), i, m) {
        const char *src = json_string_value(json_object_get(m, "source"));
        const char *dst = json_string_value(json_object_get(m, "destination"));
        bool bind = false, ro = false;
        size_t j;
        json_t *o;
        if (ctr_net_own_mount(c->id, src, dst))
            continue; /* Docker does not list /etc/hosts and the like */
        json_array_foreach (json_object_get(m, "options"), j, o) {
            const char *s = json_string_value(o);
            if (s && (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0))
                bind = true;
            if (s && strcmp(s, "ro") == 0)
                ro = true;
        }
        if (!bind || !src || !dst)
            continue;
        /* a named volume's source is <state_root>/volumes/NAME/_data */
        char vprefix[4096];
        snprintf(vprefix, sizeof(vprefix), "%s/volumes/", env->state_root);
        json_t *jm = json_object();
        if (strncmp(src, vprefix, strlen(vprefix)) == 0) {
            char name[256];
            snprintf(name, sizeof(name), "%s", src + strlen(vprefix));
            char *slash = strchr(name, '/');
            if (slash)
                *slash = '\0';
            json_object_set_new(jm, "Type", json_string("volume"));
            json_object_set_new(jm, "Name", json_string(name));
            json_object_set_new(jm, "Driver", json_string("local"));
        } else {
            json_object_set_new(jm, "Type", json_string("bind"));
        }
        json_object_set_new(jm, "Source", json_string(src));
        json_object_set_new(jm, "Destination", json_string(dst));
        json_object_set_new(jm, "RW", json_boolean(!ro));
        json_array_append_new(mounts, jm);
    }
    snprintf(rp, sizeof(rp), "%s", restart_mode_name(c->restart_policy));
    json_t *mem =
        json_object_get(json_object_get(json_object_get(cfg, "linux"), "resources"), "memory");
    json_int_t memory = json_integer_value(json_object_get(mem, "limit"));
    const char *ar = json_string_value(json_object_get(ann, CTR_ANN_AUTOREMOVE));
    json_t *doc = json_pack(
        "{s:s, s:o, s:s, s:o, s:[], s:{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:o, "
        "s:o}, s:s, s:s, s:s, s:i, s:s, s:{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}, "
        "s:{s:{s:s, s:i}, s:b, s:I}, s:o}",
        "Id", c->id, "Created", io_time(c->created_ns), "Path",
        json_string_value(json_array_get(json_object_get(proc, "args"), 0)) ?: "", "Args",
        json_array(), "Volumes_placeholder", "State", "Status", db_status_name(c->status),
        "Running", c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_PAUSED, "Paused",
        c->status == DB_STATUS_PAUSED, "Restarting", c->status == DB_STATUS_RESTARTING, "OOMKilled",
        c->oom_killed, "Dead", c->status == DB_STATUS_DEAD, "Removing",
        c->status == DB_STATUS_REMOVING, "Pid", (int)c->pid, "ExitCode", c->exit_code, "Error", "",
        "StartedAt", io_time(c->started_ns), "FinishedAt", io_time(c->finished_ns), "Image",
        c->image_id, "Name", c->name, "LogPath", c->log_path ? c->log_path : "", "RestartCount",
        c->restart_count, "Driver", "overlay", "Config", "Image", c->image_ref, "Cmd",
        io_copy(proc, "args"), "Entrypoint", json_null(), "Env",
        env_arr ? json_deep_copy(env_arr) : json_array(), "WorkingDir", io_copy(proc, "cwd"),
        "Hostname", io_copy(cfg, "hostname"), "Labels", labels, "Tty",
        json_boolean(json_is_true(json_object_get(proc, "terminal"))), "HostConfig",
        "RestartPolicy", "Name", rp, "MaximumRetryCount", c->restart_max_retries, "AutoRemove",
        ar && strcmp(ar, "true") == 0, "Memory", (json_int_t)memory, "Mounts", mounts);
    if (!doc)
        return err_set(err, ENOMEM, "inspect container %s", c->id);
    /* Docker's Name has a leading "/"; Args are the Cmd after Path */
    char nm[512];
    snprintf(nm, sizeof(nm), "/%s", c->name);
    json_object_set_new(doc, "Name", json_string(nm));
    json_object_del(doc, "Volumes_placeholder");
    /* Docker's HostConfig.Isolation: which isolation runs it (docs/microvm.md) */
    json_object_set_new(json_object_get(doc, "HostConfig"), "Isolation",
                        json_string(db_isolation_name(c->isolation)));
    json_t *args = json_object_get(json_object_get(doc, "Config"), "Cmd");
    json_t *a2 = json_object_get(doc, "Args");
    for (size_t k = 1; k < json_array_size(args); k++)
        json_array_append(a2, json_array_get(args, k));
    json_object_set_new(json_object_get(doc, "Config"), "StopSignal",
                        io_copy(ann, COMPOSE_ANN_STOP_SIGNAL));
    json_object_set_new(doc, "NetworkSettings", ctr_net_inspect(ann));
    json_t *health = ctr_health_inspect(env, c);
    if (health)
        json_object_set_new(json_object_get(doc, "State"), "Health", health);
    const char *hc = json_string_value(json_object_get(ann, COMPOSE_ANN_HEALTHCHECK));
    json_t *hcj = hc ? json_loads(hc, 0, NULL) : NULL;
    if (hcj)
        json_object_set_new(json_object_get(doc, "Config"), "Healthcheck", hcj);
    ctr_inspect_compat(doc, cfg, env, c);
    *out = doc;
    return 0;
}

/* ---- logs ---- */

struct io_rec {
    const char *ts; /* 30 chars */
    size_t tslen;
    bool err, partial;
    const char *text;
    size_t len;
};

/* One k8s-file line (without its newline) -> record; false if malformed. */
static bool io_parse(char *line, size_t n, struct io_rec *r)
{
    char *sp = memchr(line, ' ', n);
    if (!sp)
        return false;
    r->ts = line;
    r->tslen = (size_t)(sp - line);
    char *p = sp + 1;
    size_t rest = n - (size_t)(p - line);
    if (rest >= 7 && memcmp(p, "stdout ", 7) == 0)
        r->err = false;
    else if (rest >= 7 && memcmp(p, "stderr ", 7) == 0)
        r->err = true;
    else
        return false;
    p += 7;
    rest -= 7;
    if (rest < 1)
        return false;
    r->partial = p[0] == 'P';
    p += rest >= 2 ? 2 : 1;
    rest = rest >= 2 ? rest - 2 : 0;
    r->text = p;
    r->len = rest;
    return true;
}

static int64_t io_ts_ns(const struct io_rec *r)
{
    char b[40];
    struct tm tm = {0};
    int64_t ns = 0;
    snprintf(b, sizeof(b), "%.*s", (int)r->tslen, r->ts);
    char *p = strptime(b, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return 0;
    if (*p == '.') {
        int d = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, d++)
            if (d < 9)
                ns = ns * 10 + (*p - '0');
        for (; d < 9; d++)
            ns *= 10;
    }
    return (int64_t)timegm(&tm) * 1000000000LL + ns;
}

static void io_emit(const struct io_rec *r, const struct ctr_logs_opts *o, bool *line_start,
                    FILE *out, FILE *errf)
{
    FILE *f = r->err ? errf : out;
    if (o->since_ns && io_ts_ns(r) < o->since_ns)
        return;
    if (o->timestamps && line_start[r->err])
        fprintf(f, "%.*s ", (int)r->tslen, r->ts);
    fwrite(r->text, 1, r->len, f);
    if (!r->partial)
        fputc('\n', f);
    line_start[r->err] = !r->partial;
    fflush(f);
}

/* Append the records of `path` from *off on to the buffer of whole lines. */
static int io_read_from(const char *path, off_t *off, char **buf, size_t *len)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0)
        return -1;
    if (st.st_size < *off)
        *off = 0; /* rotated or emptied */
    size_t want = (size_t)(st.st_size - *off);
    *buf = malloc(want + 1);
    if (!*buf)
        return -1;
    ssize_t k = pread(fd, *buf, want, *off);
    if (k < 0) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    /* only whole lines: a record being written stays for the next read */
    size_t n = (size_t)k;
    while (n > 0 && (*buf)[n - 1] != '\n')
        n--;
    *len = n;
    *off += (off_t)n;
    return 0;
}

static void io_emit_buf(char *buf, size_t len, const struct ctr_logs_opts *o, long skip,
                        bool *line_start, FILE *out, FILE *errf)
{
    long idx = 0;
    for (size_t s = 0; s < len;) {
        char *nl = memchr(buf + s, '\n', len - s);
        size_t n = nl ? (size_t)(nl - (buf + s)) : len - s;
        struct io_rec r;
        if (idx++ >= skip && io_parse(buf + s, n, &r))
            io_emit(&r, o, line_start, out, errf);
        s += n + 1;
    }
}

int ctr_logs(struct db *db, const struct ctr_env *env, const char *ref,
             const struct ctr_logs_opts *o, FILE *out, FILE *errf, struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *all = NULL;
    size_t alllen = 0;
    bool line_start[2] = {true, true};
    off_t off = 0;

    if (ctr_get(db, env, ref, &c, err) < 0)
        return -1;
    if (!c->log_path || !*c->log_path)
        return 0;
    /* rotated files first, oldest (highest number) first */
    for (int i = 1000; i >= 1; i--) {
        _cleanup_free_ char *p = NULL, *b = NULL;
        size_t n = 0;
        off_t o0 = 0;
        if (asprintf(&p, "%s.%d", c->log_path, i) < 0)
            return err_set(err, ENOMEM, "logs");
        if (!fs_exists(p) || io_read_from(p, &o0, &b, &n) < 0)
            continue;
        char *nb = realloc(all, alllen + n + 1);
        if (!nb)
            return err_set(err, ENOMEM, "logs");
        all = nb;
        memcpy(all + alllen, b, n);
        alllen += n;
    }
    {
        _cleanup_free_ char *b = NULL;
        size_t n = 0;
        if (fs_exists(c->log_path) && io_read_from(c->log_path, &off, &b, &n) == 0) {
            char *nb = realloc(all, alllen + n + 1);
            if (!nb)
                return err_set(err, ENOMEM, "logs");
            all = nb;
            memcpy(all + alllen, b, n);
            alllen += n;
        }
    }
    long skip = 0;
    if (o->tail >= 0) {
        long lines = 0;
        for (size_t i = 0; i < alllen; i++)
            lines += all[i] == '\n';
        skip = lines > o->tail ? lines - o->tail : 0;
    }
    io_emit_buf(all, alllen, o, skip, line_start, out, errf);
    if (!o->follow)
        return 0;
    for (;;) {
        _cleanup_free_ char *b = NULL;
        size_t n = 0;
        bool live = c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_RESTARTING ||
                    c->status == DB_STATUS_PAUSED;
        if (io_read_from(c->log_path, &off, &b, &n) == 0 && n > 0)
            io_emit_buf(b, n, o, 0, line_start, out, errf);
        if (!live)
            return 0;
        struct timespec ts = {0, 200000000L};
        nanosleep(&ts, NULL);
        char id[DB_ID_LEN + 1];
        memcpy(id, c->id, sizeof(id));
        db_container_free(c);
        c = NULL;
        struct err *e = NULL;
        if (ctr_get(db, env, id, &c, &e) < 0) {
            err_free(&e);
            return 0;
        }
    }
}
