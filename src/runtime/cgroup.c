/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container cgroups (runtime-spec config-linux.md "Control groups"): layout
 * detection, the v1 / v2 / hybrid drivers, lifecycle and state persistence.
 * The drivers are in cgroup_driver.c, resource files are written by
 * cgroup_res.c, the v2 device filter is cgroup_bpf.c, usage is cgroup_stats.c.
 * Kernel interfaces: Documentation/admin-guide/cgroup-v1/ and cgroup-v2.rst.
 */
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

static char *root_override;

int cgroup_set_root(const char *root, struct err **err)
{
    char *copy = NULL;

    if (root != NULL && (copy = strdup(root)) == NULL)
        return err_set(err, ENOMEM, "cgroup root `%s`", root);
    free(root_override);
    root_override = copy;
    return 0;
}

const char *cgroup_root(void)
{
    return root_override != NULL ? root_override : "/sys/fs/cgroup";
}

static bool is_fs(const char *path, long magic)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

int cgroup_layout_detect(enum cgroup_layout *out, struct err **err)
{
    const char *root = cgroup_root();
    char unified[PATH_MAX];
    struct statfs sf;

    if (statfs(root, &sf) < 0)
        return err_sys(err, "statfs cgroup root `%s`", root);
    if ((long)sf.f_type == CGROUP2_SUPER_MAGIC) {
        *out = CGROUP_LAYOUT_V2;
        return 0;
    }
    snprintf(unified, sizeof(unified), "%s/unified", root);
    if (is_fs(unified, CGROUP2_SUPER_MAGIC))
        *out = CGROUP_LAYOUT_HYBRID;
    else if ((long)sf.f_type == TMPFS_MAGIC || (long)sf.f_type == CGROUP_SUPER_MAGIC)
        *out = CGROUP_LAYOUT_V1;
    else
        *out = CGROUP_LAYOUT_NONE;
    return 0;
}

const char *cgroup_layout_name(void)
{
    enum cgroup_layout l = CGROUP_LAYOUT_NONE;
    struct err *e = NULL;

    if (cgroup_layout_detect(&l, &e) < 0)
        err_free(&e);
    switch (l) {
    case CGROUP_LAYOUT_V1:
        return "v1";
    case CGROUP_LAYOUT_V2:
        return "v2";
    case CGROUP_LAYOUT_HYBRID:
        return "hybrid";
    case CGROUP_LAYOUT_NONE:
        break;
    }
    return "none";
}

int cgroup_manager_parse(const char *s, enum cgroup_manager *out, struct err **err)
{
    if (strcmp(s, "cgroupfs") == 0)
        *out = CGROUP_MANAGER_CGROUPFS;
    else if (strcmp(s, "disabled") == 0)
        *out = CGROUP_MANAGER_DISABLED;
    else if (strcmp(s, "systemd") == 0)
        return err_val(err, ENOTSUP,
                       "cgroup manager `systemd`: not supported (use `cgroupfs` or `disabled`)");
    else
        return err_val(err, EINVAL, "cgroup manager `%s`: expected `cgroupfs` or `disabled`", s);
    return 0;
}

/* ---- helpers ---- */

bool cgroup_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

/* Space-separated list (cgroup.controllers). */
static bool words_have(const char *words, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = words; p != NULL && *p != '\0';) {
        p += strspn(p, " \n");
        size_t len = strcspn(p, " \n");
        if (len == 0)
            break;
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        p += len;
    }
    return false;
}

char *cgroup_read_small(const char *path)
{
    char *buf = NULL;
    size_t len;
    struct err *e = NULL;

    if (fs_read_file(path, &buf, &len, &e) < 0) {
        err_free(&e);
        return NULL;
    }
    return buf;
}

void cgroup_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool path_ok(const char *p)
{
    /* No `..` component: the path must stay inside the hierarchy. */
    for (const char *s = p; s != NULL && *s != '\0';) {
        s += strspn(s, "/");
        size_t len = strcspn(s, "/");
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return false;
        s += len;
    }
    return true;
}

