/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.resources (runtime-spec config-linux.md "Control groups") to cgroup
 * files, v1 (Documentation/admin-guide/cgroup-v1/) or v2 (cgroup-v2.rst) per
 * controller, so a hybrid host writes each controller where it is mounted.
 * With cg == NULL everything is parsed and checked but nothing is written
 * (cgroup_validate): errors name the field.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cgroup_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"

#define R "linux.resources"

struct res {
    struct cgroup *cg; /* NULL: validate only */
};

/* Version of ctrl's hierarchy: 1, 2, 0 (absent); when validating, -1. */
static int ver(struct res *r, const char *ctrl)
{
    return r->cg ? cgroup_ctrl_version(r->cg, ctrl) : -1;
}

static int put(struct res *r, const char *ctrl, const char *file, const char *value,
               const char *field, struct err **err)
{
    if (r->cg == NULL)
        return 0;
    return cgroup_write(r->cg, ctrl, file, value, field, err);
}

static int putf(struct res *r, const char *ctrl, const char *file, const char *field,
                struct err **err, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int putf(struct res *r, const char *ctrl, const char *file, const char *field,
                struct err **err, const char *fmt, ...)
{
    char v[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    return put(r, ctrl, file, v, field, err);
}

static int need(struct res *r, const char *ctrl, const char *field, struct err **err)
{
    if (ver(r, ctrl) == 0)
        return err_val(err, ENOTSUP, "%s: the %s controller is not available (cgroup layout %s)",
                       field, ctrl, cgroup_layout_name());
    return 0;
}

/* ---- memory ---- */

/* Whether the v1 memory cgroup has swap accounting (memory.memsw.*). */
static bool memsw_present(struct res *r)
{
    char p[4200];

    if (r->cg == NULL || cgroup_dir(r->cg, "memory") == NULL)
        return false;
    snprintf(p, sizeof(p), "%s/memory.memsw.limit_in_bytes", cgroup_dir(r->cg, "memory"));
    return access(p, F_OK) == 0;
}

#define W R ".memory"
/* kernelTCP: v1's memory.kmem.tcp.limit_in_bytes, as runc writes it (-1 or 0:
 * no limit). cgroup v2 has no such limit and newer kernels dropped the v1
 * file: then it is ignored with a warning, as runc and crun do, since it is a
 * deprecated knob (runtime-spec: "kernelTCP ... NOT RECOMMENDED"). */
static int memory_kernel_tcp(struct res *r, int v, int64_t ktcp, struct err **err)
{
    char p[4200];

    if (r->cg == NULL)
        return 0;
    if (v == 1) {
        snprintf(p, sizeof(p), "%s/memory.kmem.tcp.limit_in_bytes", cgroup_dir(r->cg, "memory"));
        if (access(p, F_OK) == 0)
            return putf(r, "memory", "memory.kmem.tcp.limit_in_bytes", W ".kernelTCP", err,
                        "%" PRId64, ktcp > 0 ? ktcp : -1);
    }
    log_warn(W ".kernelTCP: ignored, %s", v == 1
                                              ? "this kernel has no memory.kmem.tcp.limit_in_bytes"
                                              : "cgroup v2 has no TCP memory limit");
    return 0;
}

static int memory(struct res *r, json_t *m, struct err **err)
{
    static const char *const known[] = {"limit",
                                        "reservation",
                                        "swap",
                                        "kernel",
                                        "kernelTCP",
                                        "swappiness",
                                        "disableOOMKiller",
                                        "useHierarchy",
                                        "checkBeforeUpdate",
                                        NULL};
    int64_t limit = 0, resv = 0, swap = 0, kmem = 0, ktcp = 0;
    int64_t swappiness = 0;
    bool oom = false, hier = false, check = false;
    int has_limit, has_resv, has_swap, has_swappiness, has_oom, has_ktcp;

    if (js_check_keys(m, W, known, err) < 0 ||
        (has_limit = js_get_range(m, W, "limit", false, -1, INT64_MAX, &limit, err)) < 0 ||
        (has_resv = js_get_range(m, W, "reservation", false, -1, INT64_MAX, &resv, err)) < 0 ||
        (has_swap = js_get_range(m, W, "swap", false, -1, INT64_MAX, &swap, err)) < 0 ||
        js_get_i64(m, W, "kernel", false, &kmem, err) < 0 ||
        (has_ktcp = js_get_i64(m, W, "kernelTCP", false, &ktcp, err)) < 0 ||
        (has_swappiness = js_get_range(m, W, "swappiness", false, 0, 100, &swappiness, err)) < 0 ||
        (has_oom = js_get_bool(m, W, "disableOOMKiller", false, &oom, err)) < 0 ||
        js_get_bool(m, W, "useHierarchy", false, &hier, err) < 0 ||
        js_get_bool(m, W, "checkBeforeUpdate", false, &check, err) < 0)
        return -1;
    if (has_swap && swap > 0 && has_limit && limit > 0 && swap < limit)
        return err_val(err, EINVAL,
                       R ".memory.swap: %" PRId64 " is below memory.limit %" PRId64
                         " (swap is memory plus swap)",
                       swap, limit);
    if (has_limit + has_resv + has_swap + has_swappiness + has_oom + has_ktcp == 0)
        return 0;
    if (need(r, "memory", W, err) < 0)
        return -1;
    int v = ver(r, "memory");
    if (check && has_limit && limit > 0 && r->cg != NULL) {
        /* runtime-spec: refuse a limit below what the container already uses. */
        char p[4200];
        _cleanup_free_ char *cur = NULL;
        size_t len;
        struct err *e = NULL;
        snprintf(p, sizeof(p), "%s/%s", cgroup_dir(r->cg, "memory"),
                 v == 2 ? "memory.current" : "memory.usage_in_bytes");
        if (fs_read_file(p, &cur, &len, &e) == 0 && strtoll(cur, NULL, 10) > limit)
            return err_val(err, EBUSY,
                           W ".limit: %" PRId64 " is below the current usage %lld "
                             "(checkBeforeUpdate)",
                           limit, strtoll(cur, NULL, 10));
        err_free(&e);
    }
    if (has_ktcp && memory_kernel_tcp(r, v, ktcp, err) < 0)
        return -1;
    if (v == 2) {
        if (has_swappiness)
            return err_val(err, ENOTSUP, R ".memory.swappiness: not supported on cgroup v2");
        if (has_oom && oom)
            return err_val(err, ENOTSUP, R ".memory.disableOOMKiller: not supported on cgroup v2");
        if (has_limit) {
            if (limit > 0 &&
                putf(r, "memory", "memory.max", W ".limit", err, "%" PRId64, limit) < 0)
                return -1;
            if (limit <= 0 && put(r, "memory", "memory.max", "max", W ".limit", err) < 0)
                return -1;
        }
        if (has_resv && putf(r, "memory", "memory.low", W ".reservation", err, "%" PRId64,
                             resv > 0 ? resv : 0) < 0)
            return -1;
        if (has_swap) {
            /* OCI swap is memory+swap; v2 memory.swap.max is swap alone. */
            if (swap < 0 || !has_limit || limit <= 0) {
                if (swap >= 0 && (!has_limit || limit <= 0))
                    return err_val(err, EINVAL, R ".memory.swap: needs memory.limit on cgroup v2");
                if (put(r, "memory", "memory.swap.max", "max", W ".swap", err) < 0)
                    return -1;
            } else if (putf(r, "memory", "memory.swap.max", W ".swap", err, "%" PRId64,
                            swap - limit) < 0) {
                return -1;
            }
        }
        return 0;
    }
    /* v1 (or validation) */
    if (has_limit && limit == -1 && !has_swap && memsw_present(r)) {
        /* an unlimited memory lifts the memory+swap limit too (runc, crun): it
         * could not stay below memsw.limit_in_bytes otherwise */
        has_swap = 1;
        swap = -1;
    }
    if (has_limit && has_swap) {
        /* memsw must stay >= limit at every step: try the order that raises first. */
        struct err *e = NULL;
        if (putf(r, "memory", "memory.memsw.limit_in_bytes", W ".swap", &e, "%" PRId64, swap) < 0) {
            err_free(&e); /* lowering: the limit must come down first */
            if (putf(r, "memory", "memory.limit_in_bytes", W ".limit", err, "%" PRId64, limit) <
                    0 ||
                putf(r, "memory", "memory.memsw.limit_in_bytes", W ".swap", err, "%" PRId64, swap) <
                    0)
                return -1;
        } else if (putf(r, "memory", "memory.limit_in_bytes", W ".limit", err, "%" PRId64, limit) <
                   0) {
            return -1;
        }
    } else if (has_limit) {
        if (putf(r, "memory", "memory.limit_in_bytes", W ".limit", err, "%" PRId64, limit) < 0)
            return -1;
    } else if (has_swap) {
        if (putf(r, "memory", "memory.memsw.limit_in_bytes", W ".swap", err, "%" PRId64, swap) < 0)
            return -1;
    }
    if (has_resv && putf(r, "memory", "memory.soft_limit_in_bytes", W ".reservation", err,
                         "%" PRId64, resv) < 0)
        return -1;
    if (has_swappiness &&
        putf(r, "memory", "memory.swappiness", W ".swappiness", err, "%" PRId64, swappiness) < 0)
        return -1;
    if (has_oom && oom &&
        put(r, "memory", "memory.oom_control", "1", W ".disableOOMKiller", err) < 0)
        return -1;
    return 0;
}
#undef W

/* ---- cpu ---- */

#define W R ".cpu"
static int64_t read_i64(const char *dir, const char *file, int64_t dflt)
{
    _cleanup_free_ char *p = NULL, *s = NULL;

    if (asprintf(&p, "%s/%s", dir, file) < 0)
        return dflt;
    s = cgroup_read_small(p);
    return s ? strtoll(s, NULL, 10) : dflt;
}

/* The RT runtime that the children of `dir` hold, but for the one named `skip`
 * (runtime per period, scaled to `period`). */
static int64_t rt_children(const char *dir, const char *skip, int64_t period)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *e;
    int64_t sum = 0;

    while (d && (e = readdir(d)) != NULL) {
        _cleanup_free_ char *p = NULL;
        if (e->d_type != DT_DIR || e->d_name[0] == '.' || strcmp(e->d_name, skip) == 0 ||
            asprintf(&p, "%s/%s", dir, e->d_name) < 0)
            continue;
        int64_t rt = read_i64(p, "cpu.rt_runtime_us", 0), per = read_i64(p, "cpu.rt_period_us", 0);
        if (rt > 0 && per > 0)
            sum += rt * period / per;
    }
    return sum;
}

/* v1 realtime bandwidth (sched-rt-group.rst "2.3 Basis for grouping tasks").
 * A new cgroup starts with rt_runtime_us 0 and a child may not hold more
 * runtime per period than its parent leaves free, so the ancestors below the
 * hierarchy's root are raised first, top-down (enough for their other children
 * plus this one), then the container's own period before its runtime (runtime
 * may not exceed the period; if the new period is below the current runtime the
 * kernel says EINVAL, and the runtime goes first, as runc retries). */
static int cpu_rt_v1(struct res *r, int hrr, int64_t rtr, int hrp, uint64_t rtp, struct err **err)
{
    if (r->cg == NULL)
        return 0;
    const char *dir = cgroup_dir(r->cg, "cpu"), *path = cgroup_path(r->cg);
    size_t dl = dir ? strlen(dir) : 0, pl = path ? strlen(path) : 0;
    if (hrr && rtr > 0 && dl > pl && strcmp(dir + dl - pl, path) == 0) {
        int64_t period = hrp && rtp ? (int64_t)rtp : read_i64(dir, "cpu.rt_period_us", 1000000);
        /* ancestors (the components of the path above the container's),
         * deepest first: each needs its other children's runtime plus what
         * the one on the path needs, in its own period */
        size_t cuts[64], n = 0;
        for (size_t i = 1; i < pl && n < 64; i++)
            if (path[i] == '/')
                cuts[n++] = i;
        int64_t want[64], below = rtr, below_per = period;
        for (size_t k = n; k-- > 0;) {
            _cleanup_free_ char *anc = strndup(dir, dl - pl + cuts[k]);
            _cleanup_free_ char *child =
                strndup(path + cuts[k] + 1, strcspn(path + cuts[k] + 1, "/"));
            if (anc == NULL || child == NULL)
                return err_set(err, ENOMEM, W ".realtimeRuntime");
            int64_t aper = read_i64(anc, "cpu.rt_period_us", 1000000);
            want[k] = rt_children(anc, child, aper) + below * aper / below_per;
            below = want[k];
            below_per = aper;
        }
        for (size_t k = 0; k < n; k++) { /* parent first */
            _cleanup_free_ char *anc = strndup(dir, dl - pl + cuts[k]), *p = NULL;
            char v[32];
            if (anc == NULL || asprintf(&p, "%s/cpu.rt_runtime_us", anc) < 0)
                return err_set(err, ENOMEM, W ".realtimeRuntime");
            if (read_i64(anc, "cpu.rt_runtime_us", 0) >= want[k])
                continue;
            snprintf(v, sizeof(v), "%" PRId64, want[k]);
            if (fs_write_str(p, v, err) < 0)
                return err_wrap(err,
                                W ".realtimeRuntime: give the parent cgroup `%s` %" PRId64
                                  " us of RT runtime",
                                anc, want[k]);
        }
    }
    struct err *e = NULL;
    bool period_later = false;
    if (hrp && rtp &&
        putf(r, "cpu", "cpu.rt_period_us", W ".realtimePeriod", hrr ? &e : err, "%" PRIu64, rtp) <
            0) {
        if (!hrr)
            return -1;
        err_free(&e); /* below the current runtime: the runtime goes first */
        period_later = true;
    }
    if (hrr && putf(r, "cpu", "cpu.rt_runtime_us", W ".realtimeRuntime", err, "%" PRId64, rtr) < 0)
        return -1;
    if (period_later &&
        putf(r, "cpu", "cpu.rt_period_us", W ".realtimePeriod", err, "%" PRIu64, rtp) < 0)
        return -1;
    return 0;
}

static int cpu(struct res *r, json_t *c, struct err **err)
{
    static const char *const known[] = {
        "shares",         "quota", "burst", "period", "realtimeRuntime",
        "realtimePeriod", "cpus",  "mems",  "idle",   NULL};
    uint64_t shares = 0, burst = 0, period = 0, rtp = 0;
    int64_t quota = 0, rtr = 0, idle = 0;
    const char *cpus = NULL, *mems = NULL;
    int hs, hq, hb, hp, hrr, hrp, hc, hm, hi;

    if (js_check_keys(c, W, known, err) < 0 ||
        (hs = js_get_u64(c, W, "shares", false, &shares, err)) < 0 ||
        (hq = js_get_i64(c, W, "quota", false, &quota, err)) < 0 ||
        (hb = js_get_u64(c, W, "burst", false, &burst, err)) < 0 ||
        (hp = js_get_u64(c, W, "period", false, &period, err)) < 0 ||
        (hrr = js_get_i64(c, W, "realtimeRuntime", false, &rtr, err)) < 0 ||
        (hrp = js_get_u64(c, W, "realtimePeriod", false, &rtp, err)) < 0 ||
        (hc = js_get_str(c, W, "cpus", false, &cpus, err)) < 0 ||
        (hm = js_get_str(c, W, "mems", false, &mems, err)) < 0 ||
        (hi = js_get_range(c, W, "idle", false, 0, 1, &idle, err)) < 0)
        return -1;
    if (hs && shares != 0 && (shares < 2 || shares > 262144))
        return err_val(err, ERANGE, R ".cpu.shares: %" PRIu64 " is out of range [2, 262144]",
                       shares);
    if (hp && period != 0 && (period < 1000 || period > 1000000))
        return err_val(err, ERANGE, R ".cpu.period: %" PRIu64 " is out of range [1000, 1000000]",
                       period);
    if ((hs && shares) || hq || hp || hb || hrr || hrp || hi) {
        if (need(r, "cpu", W, err) < 0)
            return -1;
        if (ver(r, "cpu") == 2) {
            if (hrr || hrp)
                return err_val(err, ENOTSUP, R ".cpu.realtime%s: not supported on cgroup v2",
                               hrr ? "Runtime" : "Period");
            /* runc's conversion of shares [2, 262144] to weight [1, 10000]. */
            if (hs && shares &&
                putf(r, "cpu", "cpu.weight", W ".shares", err, "%" PRIu64,
                     1 + ((shares - 2) * 9999) / 262142) < 0)
                return -1;
            if (hq || hp) {
                char q[32] = "max";
                if (hq && quota > 0)
                    snprintf(q, sizeof(q), "%" PRId64, quota);
                if (!hq && r->cg != NULL) { /* period alone: keep the current quota */
                    char p[4200];
                    _cleanup_free_ char *cur = NULL;
                    size_t len;
                    struct err *e = NULL;
                    snprintf(p, sizeof(p), "%s/cpu.max", cgroup_dir(r->cg, "cpu"));
                    if (fs_read_file(p, &cur, &len, &e) == 0)
                        snprintf(q, sizeof(q), "%.*s", (int)strcspn(cur, " \n"), cur);
                    err_free(&e);
                }
                /* Without a period, write the quota alone: the kernel keeps the period. */
                if (hp && period) {
                    if (putf(r, "cpu", "cpu.max", W ".period", err, "%s %" PRIu64, q, period) < 0)
                        return -1;
                } else if (put(r, "cpu", "cpu.max", q, W ".quota", err) < 0) {
                    return -1;
                }
            }
            if (hb && putf(r, "cpu", "cpu.max.burst", W ".burst", err, "%" PRIu64, burst) < 0)
                return -1;
            if (hi && putf(r, "cpu", "cpu.idle", W ".idle", err, "%" PRId64, idle) < 0)
                return -1;
        } else {
            if (hi && idle)
                return err_val(err, ENOTSUP, R ".cpu.idle: not supported on cgroup v1");
            if (hs && shares &&
                putf(r, "cpu", "cpu.shares", W ".shares", err, "%" PRIu64, shares) < 0)
                return -1;
            /* Period before quota: a quota is checked against the period. */
            if (hp && period &&
                putf(r, "cpu", "cpu.cfs_period_us", W ".period", err, "%" PRIu64, period) < 0)
                return -1;
            if (hq && putf(r, "cpu", "cpu.cfs_quota_us", W ".quota", err, "%" PRId64,
                           quota > 0 ? quota : -1) < 0)
                return -1;
            if (hb && putf(r, "cpu", "cpu.cfs_burst_us", W ".burst", err, "%" PRIu64, burst) < 0)
                return -1;
            if ((hrr || hrp) && cpu_rt_v1(r, hrr, rtr, hrp, rtp, err) < 0)
                return -1;
        }
    }
    if ((hc && cpus[0]) || (hm && mems[0])) {
        if (need(r, "cpuset", W, err) < 0)
            return -1;
        if (hc && cpus[0] && put(r, "cpuset", "cpuset.cpus", cpus, W ".cpus", err) < 0)
            return -1;
        if (hm && mems[0] && put(r, "cpuset", "cpuset.mems", mems, W ".mems", err) < 0)
            return -1;
    }
    return 0;
}
#undef W

/* ---- pids ---- */

static int pids(struct res *r, json_t *p, struct err **err)
{
    static const char *const known[] = {"limit", NULL};
    int64_t limit = 0;
    int has;

    if (js_check_keys(p, R ".pids", known, err) < 0 ||
        (has = js_get_range(p, R ".pids", "limit", true, -1, INT64_MAX, &limit, err)) < 0)
        return -1;
    if (need(r, "pids", R ".pids.limit", err) < 0)
        return -1;
    /* 0 and -1 mean unlimited (runtime-spec). */
    if (limit <= 0)
        return put(r, "pids", "pids.max", "max", R ".pids.limit", err);
    return putf(r, "pids", "pids.max", R ".pids.limit", err, "%" PRId64, limit);
}

/* ---- blockIO ---- */

static int dev_list(struct res *r, json_t *b, const char *key, const char *v1file,
                    const char *v2key, struct err **err)
{
    static const char *const known[] = {"major", "minor", "rate", NULL};
    json_t *arr = NULL, *d;
    size_t i;

    if (js_get_arr(b, R ".blockIO", key, false, &arr, err) < 0)
        return -1;
    json_array_foreach (arr, i, d) {
        char w[96];
        int64_t major = 0, minor = 0;
        uint64_t rate = 0;
        snprintf(w, sizeof(w), R ".blockIO.%s[%zu]", key, i);
        if (!json_is_object(d))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(d));
        if (js_check_keys(d, w, known, err) < 0 ||
            js_get_range(d, w, "major", true, 0, UINT32_MAX, &major, err) < 0 ||
            js_get_range(d, w, "minor", true, 0, UINT32_MAX, &minor, err) < 0 ||
            js_get_u64(d, w, "rate", true, &rate, err) < 0)
            return -1;
        if (need(r, ver(r, "io") > 0 ? "io" : "blkio", w, err) < 0)
            return -1;
        if (ver(r, "io") == 2) {
            char val[32] = "max";
            if (rate)
                snprintf(val, sizeof(val), "%" PRIu64, rate);
            if (putf(r, "io", "io.max", w, err, "%" PRId64 ":%" PRId64 " %s=%s", major, minor,
                     v2key, val) < 0)
                return -1;
        } else if (putf(r, "blkio", v1file, w, err, "%" PRId64 ":%" PRId64 " %" PRIu64, major,
                        minor, rate) < 0) {
            return -1;
        }
    }
    return 0;
}

