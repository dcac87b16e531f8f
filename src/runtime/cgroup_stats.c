/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Usage statistics of a container cgroup, in the shape runc prints for
 * `events --stats` (its types.Stats), read from v1 or v2 files per controller
 * (cgroup-v1/cpuacct.rst, memory.rst, pids.rst; cgroup-v2.rst "Controllers").
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cgroup_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static char *read_in(const char *dir, const char *file)
{
    char p[PATH_MAX + 64];
    char *buf = NULL;
    size_t len;
    struct err *e = NULL;

    snprintf(p, sizeof(p), "%s/%s", dir, file);
    if (fs_read_file(p, &buf, &len, &e) < 0) {
        err_free(&e);
        return NULL;
    }
    return buf;
}

/* A single number; "max" is UINT64_MAX (as runc reports it). */
static bool read_u64(const char *dir, const char *file, uint64_t *out)
{
    _cleanup_free_ char *s = read_in(dir, file);
    char *end;

    if (s == NULL)
        return false;
    if (strncmp(s, "max", 3) == 0) {
        *out = UINT64_MAX;
        return true;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s)
        return false;
    *out = v;
    return true;
}

/* "key value" lines (memory.stat, cpu.stat, cpuacct.stat) into an object. */
static json_t *read_kv(const char *dir, const char *file)
{
    _cleanup_free_ char *s = read_in(dir, file);
    json_t *o;

    if (s == NULL || (o = json_object()) == NULL)
        return NULL;
    for (char *line = strtok(s, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char key[128];
        unsigned long long v;
        if (sscanf(line, "%127s %llu", key, &v) == 2)
            json_object_set_new(o, key, json_integer((json_int_t)v));
    }
    return o;
}

static uint64_t kv(json_t *o, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(o, key));
}

