/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cgroups on this host's real hierarchy (v1, v2 or hybrid) under a unique
 * name, then the v2 driver on a pure v2 tree: `--v2-root DIR` (e.g. the
 * testhost's /sys/fs/cgroup), else this host's own v2 tree if it has one.
 * Every cgroup made here is removed in every outcome.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static char host_base[64], v2_base[64], norm_base[64], host_path[80], v2_path[80];
static char *v2_root;
static pid_t main_pid;
static pid_t children[8];
static int nchildren;

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (j == NULL)
        printf("# bad test JSON: %s\n", e.text);
    return j;
}

static void bad(const char *json, const char *msg)
{
    struct err *e = NULL;
    json_t *j = J(json);
    ok(cgroup_validate(j, &e) < 0, "invalid: %s", json);
    is_str(e ? e->msg : NULL, msg, "error names the field");
    err_free(&e);
    json_decref(j);
}

static char *slurp(const char *dir, const char *file)
{
    char p[PATH_MAX + 64];
    char *buf = NULL;
    size_t len;
    struct err *e = NULL;

    if (dir == NULL)
        return NULL;
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    if (fs_read_file(p, &buf, &len, &e) < 0) {
        printf("# %s\n", e->msg);
        err_free(&e);
        return NULL;
    }
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static bool cgroup_has_any(struct cgroup *cg, const char *ctrl, const char *a, const char *b)
{
    const char *dir = cgroup_dir(cg, ctrl);
    char p[PATH_MAX + 64];
    if (dir == NULL)
        return false;
    snprintf(p, sizeof(p), "%s/%s", dir, a);
    if (access(p, F_OK) == 0)
        return true;
    snprintf(p, sizeof(p), "%s/%s", dir, b);
    return access(p, F_OK) == 0;
}

static void check_file(const char *dir, const char *file, const char *want)
{
    _cleanup_free_ char *got = slurp(dir, file);
    is_str(got, want, "%s reads %s", file, want);
}

/* A child that waits for a byte on a pipe, then runs `after` and exits with its result. */
static pid_t spawn_child(int *wake_fd, int (*after)(void))
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    /* Block the signals across fork so the child never runs the parent's
     * cleanup handler: it resets them first, then a pending one kills it. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
            _exit(0);
        _exit(after ? after() : 0);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(p[0]);
    *wake_fd = p[1];
    if (pid > 0 && nchildren < 8)
        children[nchildren++] = pid;
    return pid;
}

static int reap(pid_t pid)
{
    int st = -1;
    if (waitpid(pid, &st, 0) == pid) {
        for (int i = 0; i < nchildren; i++)
            if (children[i] == pid)
                children[i] = 0;
    }
    return st;
}

static bool has_pid(struct cgroup *cg, pid_t pid)
{
    pid_t *pids = NULL;
    size_t n = 0;
    struct err *e = NULL;
    bool found = false;

    if (cgroup_pids(cg, &pids, &n, &e) < 0) {
        printf("# %s\n", e->msg);
        err_free(&e);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        found |= pids[i] == pid;
    free(pids);
    return found;
}

/* Last resort: remove what a failed test left behind (leaf, then parent). */
static void rm_leftovers(const char *root, const char *path)
{
    char p[PATH_MAX];
    _cleanup_closedir_ DIR *d = opendir(root);
    struct dirent *de;

    snprintf(p, sizeof(p), "%s%s/c", root, path);
    rmdir(p);
    snprintf(p, sizeof(p), "%s%s", root, path);
    rmdir(p);
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s%s/c", root, de->d_name, path);
        rmdir(p);
        snprintf(p, sizeof(p), "%s/%s%s", root, de->d_name, path);
        rmdir(p);
    }
}

static void cleanup(void)
{
    for (int i = 0; i < nchildren; i++)
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
        }
    cgroup_set_root(NULL, NULL);
    rm_leftovers(cgroup_root(), host_base);
    rm_leftovers(cgroup_root(), norm_base);
    if (v2_root != NULL)
        rm_leftovers(v2_root, v2_base);
}