#define W R ".blockIO"
static int blockio(struct res *r, json_t *b, struct err **err)
{
    static const char *const known[] = {"weight",
                                        "leafWeight",
                                        "weightDevice",
                                        "throttleReadBpsDevice",
                                        "throttleWriteBpsDevice",
                                        "throttleReadIOPSDevice",
                                        "throttleWriteIOPSDevice",
                                        NULL};
    static const char *const dev_known[] = {"major", "minor", "weight", "leafWeight", NULL};
    int64_t weight = 0, leaf = 0;
    int hw, hl;
    json_t *wd = NULL, *d;
    size_t i;

    if (js_check_keys(b, W, known, err) < 0 ||
        (hw = js_get_range(b, W, "weight", false, 10, 1000, &weight, err)) < 0 ||
        (hl = js_get_range(b, W, "leafWeight", false, 10, 1000, &leaf, err)) < 0 ||
        js_get_arr(b, W, "weightDevice", false, &wd, err) < 0)
        return -1;
    bool v2 = ver(r, "io") == 2;
    if (hw) {
        if (need(r, v2 ? "io" : "blkio", W ".weight", err) < 0)
            return -1;
        if (v2) {
            /* [10, 1000] -> [1, 10000] (runc's conversion); io.bfq.weight takes [1, 1000]. */
            if (r->cg && cgroup_has_file(r->cg, "io", "io.bfq.weight")) {
                if (putf(r, "io", "io.bfq.weight", W ".weight", err, "%" PRId64, weight) < 0)
                    return -1;
            } else if (putf(r, "io", "io.weight", W ".weight", err, "default %" PRId64,
                            1 + (weight - 10) * 9999 / 990) < 0) {
                return -1;
            }
        } else {
            const char *f = r->cg && !cgroup_has_file(r->cg, "blkio", "blkio.weight") &&
                                    cgroup_has_file(r->cg, "blkio", "blkio.bfq.weight")
                                ? "blkio.bfq.weight"
                                : "blkio.weight";
            if (r->cg && !cgroup_has_file(r->cg, "blkio", f))
                return err_val(err, ENOTSUP,
                               W ".weight: the kernel's I/O schedulers offer no weights "
                                 "(no blkio.weight or blkio.bfq.weight)");
            if (putf(r, "blkio", f, W ".weight", err, "%" PRId64, weight) < 0)
                return -1;
        }
    }
    if (hl) {
        if (v2)
            return err_val(err, ENOTSUP, W ".leafWeight: not supported on cgroup v2");
        if (putf(r, "blkio", "blkio.leaf_weight", W ".leafWeight", err, "%" PRId64, leaf) < 0)
            return -1;
    }
    json_array_foreach (wd, i, d) {
        char w[96];
        int64_t major = 0, minor = 0, dw = 0, dl = 0;
        int hdw, hdl;
        snprintf(w, sizeof(w), W ".weightDevice[%zu]", i);
        if (!json_is_object(d))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(d));
        if (js_check_keys(d, w, dev_known, err) < 0 ||
            js_get_range(d, w, "major", true, 0, UINT32_MAX, &major, err) < 0 ||
            js_get_range(d, w, "minor", true, 0, UINT32_MAX, &minor, err) < 0 ||
            (hdw = js_get_range(d, w, "weight", false, 10, 1000, &dw, err)) < 0 ||
            (hdl = js_get_range(d, w, "leafWeight", false, 10, 1000, &dl, err)) < 0)
            return -1;
        if (hdw && v2 &&
            putf(r, "io", "io.bfq.weight", w, err, "%" PRId64 ":%" PRId64 " %" PRId64, major, minor,
                 dw) < 0)
            return -1;
        if (hdw && !v2 &&
            putf(r, "blkio", "blkio.weight_device", w, err, "%" PRId64 ":%" PRId64 " %" PRId64,
                 major, minor, dw) < 0)
            return -1;
        if (hdl && v2)
            return err_val(err, ENOTSUP, "%s.leafWeight: not supported on cgroup v2", w);
        if (hdl && putf(r, "blkio", "blkio.leaf_weight_device", w, err,
                        "%" PRId64 ":%" PRId64 " %" PRId64, major, minor, dl) < 0)
            return -1;
    }
    if (dev_list(r, b, "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", err) <
            0 ||
        dev_list(r, b, "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", err) <
            0 ||
        dev_list(r, b, "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", err) <
            0 ||
        dev_list(r, b, "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops",
                 err) < 0)
        return -1;
    return 0;
}
#undef W

