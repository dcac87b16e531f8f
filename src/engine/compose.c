/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spec composer: see compose.h and docs/engine.md, "The spec composer". */
#include "engine/compose.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/bundle.h"
#include "image/user.h"
#include "runtime/caps.h"
#include "runtime/seccomp_default.h"
#include "runtime/spec.h"
#include "runtime/spec_defaults.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/size.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Where --init's binary is mounted: /dev is a tmpfs, so this works on a
 * read-only root too (Docker uses /sbin/docker-init, podman /run/podman-init). */
#define INIT_PATH "/dev/init"

#define NOMEM(what) err_set(err, ENOMEM, "config.json: %s", what)

static void append_strv(json_t *arr, json_t *src)
{
    json_t *v;
    size_t i;

    json_array_foreach (src, i, v)
        if (json_is_string(v))
            json_array_append(arr, v);
}

/* Docker's ReplaceOrAppendEnvValues: KEY=VALUE replaces KEY's entry, in place. */
static int env_set(json_t *env, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    json_t *v;
    size_t i;

    json_array_foreach (env, i, v) {
        const char *s = json_string_value(v);
        if (s && strncmp(s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == '\0'))
            return json_array_set_new(env, i, json_string(kv));
    }
    return json_array_append_new(env, json_string(kv));
}

static bool env_has(json_t *env, const char *key)
{
    size_t klen = strlen(key);
    json_t *v;
    size_t i;

    json_array_foreach (env, i, v) {
        const char *s = json_string_value(v);
        if (s && strncmp(s, key, klen) == 0 && s[klen] == '=')
            return true;
    }
    return false;
}

/* conversion.md: Entrypoint then Cmd; a command given by the user replaces
 * Cmd, --entrypoint replaces the Entrypoint and drops the image's Cmd (as
 * Docker does), --entrypoint "" clears it. */
static int compose_args(json_t *cfg, const struct compose_opts *o, json_t *args)
{
    bool user_args = o->args && o->args[0];

    json_array_clear(args);
    if (o->entrypoint) {
        if (*o->entrypoint)
            json_array_append_new(args, json_string(o->entrypoint));
    } else {
        append_strv(args, json_object_get(cfg, "Entrypoint"));
    }
    if (user_args) {
        for (char *const *a = o->args; *a; a++)
            json_array_append_new(args, json_string(*a));
    } else if (o->entrypoint == NULL) {
        append_strv(args, json_object_get(cfg, "Cmd"));
    }
    return 0;
}

/* image Env < --env-file < -e; PATH by default; TERM=xterm with a terminal. */
static int compose_env(json_t *cfg, const struct compose_opts *o, json_t *env)
{
    json_t *v;
    size_t i;

    json_array_clear(env);
    json_array_foreach (json_object_get(cfg, "Env"), i, v)
        if (json_is_string(v) && env_set(env, json_string_value(v)) < 0)
            return -1;
    for (char *const *e = o->env_file; e && *e; e++)
        if (env_set(env, *e) < 0)
            return -1;
    for (char *const *e = o->env; e && *e; e++)
        if (env_set(env, *e) < 0)
            return -1;
    if (!env_has(env, "PATH") && json_array_insert_new(env, 0, json_string(DEFAULT_PATH)) < 0)
        return -1;
    if (o->terminal && !env_has(env, "TERM") &&
        json_array_append_new(env, json_string("TERM=xterm")))
        return -1;
    return 0;
}

/* ---- capabilities ---- */

static int cap_canon(const char *name, const char **out, struct err **err)
{
    int cap;

    if (caps_from_name(name, &cap) < 0 || caps_name(cap) == NULL)
        return err_val(err, EINVAL, "capability `%s` is unknown", name);
    *out = caps_name(cap);
    return 0;
}

static bool strv_has_all(char *const *v)
{
    for (; v && *v; v++)
        if (strcasecmp(*v, "ALL") == 0)
            return true;
    return false;
}

/* "All" capabilities: those of this process's bounding set, as podman has
 * it (a runtime cannot grant what it lacks: here, CAP_SYS_RESOURCE). */