/* meson's timeout sends SIGTERM: clean up there too (not async-signal-safe,
 * acceptable for a test that is being killed anyway). */
static void on_signal(int sig)
{
    if (getpid() != main_pid)
        _exit(128 + sig); /* never clean up from a child */
    cleanup();
    _exit(128 + sig);
}

static void test_validate(void)
{
    struct err *e = NULL;
    enum cgroup_manager m;
    json_t *j0;

    ok(cgroup_manager_parse("cgroupfs", &m, &e) == 0 && m == CGROUP_MANAGER_CGROUPFS, "cgroupfs");
    ok(cgroup_manager_parse("systemd", &m, &e) < 0 && e && strstr(e->msg, "systemd"),
       "systemd refused by name");
    err_free(&e);
    ok(cgroup_validate(NULL, &e) == 0, "no resources is valid");
    /* runtime-spec config.md: unknown properties are ignored. */
    j0 = J("{\"memroy\":{},\"memory\":{\"limit\":1000,\"future\":1}}");
    ok(cgroup_validate(j0, &e) == 0, "unknown resources fields ignored");
    err_free(&e);
    json_decref(j0);
    bad("{\"memory\":{\"limit\":\"1G\"}}",
        "linux.resources.memory.limit: expected an integer, got string");
    bad("{\"memory\":{\"limit\":1000,\"swap\":10}}",
        "linux.resources.memory.swap: 10 is below memory.limit 1000 (swap is memory plus swap)");
    bad("{\"pids\":{}}", "linux.resources.pids.limit: required field is missing");
    bad("{\"cpu\":{\"shares\":1}}", "linux.resources.cpu.shares: 1 is out of range [2, 262144]");
    bad("{\"blockIO\":{\"weight\":5}}",
        "linux.resources.blockIO.weight: 5 is out of range [10, 1000]");
    bad("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"rate\":1}]}}",
        "linux.resources.blockIO.throttleReadBpsDevice[0].minor: required field is missing");
    bad("{\"hugepageLimits\":[{\"pageSize\":\"huge\",\"limit\":1}]}",
        "linux.resources.hugepageLimits[0].pageSize: `huge` is not a page size like `2MB`");
    bad("{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}",
        "linux.resources.devices[0].type: `x` is not one of a, b, c");
    bad("{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
        "linux.resources.devices[0].access: `rwx` is not a combination of r, w, m");
    bad("{\"devices\":[{\"type\":\"c\"}]}",
        "linux.resources.devices[0].allow: required field is missing");
    bad("{\"rdma\":{\"mlx5_0\":{\"hcaHandles\":-1}}}",
        "linux.resources.rdma.mlx5_0.hcaHandles: -1 is out of range [0, 4294967295]");
    bad("{\"unified\":{\"memory.max\":5}}",
        "linux.resources.unified.memory.max: expected a string, got integer");
    json_t *j = J("{\"memory\":{\"limit\":67108864,\"swap\":-1},\"cpu\":{\"shares\":512,"
                  "\"quota\":50000,\"period\":100000,\"cpus\":\"0\"},\"pids\":{\"limit\":10},"
                  "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,"
                  "\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}],"
                  "\"unified\":{\"memory.high\":\"max\"}}");
    ok(cgroup_validate(j, &e) == 0, "a full resources object is valid");
    if (e)
        printf("# %s\n", e->msg);
    err_free(&e);
    json_decref(j);
}

static int open_devices(void)
{
    int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int b = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    int ea = a < 0 ? errno : 0;
    return (ea == EPERM ? 0 : 1) | (b >= 0 ? 0 : 2);
}