static void set_u64(json_t *o, const char *key, uint64_t v)
{
    /* jansson integers are signed: UINT64_MAX ("max") saturates. */
    json_object_set_new(o, key, json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
}

static json_t *cpu_stats(struct cgroup *cg)
{
    json_t *cpu = json_object(), *usage = json_object(), *thr = json_object();
    _cleanup_json_ json_t *st = NULL;
    uint64_t v;
    const char *dir;

    if (cpu == NULL || usage == NULL || thr == NULL) {
        json_decref(cpu);
        json_decref(usage);
        json_decref(thr);
        return NULL;
    }
    json_object_set_new(cpu, "usage", usage);
    json_object_set_new(cpu, "throttling", thr);
    int ver = cgroup_ctrl_version(cg, "cpu");
    if (ver == 2 || (ver == 0 && cgroup_dir(cg, "") != NULL)) {
        /* cpu.stat exists in v2 even without the cpu controller. */
        st = read_kv(cgroup_dir(cg, ""), "cpu.stat");
        set_u64(usage, "total", kv(st, "usage_usec") * 1000);
        set_u64(usage, "user", kv(st, "user_usec") * 1000);
        set_u64(usage, "kernel", kv(st, "system_usec") * 1000);
        set_u64(thr, "periods", kv(st, "nr_periods"));
        set_u64(thr, "throttledPeriods", kv(st, "nr_throttled"));
        set_u64(thr, "throttledTime", kv(st, "throttled_usec") * 1000);
        return cpu;
    }
    if ((dir = cgroup_dir(cg, "cpuacct")) != NULL) {
        long hz = sysconf(_SC_CLK_TCK);
        _cleanup_json_ json_t *acct = read_kv(dir, "cpuacct.stat");
        if (read_u64(dir, "cpuacct.usage", &v))
            set_u64(usage, "total", v);
        if (hz > 0) { /* USER_HZ ticks to ns */
            set_u64(usage, "user", kv(acct, "user") * (1000000000 / (uint64_t)hz));
            set_u64(usage, "kernel", kv(acct, "system") * (1000000000 / (uint64_t)hz));
        }
    }
    if ((dir = cgroup_dir(cg, "cpu")) != NULL) {
        st = read_kv(dir, "cpu.stat");
        set_u64(thr, "periods", kv(st, "nr_periods"));
        set_u64(thr, "throttledPeriods", kv(st, "nr_throttled"));
        set_u64(thr, "throttledTime", kv(st, "throttled_time"));
    }
    return cpu;
}

static json_t *memory_stats(struct cgroup *cg)
{
    const char *dir = cgroup_dir(cg, "memory");
    json_t *mem, *usage, *swap;
    uint64_t v;

    if (dir == NULL)
        return NULL;
    mem = json_object();
    usage = json_object();
    swap = json_object();
    if (mem == NULL || usage == NULL || swap == NULL) {
        json_decref(mem);
        json_decref(usage);
        json_decref(swap);
        return NULL;
    }
    json_object_set_new(mem, "usage", usage);
    json_object_set_new(mem, "swap", swap);
    if (cgroup_ctrl_version(cg, "memory") == 2) {
        if (read_u64(dir, "memory.current", &v))
            set_u64(usage, "usage", v);
        if (read_u64(dir, "memory.peak", &v))
            set_u64(usage, "max", v);
        if (read_u64(dir, "memory.max", &v))
            set_u64(usage, "limit", v);
        if (read_u64(dir, "memory.swap.current", &v))
            set_u64(swap, "usage", v);
        if (read_u64(dir, "memory.swap.max", &v))
            set_u64(swap, "limit", v);
        _cleanup_json_ json_t *ev = read_kv(dir, "memory.events");
        set_u64(usage, "failcnt", kv(ev, "max"));
    } else {
        if (read_u64(dir, "memory.usage_in_bytes", &v))
            set_u64(usage, "usage", v);
        if (read_u64(dir, "memory.max_usage_in_bytes", &v))
            set_u64(usage, "max", v);
        if (read_u64(dir, "memory.limit_in_bytes", &v))
            set_u64(usage, "limit", v);
        if (read_u64(dir, "memory.failcnt", &v))
            set_u64(usage, "failcnt", v);
        if (read_u64(dir, "memory.memsw.usage_in_bytes", &v))
            set_u64(swap, "usage", v);
        if (read_u64(dir, "memory.memsw.limit_in_bytes", &v))
            set_u64(swap, "limit", v);
    }
    json_t *raw = read_kv(dir, "memory.stat");
    if (raw != NULL)
        json_object_set_new(mem, "raw", raw);
    return mem;
}

static json_t *pids_stats(struct cgroup *cg)
{
    const char *dir = cgroup_dir(cg, "pids");
    uint64_t cur = 0, max = 0;

    if (dir == NULL || !read_u64(dir, "pids.current", &cur))
        return NULL;
    if (!read_u64(dir, "pids.max", &max) || max == UINT64_MAX)
        max = 0; /* runc: 0 = no limit */
    json_t *o = json_object();
    if (o != NULL) {
        set_u64(o, "current", cur);
        set_u64(o, "limit", max);
    }
    return o;
}

/* {"2MB": {"usage": N, "max": N, "failcnt": N}} */
static json_t *hugetlb_stats(struct cgroup *cg)
{
    const char *dir = cgroup_dir(cg, "hugetlb");
    bool v2 = cgroup_ctrl_version(cg, "hugetlb") == 2;
    _cleanup_closedir_ DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *de;
    json_t *o;

    if (d == NULL || (o = json_object()) == NULL)
        return NULL;
    while ((de = readdir(d)) != NULL) {
        char size[32], file[96];
        const char *suffix = v2 ? ".current" : ".usage_in_bytes";
        size_t n = strlen(de->d_name), sl = strlen(suffix);
        if (strncmp(de->d_name, "hugetlb.", 8) != 0 || n <= 8 + sl ||
            strcmp(de->d_name + n - sl, suffix) != 0 || n - 8 - sl >= sizeof(size) ||
            strstr(de->d_name, ".rsvd.") != NULL)
            continue;
        snprintf(size, sizeof(size), "%.*s", (int)(n - 8 - sl), de->d_name + 8);
        json_t *e = json_object();
        uint64_t v;
        if (e == NULL)
            continue;
        if (read_u64(dir, de->d_name, &v))
            set_u64(e, "usage", v);
        snprintf(file, sizeof(file), "hugetlb.%s.%s", size, v2 ? "max" : "max_usage_in_bytes");
        if (!v2 && read_u64(dir, file, &v))
            set_u64(e, "max", v);
        snprintf(file, sizeof(file), "hugetlb.%s.%s", size, v2 ? "events" : "failcnt");
        if (v2) {
            _cleanup_json_ json_t *ev = read_kv(dir, file);
            set_u64(e, "failcnt", kv(ev, "max"));
        } else if (read_u64(dir, file, &v)) {
            set_u64(e, "failcnt", v);
        }
        json_object_set_new(o, size, e);
    }
    return o;
}

json_t *cgroup_stats(struct cgroup *cg, struct err **err)
{
    json_t *o, *v;

    if (cg->ops == NULL) {
        err_val(err, ENOTSUP, "stats of cgroup %s: cgroup manager is disabled",
                cg->path ? cg->path : "");
        return NULL;
    }
    if ((o = json_object()) == NULL) {
        err_set(err, ENOMEM, "stats of cgroup %s", cg->path);
        return NULL;
    }
    if ((v = cpu_stats(cg)) != NULL)
        json_object_set_new(o, "cpu", v);
    if ((v = memory_stats(cg)) != NULL)
        json_object_set_new(o, "memory", v);
    if ((v = pids_stats(cg)) != NULL)
        json_object_set_new(o, "pids", v);
    if ((v = hugetlb_stats(cg)) != NULL)
        json_object_set_new(o, "hugetlb", v);
    return o;
}