static json_t *caps_all_json(void)
{
    json_t *a = json_array();

    for (int c = 0; a && c <= caps_last_cap(); c++)
        if (caps_name(c) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            json_array_append_new(a, json_string(caps_name(c)));
    return a;
}

static bool json_strv_has(json_t *arr, const char *s)
{
    json_t *v;
    size_t i;

    json_array_foreach (arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

/* Docker's TweakCapabilities: the default set (all with --privileged or
 * --cap-add ALL; none with --cap-drop ALL), minus --cap-drop, plus --cap-add. */
static int compose_caps(const struct compose_opts *o, json_t **out, struct err **err)
{
    _cleanup_json_ json_t *caps = NULL;
    const char *name;

    if (o->privileged || strv_has_all(o->cap_add))
        caps = caps_all_json();
    else if (strv_has_all(o->cap_drop))
        caps = json_array();
    else
        caps = spec_defaults_caps_json();
    if (caps == NULL)
        return NOMEM("capabilities");
    for (char *const *d = o->cap_drop; !o->privileged && d && *d; d++) {
        json_t *v;
        size_t i;
        if (strcasecmp(*d, "ALL") == 0)
            continue;
        if (cap_canon(*d, &name, err) < 0)
            return err_wrap(err, "--cap-drop");
        json_array_foreach (caps, i, v)
            if (strcmp(json_string_value(v), name) == 0) {
                json_array_remove(caps, i);
                break;
            }
    }
    for (char *const *a = o->cap_add; a && *a; a++) {
        if (strcasecmp(*a, "ALL") == 0)
            continue;
        if (cap_canon(*a, &name, err) < 0)
            return err_wrap(err, "--cap-add");
        if (!json_strv_has(caps, name))
            json_array_append_new(caps, json_string(name));
    }
    *out = steal_ptr(&caps);
    return 0;
}

/* ---- seccomp ---- */

static bool caps_match(json_t *want, json_t *caps, bool all)
{
    json_t *v;
    size_t i;

    json_array_foreach (want, i, v) {
        bool has = json_strv_has(caps, json_string_value(v) ?: "");
        if (all && !has)
            return false;
        if (!all && has)
            return true;
    }
    return all;
}

/* A profile file in Docker's format (or already an OCI linux.seccomp): keep
 * the rules whose includes/excludes match the capabilities and amd64, as
 * Docker does, and turn archMap into architectures. */
static int seccomp_from_file(const char *path, json_t *caps, json_t **out, struct err **err)
{
    _cleanup_json_ json_t *p = NULL;
    json_t *rules, *arches, *r, *am;
    size_t i;

    if (js_load_file(path, &p, err) < 0)
        return err_wrap(err, "--security-opt seccomp");
    if (!json_is_object(p) || !json_is_string(json_object_get(p, "defaultAction")))
        return err_val(err, EINVAL, "--security-opt seccomp: `%s` has no defaultAction", path);
    arches = json_array();
    json_array_foreach (json_object_get(p, "archMap"), i, am) {
        const char *a = json_string_value(json_object_get(am, "architecture"));
        if (a && strcmp(a, "SCMP_ARCH_X86_64") == 0) {
            json_array_append(arches, json_object_get(am, "architecture"));
            append_strv(arches, json_object_get(am, "subArchitectures"));
        }
    }
    if (json_array_size(arches) > 0)
        json_object_set(p, "architectures", arches);
    json_decref(arches);
    json_object_del(p, "archMap");
    rules = json_array();
    json_array_foreach (json_object_get(p, "syscalls"), i, r) {
        json_t *inc = json_object_get(r, "includes"), *exc = json_object_get(r, "excludes");
        json_t *ia = json_object_get(inc, "arches"), *ea = json_object_get(exc, "arches");
        if ((json_array_size(ia) && !json_strv_has(ia, "amd64")) || json_strv_has(ea, "amd64") ||
            !caps_match(json_object_get(inc, "caps"), caps, true) ||
            caps_match(json_object_get(exc, "caps"), caps, false))
            continue;
        json_t *c = json_deep_copy(r);
        json_object_del(c, "includes");
        json_object_del(c, "excludes");
        json_object_del(c, "comment");
        json_array_append_new(rules, c);
    }
    json_object_set_new(p, "syscalls", rules);
    json_object_del(p, "comment");
    *out = steal_ptr(&p);
    return 0;
}

/* ---- mounts and devices ---- */

static json_t *mount_find(json_t *mounts, const char *dest, size_t *idx)
{
    json_t *m;
    size_t i;

    json_array_foreach (mounts, i, m) {
        const char *d = json_string_value(json_object_get(m, "destination"));
        if (d && strcmp(d, dest) == 0) {
            if (idx)
                *idx = i;
            return m;
        }
    }
    return NULL;
}

/* A user's mount replaces a default one at the same destination. */
static int mount_put(json_t *mounts, json_t *m)
{
    size_t i;

    if (mount_find(mounts, json_string_value(json_object_get(m, "destination")), &i))
        return json_array_set_new(mounts, i, m);
    return json_array_append_new(mounts, m);
}

/* tmpfs options, size= in util/size.h units turned into bytes for the kernel. */
static int tmpfs_options(const char *opts, json_t *arr, struct err **err)
{
    _cleanup_free_ char *copy = opts ? strdup(opts) : NULL;
    char *save = NULL;

    if (opts && copy == NULL)
        return NOMEM("tmpfs");
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        if (strncmp(t, "size=", 5) == 0 && !strchr(t + 5, '%')) {
            int64_t n;
            char buf[40];
            if (size_parse(t + 5, 1, &n, err) < 0)
                return err_wrap(err, "tmpfs option `%s`", t);
            snprintf(buf, sizeof(buf), "size=%lld", (long long)n);
            json_array_append_new(arr, json_string(buf));
        } else {
            json_array_append_new(arr, json_string(t));
        }
    }
    return 0;
}

/* The engine's network namespace (ctr_net.h) instead of a new one. */
static int compose_netns_path(json_t *lnx, const char *path)
{
    json_t *ns = json_object_get(lnx, "namespaces"), *e;
    size_t i;

    json_array_foreach (ns, i, e)
        if (strcmp(json_string_value(json_object_get(e, "type")) ?: "", "network") == 0)
            return json_object_set_new(e, "path", json_string(path));
    return json_array_append_new(ns, json_pack("{s:s, s:s}", "type", "network", "path", path));
}

static int compose_mount_one(json_t *mounts, const struct compose_mount *m, struct err **err)
{
    json_t *opts = json_array();
    json_t *j;

    if (opts == NULL)
        return NOMEM("mounts");
    if (m->destination == NULL || m->destination[0] != '/') {
        json_decref(opts);
        return err_val(err, EINVAL, "mount destination `%s` is not an absolute path",
                       m->destination ?: "");
    }
    if (m->type == COMPOSE_MOUNT_TMPFS) {
        /* Docker's --tmpfs defaults, then the user's options. */
        json_array_append_new(opts, json_string("noexec"));
        json_array_append_new(opts, json_string("nosuid"));
        json_array_append_new(opts, json_string("nodev"));
        if (m->readonly)
            json_array_append_new(opts, json_string("ro"));
        if (tmpfs_options(m->options, opts, err) < 0) {
            json_decref(opts);
            return err_wrap(err, "tmpfs `%s`", m->destination);
        }
        j = json_pack("{s:s, s:s, s:s, s:o}", "destination", m->destination, "type", "tmpfs",
                      "source", "tmpfs", "options", opts);
    } else {
        if (m->source == NULL || m->source[0] != '/') {
            json_decref(opts);
            return err_val(err, EINVAL, "bind mount `%s`: the source `%s` is not an absolute path",
                           m->destination, m->source ?: "");
        }
        json_array_append_new(opts, json_string("rbind"));
        json_array_append_new(opts, json_string(m->readonly ? "ro" : "rw"));
        json_array_append_new(opts, json_string(m->propagation ?: "rprivate"));
        j = json_pack("{s:s, s:s, s:s, s:o}", "destination", m->destination, "type", "bind",
                      "source", m->source, "options", opts);
    }
    if (j == NULL || mount_put(mounts, j) < 0)
        return NOMEM("mounts");
    return 0;
}

static int set_shm_size(json_t *mounts, int64_t bytes)
{
    json_t *m = mount_find(mounts, "/dev/shm", NULL), *opts, *v;
    char buf[40];
    size_t i;

    if (m == NULL || !json_is_array(opts = json_object_get(m, "options")))
        return 0;
    json_array_foreach (opts, i, v)
        if (strncmp(json_string_value(v) ?: "", "size=", 5) == 0) {
            json_array_remove(opts, i);
            break;
        }
    snprintf(buf, sizeof(buf), "size=%lld", (long long)bytes);
    return json_array_append_new(opts, json_string(buf));
}

/* linux.devices entry for the host device `host`, seen at `path`. */
static int device_json(const char *host, const char *path, json_t **out, struct err **err)
{
    struct stat st;

    if (stat(host, &st) < 0)
        return err_sys(err, "device `%s`", host);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        return err_val(err, EINVAL, "device `%s` is not a character or block device", host);
    *out = json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i}", "path", path, "type",
                     S_ISCHR(st.st_mode) ? "c" : "b", "major", (json_int_t)major(st.st_rdev),
                     "minor", (json_int_t)minor(st.st_rdev), "fileMode", st.st_mode & 07777, "uid",
                     (int)st.st_uid, "gid", (int)st.st_gid);
    return *out ? 0 : NOMEM("devices");
}

