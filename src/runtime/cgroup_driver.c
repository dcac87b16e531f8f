/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup drivers, one `struct cgroup_ops` per layout: v1 (a directory per
 * hierarchy), v2 (one directory in the unified tree) and hybrid (both; the v1
 * freezer when mounted). Kernel interfaces: Documentation/admin-guide/cgroup-v1/
 * (cgroups.rst, freezer-subsystem.rst, cpusets.rst) and cgroup-v2.rst.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"

/* mkdir -p that counts the components it created. */
static int mkdir_count(const char *dir, int *created, struct err **err)
{
    _cleanup_free_ char *p = strdup(dir);
    int n = 0;

    if (p == NULL)
        return err_set(err, ENOMEM, "mkdir `%s`", dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) == 0)
            n++;
        else if (errno != EEXIST)
            return err_sys(err, "mkdir `%s`", p);
        else
            n = 0; /* an existing component resets: we only own a trailing run */
        *s = c;
        if (c == '\0')
            break;
    }
    if (n > *created)
        *created = n;
    return 0;
}

/* v1 cpuset: a new cgroup starts with empty cpus/mems and refuses tasks
 * (ENOSPC); copy them down from the parent at every level. */
static int cpuset_init(const char *dir, struct err **err)
{
    _cleanup_free_ char *parent = strdup(dir);
    char *slash;

    if (parent == NULL || (slash = strrchr(parent, '/')) == NULL || slash == parent)
        return 0;
    *slash = '\0';
    if (cpuset_init(parent, err) < 0)
        return -1;
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char p[PATH_MAX], pp[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        snprintf(pp, sizeof(pp), "%s/%s", parent, files[i]);
        _cleanup_free_ char *cur = cgroup_read_small(p);
        if (cur == NULL || strspn(cur, " \n") != strlen(cur))
            continue; /* not a cpuset dir, or already set */
        _cleanup_free_ char *val = cgroup_read_small(pp);
        if (val == NULL)
            continue;
        val[strcspn(val, "\n")] = '\0';
        if (val[0] != '\0' && fs_write_str(p, val, err) < 0)
            return -1;
    }
    return 0;
}

/* Enable every controller the v2 root offers down to the leaf's parent
 * (cgroup-v2.rst "Enabling and Disabling"). Best effort: a level with its
 * own processes refuses (no internal processes), and a resource that needs
 * a missing controller then fails with its field name. */
static void v2_enable_in(const char *level)
{
    char p[PATH_MAX + 64];

    snprintf(p, sizeof(p), "%s/cgroup.controllers", level);
    _cleanup_free_ char *here = cgroup_read_small(p);
    snprintf(p, sizeof(p), "%s/cgroup.subtree_control", level);
    for (char *tok = here ? strtok(here, " \n") : NULL; tok; tok = strtok(NULL, " \n")) {
        char plus[64];
        struct err *e = NULL;
        snprintf(plus, sizeof(plus), "+%s", tok);
        if (fs_write_str(p, plus, &e) < 0)
            err_free(&e);
    }
}

static void v2_enable_ctrls(const char *mount, const char *dir)
{
    size_t mlen = strlen(mount);

    if (strncmp(dir, mount, mlen) != 0)
        return;
    /* Ancestors only: mount, mount/a, ... up to the leaf's parent. */
    for (size_t end = mlen; dir[end] == '/'; end += 1 + strcspn(dir + end + 1, "/")) {
        char level[PATH_MAX];
        snprintf(level, sizeof(level), "%.*s", (int)end, dir);
        v2_enable_in(level);
    }
}

static int write_pid(const char *dir, pid_t pid, struct err **err)
{
    char p[PATH_MAX], v[32];

    snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
    snprintf(v, sizeof(v), "%d", (int)pid);
    if (fs_write_str(p, v, err) < 0)
        return err_wrap(err, "move pid %d into cgroup", (int)pid);
    return 0;
}

/* rmdir dir and its sub-cgroups (cgroupfs dirs hold only control files,
 * which rmdir(2) accepts), retrying EBUSY while processes exit. */
static int rmdir_tree(const char *dir, struct err **err)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return errno == ENOENT ? 0 : err_sys(err, "open `%s`", dir);
    while ((de = readdir(d)) != NULL) {
        char p[PATH_MAX];
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (rmdir_tree(p, err) < 0)
            return -1;
    }
    for (int i = 0;; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || i >= 100)
            return err_sys(err, "remove cgroup `%s`", dir);
        cgroup_sleep_ms(20);
    }
}

/* Remove the `created` parents above dir that we made, if empty. */
static void rmdir_parents(const char *dir, int created)
{
    _cleanup_free_ char *p = strdup(dir);
    for (int i = 1; p != NULL && i < created; i++) {
        char *slash = strrchr(p, '/');
        if (slash == NULL || slash == p)
            return;
        *slash = '\0';
        if (rmdir(p) < 0)
            return;
    }
}

/* ---- v1 driver ---- */