/* ---- hugepageLimits ---- */

static int hugetlb(struct res *r, json_t *arr, struct err **err)
{
    static const char *const known[] = {"pageSize", "limit", NULL};
    json_t *h;
    size_t i;

    if (!json_is_array(arr))
        return err_val(err, EINVAL, R ".hugepageLimits: expected an array, got %s",
                       js_type_name(arr));
    json_array_foreach (arr, i, h) {
        char w[64], file[96];
        const char *size = NULL;
        uint64_t limit = 0;
        snprintf(w, sizeof(w), R ".hugepageLimits[%zu]", i);
        if (!json_is_object(h))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(h));
        if (js_check_keys(h, w, known, err) < 0 ||
            js_get_str(h, w, "pageSize", true, &size, err) < 0 ||
            js_get_u64(h, w, "limit", true, &limit, err) < 0)
            return -1;
        if (strspn(size, "0123456789") == 0 || strspn(size, "0123456789KMGB") != strlen(size))
            return err_val(err, EINVAL, "%s.pageSize: `%s` is not a page size like `2MB`", w, size);
        if (need(r, "hugetlb", w, err) < 0)
            return -1;
        snprintf(file, sizeof(file), "hugetlb.%s.%s", size,
                 ver(r, "hugetlb") == 2 ? "max" : "limit_in_bytes");
        if (r->cg && !cgroup_has_file(r->cg, "hugetlb", file))
            return err_val(err, ENOTSUP, "%s.pageSize: the kernel has no %s huge pages (no %s)", w,
                           size, file);
        if (putf(r, "hugetlb", file, w, err, "%" PRIu64, limit) < 0)
            return -1;
    }
    return 0;
}