/* The host's own layout: memory + pids limits, pids, freeze, update, destroy. */
static void test_host(void)
{
    struct err *e = NULL;
    struct cgroup *cg = NULL;
    int wake = -1;
    enum cgroup_layout layout;

    printf("# host cgroup layout: %s (root %s)\n", cgroup_layout_name(), cgroup_root());
    if (cgroup_layout_detect(&layout, &e) < 0 || layout == CGROUP_LAYOUT_NONE) {
        err_free(&e);
        skip("no cgroup filesystem on this host");
        return;
    }
    if (access(cgroup_root(), W_OK) < 0 && getuid() != 0) {
        skip("cgroup root not writable (needs root or delegation)");
        return;
    }
    pid_t child = spawn_child(&wake, NULL);
    ok(child > 0, "child started");
    json_t *res = J("{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":32},"
                    "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,"
                    "\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"r\"}]}");
    int r = cgroup_create(CGROUP_MANAGER_CGROUPFS, "t", host_path, res, child, &cg, &e);
    json_decref(res);
    ok(r == 0, "create %s", host_path);
    if (r < 0) {
        printf("# %s\n", e->msg);
        err_free(&e);
        close(wake);
        reap(child);
        return;
    }
    bool v2mem = cgroup_dir(cg, "memory") == cgroup_dir(cg, "");
    check_file(cgroup_dir(cg, "memory"), v2mem ? "memory.max" : "memory.limit_in_bytes",
               "67108864");
    check_file(cgroup_dir(cg, "pids"), "pids.max", "32");
    ok(has_pid(cg, child), "the child is listed in the cgroup");

    ok(cgroup_freeze(cg, true, &e) == 0, "freeze");
    is_str(cgroup_freezer_state(cg), "paused", "state paused");
    ok(cgroup_freeze(cg, false, &e) == 0, "thaw");
    is_str(cgroup_freezer_state(cg), "running", "state running");
    if (e)
        printf("# %s\n", e->msg);
    err_free(&e);

    res = J("{\"memory\":{\"limit\":134217728},\"pids\":{\"limit\":-1}}");
    ok(cgroup_update(cg, res, &e) == 0, "update");
    json_decref(res);
    check_file(cgroup_dir(cg, "memory"), v2mem ? "memory.max" : "memory.limit_in_bytes",
               "134217728");
    check_file(cgroup_dir(cg, "pids"), "pids.max", "max");

    res = J("{\"unified\":{\"memory.high\":\"max\"}}");
    r = cgroup_update(cg, res, &e);
    json_decref(res);
    if (layout == CGROUP_LAYOUT_V1 || (layout == CGROUP_LAYOUT_HYBRID && !v2mem)) {
        ok(r < 0 && e && strstr(e->msg, "linux.resources.unified.memory.high"),
           "unified memory.high refused on %s: %s", cgroup_layout_name(), e ? e->msg : "");
    } else {
        ok(r == 0, "unified applied on v2");
    }
    err_free(&e);

    /* Devices (v1 devices cgroup, or the v2 eBPF filter), and cgroup_enter. */
    int wake2 = -1;
    pid_t c2 = spawn_child(&wake2, open_devices);
    ok(cgroup_enter(cg, c2, &e) == 0, "cgroup_enter a second child");
    err_free(&e);
    ok(write(wake2, "x", 1) == 1, "wake it");
    int st2 = reap(c2);
    ok(WIFEXITED(st2) && WEXITSTATUS(st2) == 0,
       "devices: /dev/null EPERM, /dev/zero readable (status %d)",
       WIFEXITED(st2) ? WEXITSTATUS(st2) : -1);
    close(wake2);

    /* CPU: shares, quota/period, cpuset (v1 files or their v2 conversions). */
    if (cgroup_dir(cg, "cpu") != NULL && cgroup_dir(cg, "cpuset") != NULL) {
        bool v2c = cgroup_dir(cg, "cpu") == cgroup_dir(cg, "");
        res = J("{\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0\","
                "\"mems\":\"0\"}}");
        ok(cgroup_update(cg, res, &e) == 0, "cpu update (%s)", v2c ? "v2" : "v1");
        if (e)
            printf("# %s\n", e->msg);
        err_free(&e);
        json_decref(res);
        if (v2c) {
            check_file(cgroup_dir(cg, "cpu"), "cpu.weight", "39");
            check_file(cgroup_dir(cg, "cpu"), "cpu.max", "50000 100000");
        } else {
            check_file(cgroup_dir(cg, "cpu"), "cpu.shares", "1024");
            check_file(cgroup_dir(cg, "cpu"), "cpu.cfs_quota_us", "50000");
            check_file(cgroup_dir(cg, "cpu"), "cpu.cfs_period_us", "100000");
        }
        check_file(cgroup_dir(cg, "cpuset"), "cpuset.cpus", "0");
        res = J("{\"cpu\":{\"quota\":-1}}");
        ok(cgroup_update(cg, res, &e) == 0, "quota -1 (unlimited)");
        err_free(&e);
        json_decref(res);
        check_file(cgroup_dir(cg, "cpu"), v2c ? "cpu.max" : "cpu.cfs_quota_us",
                   v2c ? "max 100000" : "-1");
        res = J("{\"cpu\":{\"quota\":20000}}");
        ok(cgroup_update(cg, res, &e) == 0, "quota alone");
        err_free(&e);
        json_decref(res);
        res = J("{\"cpu\":{\"period\":200000}}");
        ok(cgroup_update(cg, res, &e) == 0, "period alone keeps the quota");
        err_free(&e);
        json_decref(res);
        check_file(cgroup_dir(cg, "cpu"), v2c ? "cpu.max" : "cpu.cfs_period_us",
                   v2c ? "20000 200000" : "200000");
    } else {
        skip("no cpu or cpuset controller");
    }

    /* Swap (memory+swap on v1, swap alone on v2), raising and lowering. */
    if (cgroup_has_any(cg, "memory", "memory.memsw.limit_in_bytes", "memory.swap.max")) {
        bool v2m = cgroup_dir(cg, "memory") == cgroup_dir(cg, "");
        res = J("{\"memory\":{\"limit\":67108864,\"swap\":134217728}}");
        ok(cgroup_update(cg, res, &e) == 0, "swap raised");
        err_free(&e);
        json_decref(res);
        check_file(cgroup_dir(cg, "memory"),
                   v2m ? "memory.swap.max" : "memory.memsw.limit_in_bytes",
                   v2m ? "67108864" : "134217728");
        res = J("{\"memory\":{\"limit\":33554432,\"swap\":50331648}}");
        ok(cgroup_update(cg, res, &e) == 0, "swap lowered below the old limit (order)");
        if (e)
            printf("# %s\n", e->msg);
        err_free(&e);
        json_decref(res);
        check_file(cgroup_dir(cg, "memory"),
                   v2m ? "memory.swap.max" : "memory.memsw.limit_in_bytes",
                   v2m ? "16777216" : "50331648");
        check_file(cgroup_dir(cg, "memory"), v2m ? "memory.max" : "memory.limit_in_bytes",
                   "33554432");
        res = J("{\"memory\":{\"limit\":134217728,\"swap\":-1}}");
        ok(cgroup_update(cg, res, &e) == 0, "back to 128M, swap unlimited");
        err_free(&e);
        json_decref(res);
    } else {
        skip("no swap accounting");
    }

    /* Block I/O throttling on the first disk-like device. */
    char bdev[32] = "";
    const char *cands[] = {"vda", "sda", "nvme0n1", "loop0"};
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]) && !bdev[0]; i++) {
        char p[96];
        snprintf(p, sizeof(p), "/sys/block/%s", cands[i]);
        if (!fs_exists(p))
            continue;
        _cleanup_free_ char *dev = slurp(p, "dev");
        if (dev != NULL)
            snprintf(bdev, sizeof(bdev), "%s", dev);
    }
    const char *iodir = cgroup_dir(cg, "io") ? cgroup_dir(cg, "io") : cgroup_dir(cg, "blkio");
    if (bdev[0] && iodir != NULL) {
        unsigned maj = 0, min = 0;
        char json[256], want[96];
        bool v2io = cgroup_dir(cg, "io") != NULL;
        sscanf(bdev, "%u:%u", &maj, &min);
        snprintf(json, sizeof(json),
                 "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":%u,\"minor\":%u,"
                 "\"rate\":1048576}]}}",
                 maj, min);
        res = J(json);
        ok(cgroup_update(cg, res, &e) == 0, "throttleReadBpsDevice %s", bdev);
        if (e)
            printf("# %s\n", e->msg);
        err_free(&e);
        json_decref(res);
        snprintf(want, sizeof(want),
                 v2io ? "%s rbps=1048576 wbps=max riops=max wiops=max" : "%s 1048576", bdev);
        check_file(iodir, v2io ? "io.max" : "blkio.throttle.read_bps_device", want);
    } else {
        skip("no block device or no io/blkio controller");
    }

    /* A signal other than SIGKILL goes to every listed process. */
    int wake3 = -1;
    pid_t c3 = spawn_child(&wake3, NULL);
    ok(cgroup_enter(cg, c3, &e) == 0, "cgroup_enter a third child");
    err_free(&e);
    ok(cgroup_kill(cg, SIGTERM, &e) == 0, "cgroup_kill SIGTERM");
    err_free(&e);
    int st3 = reap(c3);
    ok(WIFSIGNALED(st3) && WTERMSIG(st3) == SIGTERM, "the third child got SIGTERM (status %#x)",
       st3);
    close(wake3);
    /* ...which also hit the first child: start over with a fresh one. */
    int st1 = reap(child);
    ok(WIFSIGNALED(st1) && WTERMSIG(st1) == SIGTERM, "the first child got SIGTERM too");
    ok(!has_pid(cg, child), "first child no longer listed");
    close(wake);
    child = spawn_child(&wake, NULL);
    ok(cgroup_enter(cg, child, &e) == 0 && has_pid(cg, child), "a new first child joined");
    err_free(&e);

    /* Huge pages where the kernel has 2 MB pages (v2 tree on this hybrid host). */
    if (cgroup_dir(cg, "hugetlb") != NULL &&
        fs_exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) {
        bool v2h = cgroup_dir(cg, "hugetlb") == cgroup_dir(cg, "");
        res = J("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}");
        ok(cgroup_update(cg, res, &e) == 0, "hugepageLimits 2MB (%s)", v2h ? "v2" : "v1");
        if (e)
            printf("# %s\n", e->msg);
        err_free(&e);
        json_decref(res);
        check_file(cgroup_dir(cg, "hugetlb"),
                   v2h ? "hugetlb.2MB.max" : "hugetlb.2MB.limit_in_bytes", "4194304");
    } else {
        skip("no hugetlb controller or no 2 MB huge pages");
    }

    res = J("{\"memory\":{\"limit\":4096,\"checkBeforeUpdate\":true}}");
    ok(cgroup_update(cg, res, &e) < 0 && e && strstr(e->msg, "checkBeforeUpdate") &&
           strstr(e->msg, "linux.resources.memory.limit"),
       "checkBeforeUpdate refuses a limit below the usage");
    err_free(&e);
    json_decref(res);

    /* Statistics in runc's shape. */
    json_t *stats = cgroup_stats(cg, &e);
    ok(stats != NULL, "stats");
    err_free(&e);
    json_t *mu = json_object_get(json_object_get(stats, "memory"), "usage");
    ok(json_integer_value(json_object_get(mu, "usage")) > 0, "memory.usage.usage > 0");
    ok(json_integer_value(json_object_get(mu, "limit")) == 134217728, "memory.usage.limit");
    ok(json_integer_value(json_object_get(json_object_get(stats, "pids"), "current")) >= 1,
       "pids.current >= 1");
    ok(json_object_get(json_object_get(stats, "cpu"), "usage") != NULL, "cpu.usage present");
    json_decref(stats);

    /* State round trip. */
    json_t *state = cgroup_to_json(cg);
    struct cgroup *cg2 = NULL;
    ok(state && cgroup_from_json(state, &cg2, &e) == 0, "state round trip");
    json_decref(state);
    ok(cg2 && has_pid(cg2, child), "restored cgroup lists the child");

    char *dirs[2] = {cg2 && cgroup_dir(cg2, "memory") ? strdup(cgroup_dir(cg2, "memory")) : NULL,
                     cg2 && cgroup_dir(cg2, "pids") ? strdup(cgroup_dir(cg2, "pids")) : NULL};
    ok(cg2 && cgroup_destroy(cg2, &e) == 0, "destroy kills the child and removes the cgroup");
    if (e)
        printf("# %s\n", e->msg);
    err_free(&e);
    int st = reap(child);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the child was killed");
    for (int i = 0; i < 2; i++) {
        ok(dirs[i] && !fs_exists(dirs[i]), "%s removed", dirs[i] ? dirs[i] : "dir");
        char *slash = dirs[i] ? strrchr(dirs[i], '/') : NULL;
        if (slash != NULL)
            *slash = '\0';
        ok(dirs[i] && !fs_exists(dirs[i]), "its parent %s, created by us, removed too",
           dirs[i] ? dirs[i] : "dir");
        free(dirs[i]);
    }
    close(wake);
    cgroup_free(cg);
    cgroup_free(cg2);
}