static int compose_device_one(json_t *lnx, const struct compose_device *d, struct err **err)
{
    json_t *devs = json_object_get(lnx, "devices"), *j = NULL;
    json_t *rules = json_object_get(json_object_get(lnx, "resources"), "devices");
    const char *perm = d->permissions ?: "rwm";

    if (perm[strspn(perm, "rwm")] != '\0' || *perm == '\0')
        return err_val(err, EINVAL, "device `%s`: permissions `%s` are not a subset of rwm",
                       d->host, perm);
    if (device_json(d->host, d->container ?: d->host, &j, err) < 0)
        return -1;
    if (devs == NULL) {
        devs = json_array();
        json_object_set_new(lnx, "devices", devs);
    }
    /* A devices cgroup list (the runtime's default when there is none allows
     * the default devices only): allow this one. */
    if (json_is_array(rules))
        json_array_append_new(rules, json_pack("{s:b, s:O, s:O, s:O, s:s}", "allow", 1, "type",
                                               json_object_get(j, "type"), "major",
                                               json_object_get(j, "major"), "minor",
                                               json_object_get(j, "minor"), "access", perm));
    return json_array_append_new(devs, j) < 0 ? NOMEM("devices") : 0;
}

/* --privileged: every device of the host's /dev (runc's GetDevices: no
 * symlinks, none of pts, shm, fd, mqueue, and not the console). */