/* ---- network (v1 net_cls / net_prio) ---- */

static int network(struct res *r, json_t *n, struct err **err)
{
    static const char *const known[] = {"classID", "priorities", NULL};
    static const char *const pknown[] = {"name", "priority", NULL};
    uint32_t classid = 0;
    int hc;
    json_t *prios = NULL, *p;
    size_t i;

    if (js_check_keys(n, R ".network", known, err) < 0 ||
        (hc = js_get_u32(n, R ".network", "classID", false, &classid, err)) < 0 ||
        js_get_arr(n, R ".network", "priorities", false, &prios, err) < 0)
        return -1;
    if (hc &&
        (need(r, "net_cls", R ".network.classID", err) < 0 ||
         putf(r, "net_cls", "net_cls.classid", R ".network.classID", err, "%" PRIu32, classid) < 0))
        return -1;
    json_array_foreach (prios, i, p) {
        char w[64];
        const char *name = NULL;
        uint32_t prio = 0;
        snprintf(w, sizeof(w), R ".network.priorities[%zu]", i);
        if (js_check_keys(p, w, pknown, err) < 0 ||
            js_get_str(p, w, "name", true, &name, err) < 0 ||
            js_get_u32(p, w, "priority", true, &prio, err) < 0)
            return -1;
        if (need(r, "net_prio", w, err) < 0 ||
            putf(r, "net_prio", "net_prio.ifpriomap", w, err, "%s %" PRIu32, name, prio) < 0)
            return -1;
    }
    return 0;
}