/* A relative cgroupsPath lands below the runtime's own cgroup (runc), and only
 * the leaf is removed. */
static void test_relative(void)
{
    struct err *e = NULL;
    struct cgroup *cg = NULL;
    char rel[64];

    snprintf(rel, sizeof(rel), "isola-test-%d-rel", (int)getpid());
    int r = cgroup_create(CGROUP_MANAGER_CGROUPFS, "rel", rel, NULL, 0, &cg, &e);
    ok(r == 0, "create relative %s", rel);
    if (r < 0) {
        printf("# %s\n", e->msg);
        err_free(&e);
        return;
    }
    const char *dir = cgroup_dir(cg, "pids") ? cgroup_dir(cg, "pids") : cgroup_dir(cg, "");
    _cleanup_free_ char *parent = dir ? strdup(dir) : NULL;
    if (parent != NULL)
        *strrchr(parent, '/') = '\0';
    ok(dir && fs_exists(dir) && strstr(dir, rel), "directory %s", dir ? dir : "?");
    ok(cgroup_destroy(cg, &e) == 0, "destroy relative");
    err_free(&e);
    ok(dir && !fs_exists(dir) && parent && fs_exists(parent), "leaf removed, own cgroup kept");
    cgroup_free(cg);

    /* Paths are normalised: doubled and trailing slashes. */
    char messy[96];
    snprintf(messy, sizeof(messy), "%s//c/", norm_base);
    r = cgroup_create(CGROUP_MANAGER_CGROUPFS, "n", messy, NULL, 0, &cg, &e);
    ok(r == 0, "create %s", messy);
    err_free(&e);
    if (r == 0) {
        char want[96];
        snprintf(want, sizeof(want), "%s/c", norm_base);
        is_str(cgroup_path(cg), want, "path normalised");
        ok(cgroup_destroy(cg, &e) == 0, "destroy the normalised cgroup");
        err_free(&e);
        cgroup_free(cg);
        cg = NULL;
    }
    ok(cgroup_create(CGROUP_MANAGER_CGROUPFS, "x", "//", NULL, 0, &cg, &e) < 0 && e &&
           strstr(e->msg, "root cgroup"),
       "the root cgroup is refused");
    err_free(&e);

    json_t *j = J("{\"layout\":\"v7\"}");
    ok(cgroup_from_json(j, &cg, &e) < 0 && e &&
           strcmp(e->msg, "cgroup.layout: unknown layout `v7`") == 0,
       "state with an unknown layout refused");
    err_free(&e);
    json_decref(j);
    ok(cgroup_create(CGROUP_MANAGER_CGROUPFS, "x", "/a/../../etc", NULL, 0, &cg, &e) < 0 && e &&
           strstr(e->msg, "linux.cgroupsPath"),
       "`..` in cgroupsPath refused");
    err_free(&e);
    ok(cgroup_create(CGROUP_MANAGER_DISABLED, "x", NULL, NULL, 0, &cg, &e) == 0 && cg,
       "manager disabled: nothing created");
    ok(cg && cgroup_destroy(cg, &e) == 0, "destroy of a disabled cgroup is a no-op");
    cgroup_free(cg);
}