static int host_devices(const char *dir, json_t *devs, struct err **err)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return err_sys(err, "open `%s`", dir);
    while ((de = readdir(d)) != NULL) {
        _cleanup_free_ char *p = NULL;
        struct stat st;
        json_t *j;

        if (de->d_name[0] == '.' || asprintf(&p, "%s/%s", dir, de->d_name) < 0 || lstat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            static const char *const skip[] = {"pts", "shm", "fd", "mqueue", NULL};
            bool skipped = false;
            for (const char *const *s = skip; *s; s++)
                skipped |= strcmp(de->d_name, *s) == 0;
            if (!skipped && host_devices(p, devs, err) < 0)
                return -1;
            continue;
        }
        if ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) || strcmp(p, "/dev/console") == 0)
            continue;
        if (device_json(p, p, &j, NULL) == 0)
            json_array_append_new(devs, j);
    }
    return 0;
}

static void strip_ro(json_t *mounts, const char *dest)
{
    json_t *m = mount_find(mounts, dest, NULL), *v;
    size_t i;

    json_array_foreach (json_object_get(m, "options"), i, v)
        if (strcmp(json_string_value(v) ?: "", "ro") == 0) {
            json_array_set_new(json_object_get(m, "options"), i, json_string("rw"));
            break;
        }
}

/* Docker's --privileged: all capabilities (set by compose_caps), no seccomp,
 * no masked or read-only paths, /sys and cgroups writable, all devices. */
static int compose_privileged(json_t *spec, struct err **err)
{
    json_t *lnx = json_object_get(spec, "linux"), *devs = json_array();

    json_object_del(lnx, "seccomp");
    json_object_del(lnx, "maskedPaths");
    json_object_del(lnx, "readonlyPaths");
    strip_ro(json_object_get(spec, "mounts"), "/sys");
    strip_ro(json_object_get(spec, "mounts"), "/sys/fs/cgroup");
    if (devs == NULL || json_object_set_new(lnx, "devices", devs) < 0)
        return NOMEM("linux.devices");
    if (host_devices("/dev", devs, err) < 0)
        return -1;
    return json_object_set_new(json_object_get(lnx, "resources"), "devices",
                               json_pack("[{s:b, s:s}]", "allow", 1, "access", "rwm")) < 0
               ? NOMEM("linux.resources.devices")
               : 0;
}