/* ---- rdma: {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}} (same file in v1 and v2) ---- */

static int rdma(struct res *r, json_t *o, struct err **err)
{
    static const char *const known[] = {"hcaHandles", "hcaObjects", NULL};
    const char *dev;
    json_t *d;

    json_object_foreach (o, dev, d) {
        char w[160], h[32] = "max", ob[32] = "max";
        uint32_t handles = 0, objects = 0;
        int hh, ho;
        snprintf(w, sizeof(w), R ".rdma.%s", dev);
        if (dev[0] == '\0' || strpbrk(dev, " \n=") != NULL)
            return err_val(err, EINVAL, "%s: not an RDMA device name", w);
        if (!json_is_object(d))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(d));
        if (js_check_keys(d, w, known, err) < 0 ||
            (hh = js_get_u32(d, w, "hcaHandles", false, &handles, err)) < 0 ||
            (ho = js_get_u32(d, w, "hcaObjects", false, &objects, err)) < 0)
            return -1;
        if (hh)
            snprintf(h, sizeof(h), "%" PRIu32, handles);
        if (ho)
            snprintf(ob, sizeof(ob), "%" PRIu32, objects);
        if (need(r, "rdma", w, err) < 0 ||
            putf(r, "rdma", "rdma.max", w, err, "%s hca_handle=%s hca_object=%s", dev, h, ob) < 0)
            return -1;
    }
    return 0;
}