/* The v2 driver on a pure v2 tree. */
static void test_v2(void)
{
    struct err *e = NULL;
    struct cgroup *cg = NULL;
    struct statfs sf;
    int wake = -1;

    if (v2_root == NULL) {
        skip("no cgroup v2 tree (run with --v2-root DIR)");
        return;
    }
    if (statfs(v2_root, &sf) < 0 || sf.f_type != 0x63677270) {
        ok(0, "%s is not a cgroup2 mount", v2_root);
        return;
    }
    ok(cgroup_set_root(v2_root, &e) == 0, "root %s", v2_root);
    is_str(cgroup_layout_name(), "v2", "layout detected from statfs");
    _cleanup_free_ char *avail = slurp(v2_root, "cgroup.controllers");
    printf("# v2 controllers: %s\n", avail ? avail : "?");
    bool mem = avail && strstr(avail, "memory"), pids = avail && strstr(avail, "pids");

    pid_t child = spawn_child(&wake, open_devices);
    char json[512];
    snprintf(json, sizeof(json),
             "{%s%s\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":"
             "\"c\",\"major\":1,\"minor\":5,\"access\":\"r\"}]}",
             mem ? "\"memory\":{\"limit\":67108864,\"swap\":134217728}," : "",
             pids ? "\"pids\":{\"limit\":16}," : "");
    json_t *res = J(json);
    int r = cgroup_create(CGROUP_MANAGER_CGROUPFS, "t2", v2_path, res, child, &cg, &e);
    json_decref(res);
    ok(r == 0, "create %s on v2", v2_path);
    if (r < 0) {
        printf("# %s\n", e->msg);
        err_free(&e);
        close(wake);
        reap(child);
        cgroup_set_root(NULL, NULL);
        return;
    }
    if (mem) {
        check_file(cgroup_dir(cg, ""), "memory.max", "67108864");
        check_file(cgroup_dir(cg, ""), "memory.swap.max", "67108864");
        /* v2 has no TCP memory limit: ignored with a warning, not an error */
        res = J("{\"memory\":{\"kernelTCP\":1048576}}");
        r = cgroup_update(cg, res, &e);
        ok(r == 0, "memory.kernelTCP ignored on v2: %s", e ? e->msg : "");
        err_free(&e);
        json_decref(res);
        check_file(cgroup_dir(cg, ""), "memory.max", "67108864");
    } else {
        res = J("{\"memory\":{\"limit\":1048576}}");
        r = cgroup_update(cg, res, &e);
        ok(r < 0 && e &&
               strcmp(e->msg, "linux.resources.memory: the memory controller is not available "
                              "(cgroup layout v2)") == 0,
           "memory without the controller is an error naming the field: %s", e ? e->msg : "");
        err_free(&e);
        json_decref(res);
    }
    if (pids)
        check_file(cgroup_dir(cg, ""), "pids.max", "16");
    else
        skip("no pids controller in this v2 tree");
    ok(has_pid(cg, child), "child listed");
    json_t *stats = cgroup_stats(cg, &e);
    ok(stats && json_object_get(json_object_get(json_object_get(stats, "cpu"), "usage"), "total"),
       "v2 stats: cpu.usage.total from cpu.stat");
    err_free(&e);
    json_decref(stats);
    ok(cgroup_freeze(cg, true, &e) == 0, "cgroup.freeze 1");
    is_str(cgroup_freezer_state(cg), "paused", "paused");
    ok(cgroup_freeze(cg, false, &e) == 0, "cgroup.freeze 0");
    is_str(cgroup_freezer_state(cg), "running", "running");
    err_free(&e);

    /* The device filter: /dev/null denied, /dev/zero (1:5) readable. */
    ok(write(wake, "x", 1) == 1, "wake the child");
    int st = reap(child);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "eBPF device filter: /dev/null EPERM, /dev/zero allowed (status %d)",
       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    close(wake);

    /* kill: a second child, killed through the cgroup. */
    pid_t c2 = spawn_child(&wake, NULL);
    char pidbuf[32], procs[PATH_MAX + 16];
    snprintf(pidbuf, sizeof(pidbuf), "%d", (int)c2);
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup_dir(cg, ""));
    ok(fs_write_str(procs, pidbuf, &e) == 0, "second child joins");
    err_free(&e);
    ok(cgroup_kill(cg, SIGKILL, &e) == 0, "cgroup_kill SIGKILL");
    st = reap(c2);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "killed through the cgroup");
    close(wake);

    _cleanup_free_ char *dir = strdup(cgroup_dir(cg, ""));
    ok(cgroup_destroy(cg, &e) == 0, "destroy");
    if (e)
        printf("# %s\n", e->msg);
    err_free(&e);
    ok(!fs_exists(dir), "v2 dir removed");
    cgroup_free(cg);
    cgroup_set_root(NULL, NULL);
}