/* ---- resources and limits ---- */

static json_t *obj_child(json_t *parent, const char *key)
{
    json_t *c = json_object_get(parent, key);

    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(parent, key, c);
    }
    return c;
}

static int compose_resources(json_t *lnx, const struct compose_opts *o, struct err **err)
{
    json_t *res = obj_child(lnx, "resources");

    if (o->memory < 0)
        return err_val(err, EINVAL, "memory limit %lld: expected a positive size",
                       (long long)o->memory);
    if (o->memory_swap > 0 && o->memory > 0 && o->memory_swap < o->memory)
        return err_val(err, EINVAL,
                       "--memory-swap %lld is smaller than --memory %lld (it counts memory and "
                       "swap together)",
                       (long long)o->memory_swap, (long long)o->memory);
    if (o->memory_swap > 0 && o->memory == 0)
        return err_val(err, EINVAL, "--memory-swap needs --memory");
    if (o->memory > 0)
        json_object_set_new(obj_child(res, "memory"), "limit", json_integer(o->memory));
    if (o->memory_swap != 0)
        json_object_set_new(obj_child(res, "memory"), "swap",
                            json_integer(o->memory_swap < 0 ? -1 : o->memory_swap));
    if (o->cpus < 0 || isnan(o->cpus))
        return err_val(err, EINVAL, "--cpus %g: expected a positive number", o->cpus);
    if (o->cpus > 0) {
        /* Docker's NanoCPUs: quota = cpus * period, period 100ms. */
        json_int_t quota = (json_int_t)(o->cpus * 100000.0 + 0.5);
        if (quota < 1000)
            return err_val(err, EINVAL, "--cpus %g: below the minimum of 0.01", o->cpus);
        json_object_set_new(obj_child(res, "cpu"), "quota", json_integer(quota));
        json_object_set_new(obj_child(res, "cpu"), "period", json_integer(100000));
    }
    if (o->cpu_shares > 0)
        json_object_set_new(obj_child(res, "cpu"), "shares",
                            json_integer((json_int_t)o->cpu_shares));
    if (o->cpuset_cpus && *o->cpuset_cpus)
        json_object_set_new(obj_child(res, "cpu"), "cpus", json_string(o->cpuset_cpus));
    if (o->pids_limit != 0)
        json_object_set_new(obj_child(res, "pids"), "limit",
                            json_integer(o->pids_limit < 0 ? -1 : o->pids_limit));
    return 0;
}

int compose_parse_ulimit(const char *s, struct compose_ulimit *out, struct err **err)
{
    const char *eq = strchr(s, '=');
    char *end;

    if (eq == NULL || eq == s)
        return err_val(err, EINVAL, "ulimit `%s`: expected NAME=SOFT[:HARD]", s);
    errno = 0;
    out->soft = strtoll(eq + 1, &end, 10);
    if (end == eq + 1 || errno)
        return err_val(err, EINVAL, "ulimit `%s`: expected a number after `=`", s);
    out->hard = out->soft;
    if (*end == ':') {
        const char *h = end + 1;
        out->hard = strtoll(h, &end, 10);
        if (end == h || errno)
            return err_val(err, EINVAL, "ulimit `%s`: expected a number after `:`", s);
    }
    if (*end != '\0')
        return err_val(err, EINVAL, "ulimit `%s`: trailing `%s`", s, end);
    if (out->soft > out->hard && out->hard >= 0)
        return err_val(err, EINVAL, "ulimit `%s`: the soft limit is above the hard one", s);
    out->name = s;
    return 0;
}