/* ---- unified (v2 only) ---- */

static int unified(struct res *r, json_t *u, struct err **err)
{
    const char *key;
    json_t *v;

    if (!json_is_object(u))
        return err_val(err, EINVAL, R ".unified: expected an object, got %s", js_type_name(u));
    json_object_foreach (u, key, v) {
        char w[160], ctrl[64];
        if (!json_is_string(v))
            return err_val(err, EINVAL, R ".unified.%s: expected a string, got %s", key,
                           js_type_name(v));
        if (key[0] == '\0' || strchr(key, '/') != NULL || key[0] == '.')
            return err_val(err, EINVAL, R ".unified.%s: not a cgroup file name", key);
        if (r->cg == NULL)
            continue;
        snprintf(w, sizeof(w), R ".unified.%s", key);
        if (cgroup_dir(r->cg, "") == NULL)
            return err_val(err, ENOTSUP, "%s: requires cgroup v2 (this host's cgroups are %s)", w,
                           cgroup_layout_name());
        snprintf(ctrl, sizeof(ctrl), "%.*s", (int)strcspn(key, "."), key);
        /* Files of the core ("cgroup.*") exist without a controller. */
        bool core = strcmp(ctrl, "cgroup") == 0;
        if (!core && cgroup_ctrl_version(r->cg, ctrl) != 2)
            return err_val(err, ENOTSUP, "%s: the %s controller is not in the cgroup v2 tree", w,
                           ctrl);
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", cgroup_dir(r->cg, ""), key);
        if (fs_write_str(p, json_string_value(v), err) < 0)
            return err_wrap(err, "%s", w);
    }
    return 0;
}