static int v1_mkdirs(struct cgroup *cg, struct err **err)
{
    for (size_t i = 0; i < cg->n_v1; i++) {
        if (mkdir_count(cg->v1[i].dir, &cg->created, err) < 0)
            return -1;
        if (cgroup_list_has(cg->v1[i].ctrls, "cpuset") && cpuset_init(cg->v1[i].dir, err) < 0)
            return -1;
    }
    return 0;
}

static int v1_enter(struct cgroup *cg, pid_t pid, struct err **err)
{
    for (size_t i = 0; i < cg->n_v1; i++)
        if (write_pid(cg->v1[i].dir, pid, err) < 0)
            return -1;
    return 0;
}

static const char *v1_freezer_state(struct cgroup *cg)
{
    const char *dir = cgroup_v1_dir(cg, "freezer");
    char p[PATH_MAX];

    if (dir == NULL)
        return "unknown";
    snprintf(p, sizeof(p), "%s/freezer.state", dir);
    _cleanup_free_ char *s = cgroup_read_small(p);
    if (s == NULL)
        return "unknown";
    if (strncmp(s, "FROZEN", 6) == 0)
        return "paused";
    if (strncmp(s, "THAWED", 6) == 0)
        return "running";
    return "unknown"; /* FREEZING */
}

static int v1_freeze(struct cgroup *cg, bool frozen, struct err **err)
{
    const char *dir = cgroup_v1_dir(cg, "freezer");
    const char *want = frozen ? "FROZEN" : "THAWED";
    char p[PATH_MAX];

    if (dir == NULL)
        return err_val(err, ENOTSUP, "freeze cgroup %s: no freezer hierarchy", cg->path);
    snprintf(p, sizeof(p), "%s/freezer.state", dir);
    /* A write can leave the cgroup FREEZING (a task in an uninterruptible
     * sleep); write again until the kernel reports the state, bounded. */
    for (int i = 0; i < 200; i++) {
        if (fs_write_str(p, want, err) < 0)
            return -1;
        _cleanup_free_ char *s = cgroup_read_small(p);
        if (s != NULL && strncmp(s, want, strlen(want)) == 0)
            return 0;
        cgroup_sleep_ms(10);
    }
    if (frozen) {
        struct err *e = NULL;
        if (fs_write_str(p, "THAWED", &e) < 0)
            err_free(&e);
    }
    return err_set(err, ETIMEDOUT, "freeze cgroup %s: still not %s after 2 s", cg->path, want);
}

static const char *v1_procs_dir(struct cgroup *cg)
{
    const char *d = cgroup_v1_dir(cg, "pids");
    if (d == NULL)
        d = cgroup_v1_dir(cg, "freezer");
    return d != NULL ? d : cg->n_v1 > 0 ? cg->v1[0].dir : NULL;
}

static int kill_listed(struct cgroup *cg, int sig, struct err **err)
{
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;

    if (cgroup_pids(cg, &pids, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            return err_sys(err, "kill pid %d of cgroup %s with signal %d", (int)pids[i], cg->path,
                           sig);
    return 0;
}

static int v1_kill(struct cgroup *cg, int sig, struct err **err)
{
    /* Freeze first so no process forks past the signal (runc kill --all). */
    bool froze = sig == SIGKILL && cgroup_v1_dir(cg, "freezer") != NULL &&
                 strcmp(v1_freezer_state(cg), "running") == 0;
    struct err *e = NULL;

    if (froze && v1_freeze(cg, true, &e) < 0) {
        err_free(&e);
        froze = false;
    }
    int r = kill_listed(cg, sig, err);
    if (froze && v1_freeze(cg, false, &e) < 0)
        err_free(&e);
    return r;
}

static int v1_rmdirs(struct cgroup *cg, struct err **err)
{
    int r = 0;
    for (size_t i = 0; i < cg->n_v1; i++) {
        struct err *e = NULL;
        if (rmdir_tree(cg->v1[i].dir, &e) < 0) {
            if (r == 0 && err != NULL && *err == NULL)
                *err = e;
            else
                err_free(&e);
            r = -1;
            continue;
        }
        rmdir_parents(cg->v1[i].dir, cg->created);
    }
    return r;
}

/* ---- v2 driver ---- */

static int v2_mkdirs(struct cgroup *cg, struct err **err)
{
    if (mkdir_count(cg->v2_dir, &cg->created, err) < 0)
        return -1;
    const char *mount = cgroup_root();
    char unified[PATH_MAX];
    if (cg->layout == CGROUP_LAYOUT_HYBRID) {
        snprintf(unified, sizeof(unified), "%s/unified", mount);
        mount = unified;
    }
    v2_enable_ctrls(mount, cg->v2_dir);
    return 0;
}

static int v2_enter(struct cgroup *cg, pid_t pid, struct err **err)
{
    return write_pid(cg->v2_dir, pid, err);
}

static const char *v2_freezer_state(struct cgroup *cg)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/cgroup.freeze", cg->v2_dir);
    _cleanup_free_ char *s = cgroup_read_small(p);
    if (s == NULL)
        return "unknown";
    return s[0] == '1' ? "paused" : "running";
}

static bool v2_events_frozen(const char *dir, bool frozen)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/cgroup.events", dir);
    _cleanup_free_ char *s = cgroup_read_small(p);
    const char *f = s ? strstr(s, "frozen ") : NULL;
    return f != NULL && (f[7] == '1') == frozen;
}