static int compose_ulimits(json_t *proc, const struct compose_opts *o, struct err **err)
{
    static const char *const names[] = {
        "as",     "core",  "cpu", "data",   "fsize",  "locks",      "memlock", "msgqueue", "nice",
        "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",   NULL};
    json_t *rl = json_object_get(proc, "rlimits");

    if (!json_is_array(rl)) {
        rl = json_array();
        json_object_set_new(proc, "rlimits", rl);
    }
    for (size_t u = 0; u < o->n_ulimits; u++) {
        const struct compose_ulimit *ul = &o->ulimits[u];
        size_t nlen = strcspn(ul->name, "="), i;
        char type[32] = "RLIMIT_";
        bool known = false;
        json_t *r;

        for (const char *const *n = names; *n; n++)
            known |= strlen(*n) == nlen && strncmp(*n, ul->name, nlen) == 0;
        if (!known)
            return err_val(err, EINVAL, "ulimit `%.*s` is unknown", (int)nlen, ul->name);
        for (i = 0; i < nlen; i++)
            type[7 + i] = (char)toupper((unsigned char)ul->name[i]);
        type[7 + nlen] = '\0';
        json_array_foreach (rl, i, r)
            if (strcmp(json_string_value(json_object_get(r, "type")) ?: "", type) == 0) {
                json_array_remove(rl, i);
                break;
            }
        json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type", type, "soft",
                                            (json_int_t)ul->soft, "hard", (json_int_t)ul->hard));
    }
    return 0;
}

/* ---- annotations ---- */

static int compose_annotations(json_t *spec, json_t *cfg, const char *name,
                               const struct compose_opts *o, struct err **err)
{
    json_t *ann = json_object(), *v;
    const char *k, *stop = o->stop_signal;

    if (ann == NULL || json_object_set_new(spec, "annotations", ann) < 0)
        return NOMEM("annotations");
    /* conversion.md: Labels become annotations; ExposedPorts and StopSignal
     * have annotation keys of their own. */
    json_object_foreach (json_object_get(cfg, "Labels"), k, v)
        if (json_is_string(v))
            json_object_set(ann, k, v);
    for (char *const *l = o->labels; l && *l; l++) {
        const char *eq = strchr(*l, '=');
        json_object_setn_new(ann, *l, eq ? (size_t)(eq - *l) : strlen(*l),
                             json_string(eq ? eq + 1 : ""));
    }
    if (json_object_size(json_object_get(cfg, "ExposedPorts")) > 0) {
        _cleanup_free_ char *ports = NULL;
        size_t len = 0;
        json_object_foreach (json_object_get(cfg, "ExposedPorts"), k, v) {
            char *np = realloc(ports, len + strlen(k) + 2);
            if (np == NULL)
                return NOMEM("annotations");
            ports = np;
            len += (size_t)sprintf(ports + len, "%s%s", len ? "," : "", k);
        }
        json_object_set_new(ann, "org.opencontainers.image.exposedPorts", json_string(ports));
    }
    if (stop == NULL)
        js_get_str(cfg, "config", "StopSignal", false, &stop, NULL);
    if (stop && *stop)
        json_object_set_new(ann, COMPOSE_ANN_STOP_SIGNAL, json_string(stop));
    if (json_is_object(json_object_get(cfg, "Healthcheck"))) {
        _cleanup_free_ char *hc = js_dump(json_object_get(cfg, "Healthcheck"));
        if (hc)
            json_object_set_new(ann, COMPOSE_ANN_HEALTHCHECK, json_string(hc));
    }
    if (name && strncmp(name, "sha256:", 7) != 0)
        json_object_set_new(ann, "org.opencontainers.image.ref.name", json_string(name));
    return 0;
}

/* ---- the whole spec ---- */

static int compose_process(json_t *spec, json_t *cfg, int rootfd, const struct compose_opts *o,
                           struct err **err)
{
    json_t *proc = json_object_get(spec, "process");
    const char *user = o->user, *cwd = o->workdir;
    json_t *args = json_object_get(proc, "args"), *env = json_object_get(proc, "env");