/* ---- devices ---- */

static int devices(struct res *r, json_t *devs, struct err **err)
{
    json_t *d;
    size_t i;

    /* Parse first (the BPF builder checks every field and names it). */
    _cleanup_free_ void *insns = NULL;
    size_t n = 0;
    if (cgroup_bpf_build(devs, &insns, &n, err) < 0)
        return -1;
    if (r->cg == NULL)
        return 0;
    if (cgroup_ctrl_version(r->cg, "devices") == 1) {
        if (put(r, "devices", "devices.deny", "a", R ".devices", err) < 0)
            return -1;
        json_array_foreach (devs, i, d) {
            char w[64], rule[96], maj[16] = "*", min[16] = "*";
            bool allow = json_is_true(json_object_get(d, "allow"));
            const char *type = json_string_value(json_object_get(d, "type"));
            const char *access = json_string_value(json_object_get(d, "access"));
            json_t *jmaj = json_object_get(d, "major"), *jmin = json_object_get(d, "minor");
            snprintf(w, sizeof(w), R ".devices[%zu]", i);
            if (json_is_integer(jmaj) && json_integer_value(jmaj) >= 0)
                snprintf(maj, sizeof(maj), "%" JSON_INTEGER_FORMAT, json_integer_value(jmaj));
            if (json_is_integer(jmin) && json_integer_value(jmin) >= 0)
                snprintf(min, sizeof(min), "%" JSON_INTEGER_FORMAT, json_integer_value(jmin));
            if (type == NULL || strcmp(type, "a") == 0)
                snprintf(rule, sizeof(rule), "a");
            else
                snprintf(rule, sizeof(rule), "%s %s:%s %s", type, maj, min,
                         access && access[0] ? access : "rwm");
            if (put(r, "devices", allow ? "devices.allow" : "devices.deny", rule, w, err) < 0)
                return -1;
        }
        return 0;
    }
    const char *dir = cgroup_dir(r->cg, "");
    if (dir == NULL)
        return err_val(err, ENOTSUP, R ".devices: no devices cgroup and no cgroup v2 tree");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, R ".devices: open `%s`", dir);
    int ret = cgroup_bpf_devices(fd, devs, err);
    close(fd);
    return ret;
}