/* Rootless: as a non-root user, in a subtree delegated to it (cgroup-v2.rst
 * "Delegation"), with nothing but the files the delegation made ours. */
static void test_rootless(const char *path)
{
    struct err *e = NULL;
    struct cgroup *cg = NULL;
    int wake = -1;

    printf("# rootless as uid %u in %s\n", (unsigned)getuid(), path);
    pid_t child = spawn_child(&wake, NULL);
    json_t *res = J("{\"memory\":{\"limit\":33554432},\"pids\":{\"limit\":8},"
                    "\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}");
    int r = cgroup_create(CGROUP_MANAGER_CGROUPFS, "rl", path, res, child, &cg, &e);
    json_decref(res);
    ok(r == 0, "create %s without root", path);
    if (r < 0) {
        printf("# %s\n", e->msg);
        err_free(&e);
        close(wake);
        reap(child);
        return;
    }
    check_file(cgroup_dir(cg, "memory"), "memory.max", "33554432");
    check_file(cgroup_dir(cg, "pids"), "pids.max", "8");
    ok(has_pid(cg, child), "child listed");
    ok(cgroup_freeze(cg, true, &e) == 0 && strcmp(cgroup_freezer_state(cg), "paused") == 0,
       "freeze");
    ok(cgroup_freeze(cg, false, &e) == 0, "thaw");
    err_free(&e);
    _cleanup_free_ char *dir = strdup(cgroup_dir(cg, ""));
    ok(cgroup_destroy(cg, &e) == 0, "destroy");
    if (e)
        printf("# %s\n", e->msg);
    err_free(&e);
    int st = reap(child);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child killed by destroy");
    ok(!fs_exists(dir), "removed");
    close(wake);
    cgroup_free(cg);
}