    if (compose_args(cfg, o, args) < 0 || compose_env(cfg, o, env) < 0)
        return NOMEM("process");
    if (json_array_size(args) == 0)
        return err_val(err, EINVAL, "no command: the image has no Entrypoint or Cmd; give one");
    if (o->init) {
        json_array_insert_new(args, 0, json_string("--"));
        json_array_insert_new(args, 0, json_string(INIT_PATH));
    }
    json_object_set_new(proc, "terminal", json_boolean(o->terminal));
    if (cwd == NULL)
        js_get_str(cfg, "config", "WorkingDir", false, &cwd, NULL);
    json_object_set_new(proc, "cwd", json_string(cwd && *cwd ? cwd : "/"));
    if (user == NULL)
        js_get_str(cfg, "config", "User", false, &user, NULL);
    if (user && *user) {
        _cleanup_free_ long *gids = NULL;
        size_t ngids = 0;
        long uid, gid;
        if (image_user_resolve_exec(rootfd, user, &uid, &gid, &gids, &ngids, err) < 0)
            return -1;
        json_t *u = json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid);
        if (u && ngids > 0) {
            json_t *a = json_array();
            for (size_t i = 0; a && i < ngids; i++)
                json_array_append_new(a, json_integer(gids[i]));
            json_object_set_new(u, "additionalGids", a);
        }
        if (u == NULL || json_object_set_new(proc, "user", u) < 0)
            return NOMEM("process.user");
    }
    /* isola sets no_new_privs by default (docs/security.md); --privileged
     * clears it as Docker has it, unless asked for. */
    json_object_set_new(proc, "noNewPrivileges",
                        json_boolean(!o->privileged || o->no_new_privileges));
    return 0;
}

/* The image's Volumes exist in the root as directories (Docker creates them). */
static int make_volume_dirs(json_t *cfg, int rootfd, struct err **err)
{
    const char *k;
    json_t *v;

    json_object_foreach (json_object_get(cfg, "Volumes"), k, v) {
        int fd = fs_mkdir_in_root(rootfd, k, 0755, err);
        if (fd < 0)
            return err_wrap(err, "volume `%s`", k);
        close(fd);
    }
    return 0;
}

int compose_spec(json_t *image_config, const char *image_name, const char *rootfs_dir,
                 const struct compose_opts *o, json_t **out, struct err **err)
{
    _cleanup_json_ json_t *spec = spec_default(false), *caps = NULL, *seccomp = NULL;
    _cleanup_close_ int rootfd = -1;
    json_t *cfg = json_object_get(image_config, "config"), *lnx, *proc, *mounts;

    if (spec == NULL)
        return NOMEM("template");
    if (cfg != NULL && !json_is_object(cfg))
        return err_val(err, EINVAL, "image config: `config` is %s, not an object",
                       js_type_name(cfg));
    rootfd = open(rootfs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, "open `%s`", rootfs_dir);
    lnx = json_object_get(spec, "linux");
    proc = json_object_get(spec, "process");
    if (compose_process(spec, cfg, rootfd, o, err) < 0)
        return err_wrap(err, "image %s", image_name ?: "-");
    /* The engine's defaults; seccomp is made below, for the final capabilities. */
    json_object_set_new(lnx, "seccomp", json_null());
    if (spec_defaults_engine(spec, o->nofile, err) < 0)
        return -1;
    json_object_del(lnx, "seccomp");
    /* The runtime's default device list (runc's) rather than a deny-all list. */
    json_object_del(json_object_get(lnx, "resources"), "devices");
    if (compose_caps(o, &caps, err) < 0)
        return -1;
    json_t *capobj = json_object_get(proc, "capabilities");
    json_object_set(capobj, "bounding", caps);
    json_object_set(capobj, "effective", caps);
    json_object_set(capobj, "permitted", caps);
    if (o->privileged || (o->seccomp && strcmp(o->seccomp, "unconfined") == 0))
        seccomp = NULL;
    else if (o->seccomp && seccomp_from_file(o->seccomp, caps, &seccomp, err) < 0)
        return -1;
    else if (o->seccomp == NULL && seccomp_default_spec(caps, &seccomp, err) < 0)
        return -1;
    if (seccomp && json_object_set(lnx, "seccomp", seccomp) < 0)
        return NOMEM("linux.seccomp");
    json_object_set_new(json_object_get(spec, "root"), "path",
                        json_string(o->rootfs ? o->rootfs : "rootfs"));
    json_object_set_new(json_object_get(spec, "root"), "readonly", json_boolean(o->read_only));
    json_object_set_new(spec, "hostname", json_string(o->hostname ? o->hostname : "isola"));
    mounts = json_object_get(spec, "mounts");
    if (o->shm_size < 0)
        return err_val(err, EINVAL, "--shm-size: expected a positive size");
    if (o->shm_size > 0 && set_shm_size(mounts, o->shm_size) < 0)
        return NOMEM("mounts");
    for (size_t i = 0; i < o->n_mounts; i++)
        if (compose_mount_one(mounts, &o->mounts[i], err) < 0)
            return -1;
    if (o->init && mount_put(mounts, json_pack("{s:s, s:s, s:s, s:[s,s,s]}", "destination",
                                               INIT_PATH, "type", "bind", "source", o->init,
                                               "options", "bind", "ro", "nosuid")) < 0)
        return NOMEM("mounts");
    if (o->host_network) {
        json_t *ns = json_object_get(lnx, "namespaces"), *e;
        size_t i;
        json_array_foreach (ns, i, e)
            if (strcmp(json_string_value(json_object_get(e, "type")) ?: "", "network") == 0) {
                json_array_remove(ns, i);
                break;
            }
    }
    if (o->netns_path && !o->host_network && compose_netns_path(lnx, o->netns_path) < 0)
        return NOMEM("linux.namespaces");
    if (o->privileged && compose_privileged(spec, err) < 0)
        return -1;
    for (size_t i = 0; i < o->n_devices; i++)
        if (compose_device_one(lnx, &o->devices[i], err) < 0)
            return -1;
    if (compose_resources(lnx, o, err) < 0 || compose_ulimits(proc, o, err) < 0 ||
        compose_annotations(spec, image_config ? cfg : NULL, image_name, o, err) < 0 ||
        make_volume_dirs(cfg, rootfd, err) < 0)
        return -1;
    *out = steal_ptr(&spec);
    return 0;
}