int cgroup_res_apply(struct cgroup *cg, json_t *resources, struct err **err)
{
    static const char *const known[] = {"memory",  "cpu",  "pids",    "blockIO", "hugepageLimits",
                                        "network", "rdma", "unified", "devices", NULL};
    struct res r = {cg};
    json_t *v;

    if (resources == NULL || json_is_null(resources))
        return 0;
    if (!json_is_object(resources))
        return err_val(err, EINVAL, R ": expected an object, got %s", js_type_name(resources));
    if (js_check_keys(resources, R, known, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "devices")) != NULL && !json_is_null(v) &&
        devices(&r, v, err) < 0)
        return -1;
    if (js_get_obj(resources, R, "memory", false, &(json_t *){NULL}, err) < 0 ||
        js_get_obj(resources, R, "cpu", false, &(json_t *){NULL}, err) < 0 ||
        js_get_obj(resources, R, "pids", false, &(json_t *){NULL}, err) < 0 ||
        js_get_obj(resources, R, "blockIO", false, &(json_t *){NULL}, err) < 0 ||
        js_get_obj(resources, R, "network", false, &(json_t *){NULL}, err) < 0 ||
        js_get_obj(resources, R, "rdma", false, &(json_t *){NULL}, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "memory")) != NULL && !json_is_null(v) &&
        memory(&r, v, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "cpu")) != NULL && !json_is_null(v) && cpu(&r, v, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "pids")) != NULL && !json_is_null(v) &&
        pids(&r, v, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "blockIO")) != NULL && !json_is_null(v) &&
        blockio(&r, v, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "hugepageLimits")) != NULL && !json_is_null(v) &&
        hugetlb(&r, v, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "network")) != NULL && !json_is_null(v) &&
        network(&r, v, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "rdma")) != NULL && !json_is_null(v) &&
        rdma(&r, v, err) < 0)
        return -1;
    if ((v = json_object_get(resources, "unified")) != NULL && !json_is_null(v) &&
        unified(&r, v, err) < 0)
        return -1;
    return 0;
}