/* In place: "//" -> "/", "/./" -> "/", no trailing "/" (a trailing slash
 * would make the leaf look like its own parent when enabling controllers). */
static void path_normalize(char *p)
{
    char *w = p;

    for (const char *r = p; *r != '\0';) {
        if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || r[2] == '\0')))) {
            r += r[1] == '/' ? 1 : 2;
            continue;
        }
        if (w == p && r[0] == '.' && (r[1] == '/' || r[1] == '\0')) { /* leading "./" */
            r += r[1] == '/' ? 2 : 1;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    while (w > p + 1 && w[-1] == '/')
        *--w = '\0';
}

/* The calling process's cgroup in a hierarchy (`ctrls` "" = v2) from /proc/self/cgroup. */
static char *own_cgroup(const char *ctrls)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;

    if (f == NULL)
        return NULL;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        if (strcmp(c1 + 1, ctrls) == 0)
            return strdup(c2 + 1);
    }
    return NULL;
}

/* Join base (a hierarchy mount), an optional own-cgroup prefix and path. */
static char *join3(const char *a, const char *b, const char *c)
{
    char *s = NULL;
    if (asprintf(&s, "%s%s%s%s%s", a, b[0] && b[0] != '/' ? "/" : "", strcmp(b, "/") ? b : "",
                 c[0] != '/' ? "/" : "", c) < 0)
        return NULL;
    return s;
}

/* v1 hierarchies mounted directly below root (mountinfo(5): field 5 is the
 * mount point, after " - " come fstype, source and super options). */
static int scan_v1(struct cgroup *cg, const char *root, const char *rel, struct err **err)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    _cleanup_free_ char *line = NULL;
    size_t cap = 0, rootlen = strlen(root);

    if (f == NULL)
        return err_sys(err, "open `/proc/self/mountinfo`");
    while (getline(&line, &cap, f) > 0) {
        char mnt[PATH_MAX], fstype[64], opts[512];
        char *sep = strstr(line, " - ");
        if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
            sscanf(sep + 3, "%63s %*s %511s", fstype, opts) != 2)
            continue;
        if (strcmp(fstype, "cgroup") != 0 || strncmp(mnt, root, rootlen) != 0 ||
            mnt[rootlen] != '/' || strchr(mnt + rootlen + 1, '/') != NULL)
            continue;
        /* Controllers are the super options minus mount flags. */
        char ctrls[512] = "";
        for (char *tok = strtok(opts, ","); tok != NULL; tok = strtok(NULL, ",")) {
            if (strcmp(tok, "rw") == 0 || strcmp(tok, "ro") == 0 ||
                (strchr(tok, '=') != NULL && strncmp(tok, "name=", 5) != 0) ||
                strcmp(tok, "noprefix") == 0 || strcmp(tok, "clone_children") == 0 ||
                strcmp(tok, "xattr") == 0 || strcmp(tok, "cpuset_v2_mode") == 0)
                continue;
            if (ctrls[0] != '\0')
                strncat(ctrls, ",", sizeof(ctrls) - strlen(ctrls) - 1);
            strncat(ctrls, tok, sizeof(ctrls) - strlen(ctrls) - 1);
        }
        if (ctrls[0] == '\0')
            continue;
        bool dup = false;
        for (size_t i = 0; i < cg->n_v1; i++)
            dup |= strcmp(cg->v1[i].ctrls, ctrls) == 0;
        if (dup || cg->n_v1 == CG_MAX_HIER)
            continue;
        _cleanup_free_ char *own = rel[0] != '/' ? own_cgroup(ctrls) : NULL;
        struct cg_hier *h = &cg->v1[cg->n_v1];
        h->ctrls = strdup(ctrls);
        h->dir = join3(mnt, own ? own : "", rel);
        if (h->ctrls == NULL || h->dir == NULL)
            return err_set(err, ENOMEM, "cgroup hierarchy `%s`", mnt);
        cg->n_v1++;
    }
    return 0;
}