int main(int argc, char **argv)
{
    char unified[PATH_MAX];
    enum cgroup_layout layout = CGROUP_LAYOUT_NONE;
    struct err *e = NULL;

    snprintf(host_base, sizeof(host_base), "/isola-test-%d", (int)getpid());
    snprintf(v2_base, sizeof(v2_base), "/isola-test-%d-v2", (int)getpid());
    snprintf(norm_base, sizeof(norm_base), "/isola-test-%d-n", (int)getpid());
    /* The cgroups are base/c: destroy must also remove the parent it made. */
    snprintf(host_path, sizeof(host_path), "%s/c", host_base);
    snprintf(v2_path, sizeof(v2_path), "%s/c", v2_base);
    const char *rootless = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--v2-root") == 0)
            v2_root = argv[i + 1];
        if (strcmp(argv[i], "--rootless-path") == 0)
            rootless = argv[i + 1];
    }
    if (v2_root == NULL && cgroup_layout_detect(&layout, &e) == 0) {
        if (layout == CGROUP_LAYOUT_V2)
            v2_root = (char *)cgroup_root();
        if (layout == CGROUP_LAYOUT_HYBRID) {
            snprintf(unified, sizeof(unified), "%s/unified", cgroup_root());
            v2_root = unified;
        }
    }
    err_free(&e);
    main_pid = getpid();
    atexit(cleanup);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    test_validate();
    if (rootless != NULL) { /* only what a delegated user can do */
        test_rootless(rootless);
        return done_testing();
    }
    test_host();
    if (getuid() == 0)
        test_relative();
    if (getuid() != 0)
        skip("v2 test needs root");
    else
        test_v2();
    return done_testing();
}