static int v2_freeze(struct cgroup *cg, bool frozen, struct err **err)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/cgroup.freeze", cg->v2_dir);
    if (access(p, F_OK) < 0)
        return err_val(err, ENOTSUP, "freeze cgroup %s: no cgroup.freeze (kernel < 5.2)", cg->path);
    if (fs_write_str(p, frozen ? "1" : "0", err) < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        if (v2_events_frozen(cg->v2_dir, frozen))
            return 0;
        cgroup_sleep_ms(10);
    }
    return err_set(err, ETIMEDOUT, "%s cgroup %s: not done after 2 s", frozen ? "freeze" : "thaw",
                   cg->path);
}

static const char *v2_procs_dir(struct cgroup *cg)
{
    return cg->v2_dir;
}

static int v2_kill(struct cgroup *cg, int sig, struct err **err)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/cgroup.kill", cg->v2_dir);
    if (sig == SIGKILL && access(p, F_OK) == 0) /* Linux 5.14: atomic, no fork race */
        return fs_write_str(p, "1", err);
    return kill_listed(cg, sig, err);
}

static int v2_rmdirs(struct cgroup *cg, struct err **err)
{
    if (rmdir_tree(cg->v2_dir, err) < 0)
        return -1;
    rmdir_parents(cg->v2_dir, cg->created);
    return 0;
}

/* ---- hybrid: the v1 driver plus the v2 tree (which may hold controllers,
 * here hugetlb). Processes join both; the v1 freezer is used when mounted. */

static int hy_mkdirs(struct cgroup *cg, struct err **err)
{
    struct err *e = NULL;

    if (v1_mkdirs(cg, err) < 0)
        return -1;
    /* The v2 tree of a hybrid host is secondary (here it holds only hugetlb):
     * without access to it (rootless, read-only) the container still runs
     * under its v1 limits, and a resource that needs it fails by name. */
    if (v2_mkdirs(cg, &e) < 0) {
        log_warn("cgroup %s: not using the cgroup v2 tree: %s", cg->path, e->msg);
        err_free(&e);
        free(cg->v2_dir);
        cg->v2_dir = NULL;
    }
    return 0;
}

static int hy_enter(struct cgroup *cg, pid_t pid, struct err **err)
{
    if (v1_enter(cg, pid, err) < 0)
        return -1;
    return cg->v2_dir ? v2_enter(cg, pid, err) : 0;
}

static int hy_freeze(struct cgroup *cg, bool frozen, struct err **err)
{
    if (cgroup_v1_dir(cg, "freezer") == NULL && cg->v2_dir == NULL)
        return err_val(err, ENOTSUP, "freeze cgroup %s: no freezer", cg->path);
    return cgroup_v1_dir(cg, "freezer") ? v1_freeze(cg, frozen, err) : v2_freeze(cg, frozen, err);
}

static const char *hy_freezer_state(struct cgroup *cg)
{
    if (cgroup_v1_dir(cg, "freezer") == NULL && cg->v2_dir == NULL)
        return "unknown";
    return cgroup_v1_dir(cg, "freezer") ? v1_freezer_state(cg) : v2_freezer_state(cg);
}

static const char *hy_procs_dir(struct cgroup *cg)
{
    return cg->v2_dir ? cg->v2_dir : v1_procs_dir(cg);
}

static int hy_kill(struct cgroup *cg, int sig, struct err **err)
{
    return cg->v2_dir ? v2_kill(cg, sig, err) : v1_kill(cg, sig, err);
}

static int hy_rmdirs(struct cgroup *cg, struct err **err)
{
    int r = v1_rmdirs(cg, err);
    if (cg->v2_dir != NULL && v2_rmdirs(cg, r < 0 ? NULL : err) < 0)
        r = -1;
    return r;
}

static const struct cgroup_ops ops_v1 = {
    "v1", v1_mkdirs, v1_enter, v1_freeze, v1_freezer_state, v1_procs_dir, v1_kill, v1_rmdirs,
};
static const struct cgroup_ops ops_v2 = {
    "v2", v2_mkdirs, v2_enter, v2_freeze, v2_freezer_state, v2_procs_dir, v2_kill, v2_rmdirs,
};
static const struct cgroup_ops ops_hybrid = {
    "hybrid", hy_mkdirs, hy_enter, hy_freeze, hy_freezer_state, hy_procs_dir, hy_kill, hy_rmdirs,
};

const struct cgroup_ops *cgroup_driver_ops(enum cgroup_layout l)
{
    switch (l) {
    case CGROUP_LAYOUT_V1:
        return &ops_v1;
    case CGROUP_LAYOUT_V2:
        return &ops_v2;
    case CGROUP_LAYOUT_HYBRID:
        return &ops_hybrid;
    case CGROUP_LAYOUT_NONE:
        break;
    }
    return NULL;
}