const char *cgroup_v1_dir(const struct cgroup *cg, const char *ctrl)
{
    for (size_t i = 0; i < cg->n_v1; i++)
        if (cgroup_list_has(cg->v1[i].ctrls, ctrl))
            return cg->v1[i].dir;
    return NULL;
}

static bool v2_has_ctrl(const char *dir, const char *ctrl)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/cgroup.controllers", dir);
    _cleanup_free_ char *c = cgroup_read_small(p);
    return c != NULL && words_have(c, ctrl);
}

int cgroup_ctrl_version(struct cgroup *cg, const char *ctrl)
{
    if (cg->layout != CGROUP_LAYOUT_V2 && cgroup_v1_dir(cg, ctrl) != NULL)
        return 1;
    if (cg->v2_dir != NULL && v2_has_ctrl(cg->v2_dir, ctrl))
        return 2;
    return 0;
}

static const char *ctrl_dir(struct cgroup *cg, const char *ctrl)
{
    int v = cgroup_ctrl_version(cg, ctrl);
    return v == 1 ? cgroup_v1_dir(cg, ctrl) : v == 2 ? cg->v2_dir : NULL;
}

bool cgroup_has_file(struct cgroup *cg, const char *ctrl, const char *file)
{
    const char *dir = ctrl_dir(cg, ctrl);
    char p[PATH_MAX];

    if (dir == NULL)
        return false;
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

int cgroup_write(struct cgroup *cg, const char *ctrl, const char *file, const char *value,
                 const char *field, struct err **err)
{
    const char *dir = ctrl_dir(cg, ctrl);
    char p[PATH_MAX];

    if (dir == NULL)
        return err_val(err, ENOTSUP, "%s: the %s controller is not available in cgroup %s (%s)",
                       field, ctrl, cg->path, cgroup_layout_name());
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    if (fs_write_str(p, value, err) < 0)
        return err_wrap(err, "%s", field);
    return 0;
}

/* Collect pids from dir/cgroup.procs and every sub-cgroup. */
static int collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap, struct err **err)
{
    char p[PATH_MAX];
    _cleanup_fclose_ FILE *f = NULL;
    long v;

    snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
    f = fopen(p, "re");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        return err_sys(err, "open `%s`", p);
    }
    while (fscanf(f, "%ld", &v) == 1) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            pid_t *np = realloc(*pids, nc * sizeof(pid_t));
            if (np == NULL)
                return err_set(err, ENOMEM, "read `%s`", p);
            *pids = np;
            *cap = nc;
        }
        (*pids)[(*n)++] = (pid_t)v;
    }
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (collect_pids(p, pids, n, cap, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- public API ---- */

void cgroup_free(struct cgroup *cg)
{
    if (cg == NULL)
        return;
    for (size_t i = 0; i < cg->n_v1; i++) {
        free(cg->v1[i].ctrls);
        free(cg->v1[i].dir);
    }
    free(cg->path);
    free(cg->v2_dir);
    free(cg);
}

static void cgroup_freep(struct cgroup **cg)
{
    cgroup_free(*cg);
    *cg = NULL;
}
#define _cleanup_cgroup_ __attribute__((cleanup(cgroup_freep)))

const char *cgroup_path(const struct cgroup *cg)
{
    return cg ? cg->path : NULL;
}

const char *cgroup_dir(const struct cgroup *cg, const char *ctrl)
{
    if (cg == NULL)
        return NULL;
    if (ctrl == NULL || ctrl[0] == '\0')
        return cg->v2_dir;
    return ctrl_dir((struct cgroup *)cg, ctrl);
}

/* Resolve the directories of cgroup `path` for the detected layout. */
static int cgroup_resolve(struct cgroup *cg, const char *path, struct err **err)
{
    const char *root = cgroup_root();

    if (cgroup_layout_detect(&cg->layout, err) < 0)
        return -1;
    if (cg->layout == CGROUP_LAYOUT_NONE)
        return err_val(err, ENOENT, "cgroups: no cgroup filesystem at `%s`", root);
    cg->ops = cgroup_driver_ops(cg->layout);
    if (cg->layout != CGROUP_LAYOUT_V2 && scan_v1(cg, root, path, err) < 0)
        return -1;
    if (cg->layout != CGROUP_LAYOUT_V1) {
        char mount[PATH_MAX];
        snprintf(mount, sizeof(mount), "%s%s", root,
                 cg->layout == CGROUP_LAYOUT_HYBRID ? "/unified" : "");
        _cleanup_free_ char *own = path[0] != '/' ? own_cgroup("") : NULL;
        cg->v2_dir = join3(mount, own ? own : "", path);
        if (cg->v2_dir == NULL)
            return err_set(err, ENOMEM, "cgroup `%s`", path);
    }
    return 0;
}

int cgroup_validate(json_t *resources, struct err **err)
{
    return cgroup_res_apply(NULL, resources, err);
}

/* How many trailing components of dir do not exist yet (what mkdirs would
 * create), so a plan recorded before cgroup_create() removes no more. */
static int count_missing(const char *dir)
{
    _cleanup_free_ char *p = strdup(dir);
    int n = 0;

    while (p != NULL && access(p, F_OK) < 0 && errno == ENOENT) {
        char *slash = strrchr(p, '/');
        if (slash == NULL || slash == p)
            break;
        n++;
        *slash = '\0';
    }
    return n;
}

static int plan(enum cgroup_manager mgr, const char *id, const char *cgroups_path,
                struct cgroup **out, struct err **err)
{
    _cleanup_cgroup_ struct cgroup *cg = calloc(1, sizeof(*cg));
    _cleanup_free_ char *def = NULL;

    *out = NULL;
    if (cg == NULL)
        return err_set(err, ENOMEM, "cgroup for container `%s`", id);
    cg->mgr = mgr;
    if (cgroups_path == NULL || cgroups_path[0] == '\0') {
        if (asprintf(&def, "/isola/%s", id) < 0)
            return err_set(err, ENOMEM, "cgroup for container `%s`", id);
        cgroups_path = def;
    }
    if (!path_ok(cgroups_path) || strchr(cgroups_path, ':') != NULL)
        return err_val(err, EINVAL, "linux.cgroupsPath: `%s` is not a cgroupfs path", cgroups_path);
    cg->path = strdup(cgroups_path);
    if (cg->path == NULL)
        return err_set(err, ENOMEM, "cgroup `%s`", cgroups_path);
    path_normalize(cg->path);
    if (cg->path[0] == '\0' || strcmp(cg->path, "/") == 0)
        return err_val(err, EINVAL, "linux.cgroupsPath: `%s` names the root cgroup", cgroups_path);
    if (mgr != CGROUP_MANAGER_DISABLED && cgroup_resolve(cg, cg->path, err) < 0)
        return err_wrap(err, "cgroup for container `%s`", id);
    *out = steal_ptr(&cg);
    return 0;
}

int cgroup_plan(enum cgroup_manager mgr, const char *id, const char *cgroups_path,
                struct cgroup **out, struct err **err)
{
    struct cgroup *cg;

    if (plan(mgr, id, cgroups_path, &cg, err) < 0)
        return -1;
    for (size_t i = 0; i < cg->n_v1; i++) {
        int n = count_missing(cg->v1[i].dir);
        if (n > cg->created)
            cg->created = n;
    }
    if (cg->v2_dir != NULL && count_missing(cg->v2_dir) > cg->created)
        cg->created = count_missing(cg->v2_dir);
    *out = cg;
    return 0;
}

int cgroup_create(enum cgroup_manager mgr, const char *id, const char *cgroups_path,
                  json_t *resources, pid_t pid, struct cgroup **out, struct err **err)
{
    _cleanup_cgroup_ struct cgroup *cg = NULL;

    *out = NULL;
    if (cgroup_validate(resources, err) < 0 || plan(mgr, id, cgroups_path, &cg, err) < 0)
        return -1;
    if (mgr == CGROUP_MANAGER_DISABLED) {
        if (resources != NULL && json_object_size(resources) > 0)
            log_warn("container %s: cgroup manager is disabled, linux.resources ignored", id);
        *out = steal_ptr(&cg);
        return 0;
    }
    if (cg->ops->mkdirs(cg, err) < 0 || cgroup_res_apply(cg, resources, err) < 0 ||
        (pid > 0 && cg->ops->enter(cg, pid, err) < 0)) {
        struct err *e = NULL;
        if (cg->ops->rmdirs(cg, &e) < 0)
            err_free(&e);
        return err_wrap(err, "cgroup %s for container `%s`", cg->path, id);
    }
    *out = steal_ptr(&cg);
    return 0;
}

static int disabled(struct cgroup *cg, const char *what, struct err **err)
{
    return err_val(err, ENOTSUP, "%s cgroup %s: cgroup manager is disabled", what,
                   cg && cg->path ? cg->path : "");
}

int cgroup_update(struct cgroup *cg, json_t *resources, struct err **err)
{
    if (cg->ops == NULL)
        return disabled(cg, "update", err);
    if (cgroup_validate(resources, err) < 0)
        return -1;
    return cgroup_res_apply(cg, resources, err);
}

int cgroup_enter(struct cgroup *cg, pid_t pid, struct err **err)
{
    if (cg->ops == NULL)
        return 0; /* manager "disabled": the process stays where it is */
    if (cg->ops->enter(cg, pid, err) < 0)
        return err_wrap(err, "cgroup %s", cg->path);
    return 0;
}

int cgroup_freeze(struct cgroup *cg, bool frozen, struct err **err)
{
    if (cg->ops == NULL)
        return disabled(cg, frozen ? "freeze" : "thaw", err);
    return cg->ops->freeze(cg, frozen, err);
}

const char *cgroup_freezer_state(struct cgroup *cg)
{
    return cg->ops ? cg->ops->freezer_state(cg) : "unknown";
}

int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct err **err)
{
    size_t cap = 0;

    *pids = NULL;
    *n = 0;
    if (cg->ops == NULL)
        return disabled(cg, "list processes of", err);
    const char *dir = cg->ops->procs_dir(cg);
    if (dir == NULL)
        return err_val(err, ENOENT, "cgroup %s: no hierarchy to list processes from", cg->path);
    if (collect_pids(dir, pids, n, &cap, err) < 0) {
        free(*pids);
        *pids = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int cgroup_kill(struct cgroup *cg, int sig, struct err **err)
{
    if (cg->ops == NULL)
        return disabled(cg, "kill", err);
    return cg->ops->kill(cg, sig, err);
}

int cgroup_destroy(struct cgroup *cg, struct err **err)
{
    if (cg->ops == NULL)
        return 0;
    /* Thaw first: frozen processes do not die from SIGKILL until thawed. */
    if (strcmp(cg->ops->freezer_state(cg), "paused") == 0) {
        struct err *e = NULL;
        if (cg->ops->freeze(cg, false, &e) < 0)
            err_free(&e);
    }
    for (int i = 0; i < 100; i++) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        struct err *e = NULL;
        if (cgroup_pids(cg, &pids, &n, &e) < 0) {
            err_free(&e);
            break;
        }
        if (n == 0)
            break;
        if (i % 10 == 0 && cg->ops->kill(cg, SIGKILL, &e) < 0)
            err_free(&e);
        cgroup_sleep_ms(20);
    }
    if (cg->ops->rmdirs(cg, err) < 0)
        return err_wrap(err, "destroy cgroup %s", cg->path);
    return 0;
}

json_t *cgroup_to_json(const struct cgroup *cg)
{
    json_t *j = json_object(), *v1 = json_object();

    if (j == NULL || v1 == NULL) {
        json_decref(j);
        json_decref(v1);
        return NULL;
    }
    for (size_t i = 0; i < cg->n_v1; i++)
        json_object_set_new(v1, cg->v1[i].ctrls, json_string(cg->v1[i].dir));
    json_object_set_new(j, "manager",
                        json_string(cg->mgr == CGROUP_MANAGER_DISABLED ? "disabled" : "cgroupfs"));
    json_object_set_new(j, "layout", json_string(cg->ops ? cg->ops->name : "none"));
    json_object_set_new(j, "path", json_string(cg->path ? cg->path : ""));
    json_object_set_new(j, "created", json_integer(cg->created));
    if (cg->v2_dir != NULL)
        json_object_set_new(j, "v2", json_string(cg->v2_dir));
    json_object_set_new(j, "v1", v1);
    return j;
}

int cgroup_from_json(json_t *j, struct cgroup **out, struct err **err)
{
    static const char *const known[] = {"manager", "layout", "path", "created", "v2", "v1", NULL};
    _cleanup_cgroup_ struct cgroup *cg = calloc(1, sizeof(*cg));
    const char *mgr = "cgroupfs", *layout = "none", *path = "", *v2 = NULL;
    json_t *v1 = NULL, *v;
    int64_t created = 0;
    const char *key;

    *out = NULL;
    if (cg == NULL)
        return err_set(err, ENOMEM, "cgroup state");
    if (!json_is_object(j))
        return err_val(err, EINVAL, "cgroup: expected an object, got %s", js_type_name(j));
    if (js_check_keys(j, "cgroup", known, err) < 0 ||
        js_get_str(j, "cgroup", "manager", false, &mgr, err) < 0 ||
        js_get_str(j, "cgroup", "layout", true, &layout, err) < 0 ||
        js_get_str(j, "cgroup", "path", false, &path, err) < 0 ||
        js_get_range(j, "cgroup", "created", false, 0, 4096, &created, err) < 0 ||
        js_get_str(j, "cgroup", "v2", false, &v2, err) < 0 ||
        js_get_obj(j, "cgroup", "v1", false, &v1, err) < 0 ||
        cgroup_manager_parse(mgr, &cg->mgr, err) < 0)
        return -1;
    if (strcmp(layout, "v1") == 0)
        cg->layout = CGROUP_LAYOUT_V1;
    else if (strcmp(layout, "v2") == 0)
        cg->layout = CGROUP_LAYOUT_V2;
    else if (strcmp(layout, "hybrid") == 0)
        cg->layout = CGROUP_LAYOUT_HYBRID;
    else if (strcmp(layout, "none") != 0)
        return err_val(err, EINVAL, "cgroup.layout: unknown layout `%s`", layout);
    cg->ops = cgroup_driver_ops(cg->layout);
    cg->created = (int)created;
    if ((cg->path = strdup(path)) == NULL || (v2 && (cg->v2_dir = strdup(v2)) == NULL))
        return err_set(err, ENOMEM, "cgroup state");
    if (cg->layout == CGROUP_LAYOUT_V2 && v2 == NULL)
        return err_val(err, EINVAL, "cgroup.v2: required for layout %s", layout);
    json_object_foreach (v1, key, v) {
        if (!json_is_string(v) || cg->n_v1 == CG_MAX_HIER)
            return err_val(err, EINVAL, "cgroup.v1.%s: expected a directory", key);
        struct cg_hier *h = &cg->v1[cg->n_v1++];
        if ((h->ctrls = strdup(key)) == NULL || (h->dir = strdup(json_string_value(v))) == NULL)
            return err_set(err, ENOMEM, "cgroup state");
    }
    *out = steal_ptr(&cg);
    return 0;
}
