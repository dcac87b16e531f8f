/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container cgroups (runtime-spec config-linux.md "Control groups"): layout
 * detection, the v1 / v2 / hybrid drivers, lifecycle and state persistence.
 * Resource files are written by cgroup_res.c; the v2 device filter is cgroup_bpf.c.
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
    const char *env = getenv("ISOLA_CGROUP_ROOT");

    if (root_override != NULL)
        return root_override;
    if (env != NULL && env[0] == '/')
        return env;
    return "/sys/fs/cgroup";
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

static bool list_has(const char *list, const char *item)
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

static char *read_small(const char *path)
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

static void sleep_ms(long ms)
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

static const char *v1_dir(const struct cgroup *cg, const char *ctrl)
{
    for (size_t i = 0; i < cg->n_v1; i++)
        if (list_has(cg->v1[i].ctrls, ctrl))
            return cg->v1[i].dir;
    return NULL;
}

static bool v2_has_ctrl(const char *dir, const char *ctrl)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/cgroup.controllers", dir);
    _cleanup_free_ char *c = read_small(p);
    return c != NULL && words_have(c, ctrl);
}

int cgroup_ctrl_version(struct cgroup *cg, const char *ctrl)
{
    if (cg->layout != CGROUP_LAYOUT_V2 && v1_dir(cg, ctrl) != NULL)
        return 1;
    if (cg->v2_dir != NULL && v2_has_ctrl(cg->v2_dir, ctrl))
        return 2;
    return 0;
}

static const char *ctrl_dir(struct cgroup *cg, const char *ctrl)
{
    int v = cgroup_ctrl_version(cg, ctrl);
    return v == 1 ? v1_dir(cg, ctrl) : v == 2 ? cg->v2_dir : NULL;
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
        _cleanup_free_ char *cur = read_small(p);
        if (cur == NULL || strspn(cur, " \n") != strlen(cur))
            continue; /* not a cpuset dir, or already set */
        _cleanup_free_ char *val = read_small(pp);
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
    _cleanup_free_ char *here = read_small(p);
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
        sleep_ms(20);
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
        if (list_has(cg->v1[i].ctrls, "cpuset") && cpuset_init(cg->v1[i].dir, err) < 0)
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
    const char *dir = v1_dir(cg, "freezer");
    char p[PATH_MAX];

    if (dir == NULL)
        return "unknown";
    snprintf(p, sizeof(p), "%s/freezer.state", dir);
    _cleanup_free_ char *s = read_small(p);
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
    const char *dir = v1_dir(cg, "freezer");
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
        _cleanup_free_ char *s = read_small(p);
        if (s != NULL && strncmp(s, want, strlen(want)) == 0)
            return 0;
        sleep_ms(10);
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
    const char *d = v1_dir(cg, "pids");
    if (d == NULL)
        d = v1_dir(cg, "freezer");
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
    bool froze = sig == SIGKILL && v1_dir(cg, "freezer") != NULL &&
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
    _cleanup_free_ char *s = read_small(p);
    if (s == NULL)
        return "unknown";
    return s[0] == '1' ? "paused" : "running";
}

static bool v2_events_frozen(const char *dir, bool frozen)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/cgroup.events", dir);
    _cleanup_free_ char *s = read_small(p);
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
        sleep_ms(10);
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
    return v1_mkdirs(cg, err) < 0 ? -1 : v2_mkdirs(cg, err);
}

static int hy_enter(struct cgroup *cg, pid_t pid, struct err **err)
{
    return v1_enter(cg, pid, err) < 0 ? -1 : v2_enter(cg, pid, err);
}

static int hy_freeze(struct cgroup *cg, bool frozen, struct err **err)
{
    return v1_dir(cg, "freezer") ? v1_freeze(cg, frozen, err) : v2_freeze(cg, frozen, err);
}

static const char *hy_freezer_state(struct cgroup *cg)
{
    return v1_dir(cg, "freezer") ? v1_freezer_state(cg) : v2_freezer_state(cg);
}

static const char *hy_procs_dir(struct cgroup *cg)
{
    return cg->v2_dir;
}

static int hy_kill(struct cgroup *cg, int sig, struct err **err)
{
    return v2_kill(cg, sig, err);
}

static int hy_rmdirs(struct cgroup *cg, struct err **err)
{
    int r = v1_rmdirs(cg, err);
    if (v2_rmdirs(cg, r < 0 ? NULL : err) < 0)
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

static const struct cgroup_ops *ops_for(enum cgroup_layout l)
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
    cg->ops = ops_for(cg->layout);
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

int cgroup_create(enum cgroup_manager mgr, const char *id, const char *cgroups_path,
                  json_t *resources, pid_t pid, struct cgroup **out, struct err **err)
{
    _cleanup_cgroup_ struct cgroup *cg = calloc(1, sizeof(*cg));
    _cleanup_free_ char *def = NULL;

    *out = NULL;
    if (cg == NULL)
        return err_set(err, ENOMEM, "cgroup for container `%s`", id);
    cg->mgr = mgr;
    if (cgroup_validate(resources, err) < 0)
        return -1;
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
    if (mgr == CGROUP_MANAGER_DISABLED) {
        if (resources != NULL && json_object_size(resources) > 0)
            log_warn("container %s: cgroup manager is disabled, linux.resources ignored", id);
        *out = steal_ptr(&cg);
        return 0;
    }
    if (cgroup_resolve(cg, cgroups_path, err) < 0)
        return err_wrap(err, "cgroup for container `%s`", id);
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
        sleep_ms(20);
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
    cg->ops = ops_for(cg->layout);
    cg->created = (int)created;
    if ((cg->path = strdup(path)) == NULL || (v2 && (cg->v2_dir = strdup(v2)) == NULL))
        return err_set(err, ENOMEM, "cgroup state");
    if ((cg->layout == CGROUP_LAYOUT_V2 || cg->layout == CGROUP_LAYOUT_HYBRID) && v2 == NULL)
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