int compose_read_env_file(const char *path, char *(*lookup)(const char *name), char ***out,
                          struct err **err)
{
    _cleanup_free_ char *buf = NULL;
    _cleanup_strv_ char **v = NULL;
    char *line, *save = NULL;
    size_t len, n = 0;

    if (fs_read_file(path, &buf, &len, err) < 0)
        return err_wrap(err, "--env-file");
    if ((v = calloc(len / 2 + 2, sizeof(char *))) == NULL)
        return err_set(err, ENOMEM, "--env-file `%s`", path);
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        /* Docker trims leading whitespace only. */
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '\0' || *line == '#')
            continue;
        if (*line == '=')
            return err_val(err, EINVAL, "--env-file `%s`: `%s`: no variable name", path, line);
        if (strchr(line, '=')) {
            v[n] = strdup(line);
        } else {
            const char *val = lookup ? lookup(line) : NULL;
            if (val == NULL)
                continue;
            if (asprintf(&v[n], "%s=%s", line, val) < 0)
                v[n] = NULL;
        }
        if (v[n++] == NULL)
            return err_set(err, ENOMEM, "--env-file `%s`", path);
    }
    *out = steal_ptr(&v);
    return 0;
}

static int compose_bundle_write(struct store *s, const char *image, const char *dir, bool copy,
                                bool sync, const struct compose_opts *o, struct err **err)
{
    _cleanup_json_ json_t *config = NULL, *spec = NULL;
    _cleanup_free_ char *name = NULL, *rootfs = NULL, *cfgpath = NULL;
    bool mounted = false;

    if (asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&cfgpath, "%s/config.json", dir) < 0)
        return err_set(err, ENOMEM, "bundle `%s`", dir);
    if (bundle_rootfs(s, image, dir, copy, &config, &name, &mounted, err) < 0)
        goto fail;
    if (compose_spec(config, name, rootfs, o, &spec, err) < 0 ||
        (sync ? js_write_file(cfgpath, spec, 0644, err)
              : js_write_file_replace(cfgpath, spec, 0644, err)) < 0) {
        err_wrap(err, "bundle `%s` from %s", dir, image);
        goto fail;
    }
    return 0;
fail:
    if (mounted)
        umount2(rootfs, MNT_DETACH);
    return -1;
}

int compose_bundle(struct store *s, const char *image, const char *dir, bool copy,
                   const struct compose_opts *o, struct err **err)
{
    return compose_bundle_write(s, image, dir, copy, true, o, err);
}

int compose_bundle_transient(struct store *s, const char *image, const char *dir,
                             const struct compose_opts *o, struct err **err)
{
    return compose_bundle_write(s, image, dir, false, false, o, err);
}
