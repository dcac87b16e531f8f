/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola compare's runner (compare.h, docs/compare.md): for each model, N runs
 * of one instance each (start, memory, disk, overhead in the workload), then
 * the density test, every instance made and removed through the engine.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "engine/compare.h"
#include "engine/isolation.h"
#include "image/image.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

struct compare_ctx;

/* One instance of a model: a container row of the engine's. */
struct compare_inst {
    char id[DB_ID_LEN + 1];
    int64_t t0_ns;      /* CLOCK_REALTIME at launch (log records use it too) */
    int64_t ready_ns;   /* when it was ready */
    pid_t monitor, pid; /* the monitor, the workload's first process */
    char *log_path;
    double peak_polled; /* the highest charge seen while waiting (bytes) */
};

/* A model: how it is made available and launched, through the engine. */
struct compare_model {
    const char *name;      /* "container", "vm-container", "vm" */
    const char *isolation; /* the engine's isolation ("linux", "microvm", "vm") */
    bool own_kernel;
    /* 0 when it can run here; else -1 and the reason */
    int (*available)(const struct compare_ctx *x, char *reason, size_t len);
    int (*launch)(struct compare_ctx *x, const char *name, struct compare_inst *in,
                  struct err **err);
};

struct compare_ctx {
    struct db *db;
    const struct ctr_env *env;
    struct store *s;
    const struct compare_opts *o;
    const struct compare_model *m;
    /* ids of live instances, removed whatever happens */
    char (*live)[DB_ID_LEN + 1];
    size_t n_live, cap_live;
    unsigned seq;
};

const char *const compare_model_names[] = {"container", "vm-container", "vm", NULL};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool stopped(const struct compare_ctx *x)
{
    return x->o->interrupted && *x->o->interrupted;
}

static void step(const struct compare_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void step(const struct compare_ctx *x, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    if (!x->o->progress.step)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    x->o->progress.step(x->o->progress.arg, x->m ? x->m->name : "", buf);
}

/* Sleep ms, cut short by a signal. */
static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* --- models ------------------------------------------------------------- */

static int avail_container(const struct compare_ctx *x, char *reason, size_t len)
{
    (void)x;
    if (!iso_find("linux")) {
        snprintf(reason, len, "the engine has no `linux` isolation in this build");
        return -1;
    }
    return 0;
}

/* The VM models: KVM first (the reason a user can act on), then the engine's
 * isolation, then compare's launcher for it. */
static int avail_vm_model(const struct compare_ctx *x, const char *iso, const char *feature,
                          const char *missing, char *reason, size_t len)
{
    char why[256];

    if (compare_kvm_usable(x->o->kvm_dev, why, sizeof(why)) < 0) {
        snprintf(reason, len, "%s", why);
        return -1;
    }
    if (!iso_find(iso)) {
        snprintf(reason, len,
                 "%s is not available in this build (the engine's isolation table has no `%s`)",
                 feature, iso);
        return -1;
    }
    if (!x->m->launch) {
        snprintf(reason, len, "compare cannot launch it yet: %s", missing);
        return -1;
    }
    return 0;
}

static int avail_vm_container(const struct compare_ctx *x, char *reason, size_t len)
{
    /* `isola run -d --isolation=vm`: the engine's `microvm` isolation */
    if (avail_vm_model(x, "microvm", "isola run -d --isolation=vm", "", reason, len) < 0)
        return -1;
    return compare_vm_available(x->env, reason, len);
}

static int avail_vm(const struct compare_ctx *x, char *reason, size_t len)
{
    return avail_vm_model(x, "vm", "isola vm run -d",
                          "isola vm run -d --image (a VM booted from a disk image with the "
                          "workload as a service) is not supported yet",
                          reason, len);
}

static void live_add(struct compare_ctx *x, const char *id)
{
    if (x->n_live == x->cap_live) {
        size_t cap = x->cap_live ? x->cap_live * 2 : 16;
        void *p = realloc(x->live, cap * sizeof(*x->live));
        if (!p)
            return; /* removed by name below all the same */
        x->live = p;
        x->cap_live = cap;
    }
    snprintf(x->live[x->n_live++], DB_ID_LEN + 1, "%s", id);
}

static void live_remove(struct compare_ctx *x, const char *id)
{
    struct err *e = NULL;

    if (ctr_remove(x->db, x->env, id, true, true, &e) < 0 && e->code != ENOENT) {
        /* keep going: the others must go too; the front end sees leftovers */
        fprintf(stderr, "isola compare: ");
        err_print(e, NULL, stderr);
    }
    err_free(&e);
    for (size_t i = 0; i < x->n_live; i++)
        if (strcmp(x->live[i], id) == 0) {
            memmove(&x->live[i], &x->live[i + 1], (x->n_live - i - 1) * sizeof(*x->live));
            x->n_live--;
            break;
        }
}

/* container: `isola run -d --network none`; vm-container: the same with
 * --isolation=vm (the engine's microvm isolation). */
static int launch_engine(struct compare_ctx *x, const char *name, struct compare_inst *in,
                         struct err **err)
{
    _cleanup_db_container_ struct db_container *row = NULL;
    struct ctr_create_opts co = {
        .image = x->o->image,
        .name = name,
        .co = {.args = x->o->args},
        .stop_timeout = 1,
        /* its own network namespace with lo only: the host's network stays as it was */
        .net = {.network = "none"},
        .microvm = strcmp(x->m->isolation, "microvm") == 0,
    };

    in->t0_ns = now_ns();
    if (ctr_create(x->db, x->env, x->s, &co, &row, err) < 0)
        return err_wrap(err, "launch %s", name);
    snprintf(in->id, sizeof(in->id), "%s", row->id);
    live_add(x, row->id);
    in->log_path = row->log_path ? strdup(row->log_path) : NULL;
    if (ctr_start(x->db, x->env, row->id, err) < 0)
        return err_wrap(err, "launch %s", name);
    _cleanup_db_container_ struct db_container *c = NULL;
    if (ctr_get(x->db, x->env, row->id, &c, err) < 0)
        return err_wrap(err, "launch %s", name);
    in->monitor = c->monitor_pid;
    in->pid = c->pid;
    return 0;
}

/* The VM models plug in here as the engine gains their isolations
 * (docs/compare.md, "Models"): a launch that makes the instance through the
 * engine and fills compare_inst (id, t0_ns, monitor, log_path). */
static const struct compare_model models[] = {
    {"container", "linux", false, avail_container, launch_engine},
    {"vm-container", "microvm", true, avail_vm_container, launch_engine},
    {"vm", "vm", true, avail_vm, NULL},
};

/* --- readiness ---------------------------------------------------------- */

static double json_num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "2026-12-07T13:56:01.626280643Z" -> ns since the epoch; -1 when malformed. */
static int64_t parse_log_time(const char *s)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    int64_t ns = 0;
    int digits = 0;

    if (!p)
        return -1;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*p - '0');
    for (; digits < 9; digits++)
        ns *= 10;
    if (*p != 'Z')
        return -1;
    return (int64_t)timegm(&tm) * 1000000000 + ns;
}

/* The time of the first record in the log, 0 when there is none yet. */
static int64_t first_output_ns(const char *log_path)
{
    char line[128];
    _cleanup_fclose_ FILE *f = log_path ? fopen(log_path, "re") : NULL;

    if (!f || !fgets(line, sizeof(line), f))
        return 0;
    int64_t t = parse_log_time(line);
    return t < 0 ? 0 : t;
}

static bool inst_running(struct compare_ctx *x, struct compare_inst *in)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    struct err *e = NULL;
    bool r = ctr_get(x->db, x->env, in->id, &c, &e) == 0 && c->status == DB_STATUS_RUNNING;

    err_free(&e);
    return r;
}

/* Run argv in the instance; its exit code in *code, its wall time in *ns. */
static int inst_exec(struct compare_ctx *x, struct compare_inst *in, char *const *argv, int *code,
                     int64_t *ns, struct err **err)
{
    struct ctr_exec_opts xo = {0};
    _cleanup_fclose_ FILE *null = fopen("/dev/null", "we");

    if (!null)
        return err_sys(err, "open /dev/null");
    int64_t t = now_ns();
    if (ctr_exec(x->db, x->env, in->id, argv, &xo, null, null, code, err) < 0)
        return -1;
    if (ns)
        *ns = now_ns() - t;
    return 0;
}

/* The cgroup's charge now, into in->peak_polled: the peak where the kernel
 * keeps none (cgroup v2 before Linux 5.19 has no memory.peak). */
static void poll_charge(struct compare_ctx *x, struct compare_inst *in)
{
    struct db_container dc = {0};
    _cleanup_json_ json_t *st = NULL;
    struct err *e = NULL;

    snprintf(dc.id, sizeof(dc.id), "%s", in->id);
    if (ctr_stats_fetch(x->env, &dc, &st, &e) == 0) {
        double cur = json_num(st, "memoryCurrent");
        if (!isnan(cur) && cur > in->peak_polled)
            in->peak_polled = cur;
    }
    err_free(&e);
}

/* Wait until the instance is ready (--ready, else its first output); sets
 * in->ready_ns. */
static int inst_wait_ready(struct compare_ctx *x, struct compare_inst *in, struct err **err)
{
    const struct compare_ready *r = &x->o->ready;
    int64_t deadline = now_ns() + (int64_t)x->o->timeout_ms * 1000000;

    for (unsigned i = 0;; i++) {
        if (stopped(x))
            return err_val(err, EINTR, "wait for %s: interrupted", in->id);
        if (r->kind == COMPARE_READY_OUTPUT) {
            int64_t t = first_output_ns(in->log_path);
            if (t) {
                in->ready_ns = t;
                return 0;
            }
        } else if (r->kind == COMPARE_READY_CMD) {
            int code = -1;
            struct err *e = NULL;
            if (inst_exec(x, in, r->cmd, &code, NULL, &e) == 0 && code == 0) {
                in->ready_ns = now_ns();
                return 0;
            }
            err_free(&e);
        } else {
            int p = compare_probe_tcp(in->pid, r->port,
                                      r->kind == COMPARE_READY_HTTP ? r->host : NULL, r->path, err);
            if (p < 0)
                return err_wrap(err, "wait for %s to be ready", in->id);
            if (p > 0) {
                in->ready_ns = now_ns();
                return 0;
            }
        }
        if (i % 10 == 0)
            poll_charge(x, in);
        /* a workload that ended without being ready will never be */
        if (i % 20 == 19 && !inst_running(x, in)) {
            if (r->kind == COMPARE_READY_OUTPUT && first_output_ns(in->log_path))
                continue;
            return err_val(err, ECHILD,
                           r->kind == COMPARE_READY_OUTPUT
                               ? "instance %s ended without any output: start is measured to "
                                 "the first output, give a command that prints (or --ready)"
                               : "instance %s ended before it was ready",
                           in->id);
        }
        if (now_ns() > deadline)
            return err_val(err, ETIMEDOUT, "instance %s was not ready after %d ms", in->id,
                           x->o->timeout_ms);
        /* the log's time is the monitor's, so looking less often loses
         * nothing; probes answer at the time they succeed */
        nap(r->kind == COMPARE_READY_OUTPUT ? (i < 200 ? 5 : 25) : 20);
    }
}

/* --- one run -------------------------------------------------------------- */

/* What one run measured; NAN where it could not. */
struct run_result {
    double start_ms;
    double pss, charged, peak; /* bytes */
    double disk_unique;        /* bytes */
    double shared;             /* bytes of the image's layers */
    double cpu_ms, sys_ms, io_ms, rtt_us;
    char note[256]; /* why memory/overhead were not measured */
    json_t *isolation;
};

/* PSS of the monitor and every process in the instance's cgroup. */
static int inst_pss(struct compare_ctx *x, struct compare_inst *in, uint64_t *out, struct err **err)
{
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    uint64_t sum = in->monitor ? compare_pss(in->monitor) : 0;

    /* a VM: the monitor, its isola-vmm and the guest RAM that touched */
    if (x->m->own_kernel) {
        *out = compare_pss_tree(in->monitor);
        return 0;
    }

    if (ctr_top_pids(x->db, x->env, in->id, &pids, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        sum += compare_pss(pids[i]);
    *out = sum;
    return 0;
}

/* The unique and shared bytes of an instance: its bundle (the upper layer,
 * config.json; not the overlay mounted in it), its run dir (logs, /etc
 * files), its row's config; the image's layers below its overlay. */
static void inst_disk(struct compare_ctx *x, struct compare_inst *in, struct run_result *rr)
{
    _cleanup_free_ char *bundle = ctr_bundle_dir(x->env, in->id);
    _cleanup_free_ char *rundir = ctr_run_dir(x->env, in->id);
    _cleanup_free_ char *rootfs = NULL;
    _cleanup_db_container_ struct db_container *c = NULL;
    struct err *e = NULL;

    if (!bundle || !rundir || asprintf(&rootfs, "%s/rootfs", bundle) < 0)
        return;
    double unique = (double)(compare_du(bundle) + compare_du(rundir));
    if (ctr_get(x->db, x->env, in->id, &c, &e) == 0 && c->config)
        unique += (double)strlen(c->config);
    err_free(&e);
    rr->disk_unique = unique;
    _cleanup_strv_ char **lowers = compare_overlay_lowers(rootfs);
    if (lowers) {
        uint64_t shared = 0;
        for (char **l = lowers; *l; l++)
            shared += compare_du(*l);
        rr->shared = (double)shared;
    }
    /* a VM: its kernel, initramfs and root image, cached for every instance */
    if (x->m->own_kernel) {
        rr->shared = (isnan(rr->shared) ? 0 : rr->shared) + (double)compare_vm_shared(in->monitor);
        rr->disk_unique += (double)compare_vm_unique(x->env, in->id);
    }
}

/* The seccomp profile's allowed syscall names in the composed config. */
static long allowed_syscalls(const char *config)
{
    _cleanup_json_ json_t *cfg = json_loads(config, 0, NULL);
    json_t *sc = json_object_get(json_object_get(cfg, "linux"), "seccomp"), *rule;
    long n = 0;
    size_t i;

    if (!sc)
        return -1;
    const char *def = json_string_value(json_object_get(sc, "defaultAction"));
    if (def && strcmp(def, "SCMP_ACT_ALLOW") == 0)
        return -1;
    json_array_foreach (json_object_get(sc, "syscalls"), i, rule) {
        const char *a = json_string_value(json_object_get(rule, "action"));
        if (a && strcmp(a, "SCMP_ACT_ALLOW") == 0)
            n += (long)json_array_size(json_object_get(rule, "names"));
    }
    return n;
}

static char *const uname_r[] = {"uname", "-r", NULL};

/* `uname -r` run in the instance; -1 when it cannot be (it exited, no uname). */
static int inst_uname(struct compare_ctx *x, struct compare_inst *in, char *buf, size_t len)
{
    struct ctr_exec_opts xo = {0};
    _cleanup_free_ char *text = NULL;
    size_t n = 0;
    int code = -1;
    struct err *e = NULL;
    _cleanup_fclose_ FILE *null = fopen("/dev/null", "we");
    FILE *out = open_memstream(&text, &n);

    if (!out || !null || !inst_running(x, in)) {
        if (out)
            fclose(out);
        return -1;
    }
    int r = ctr_exec(x->db, x->env, in->id, uname_r, &xo, out, null, &code, &e);
    fclose(out);
    err_free(&e);
    if (r < 0 || code != 0 || !text || !*text)
        return -1;
    text[strcspn(text, "\n")] = '\0';
    snprintf(buf, len, "%s", text);
    return 0;
}

static json_t *inst_isolation(struct compare_ctx *x, struct compare_inst *in)
{
    struct utsname u;
    _cleanup_db_container_ struct db_container *c = NULL;
    struct err *e = NULL;
    char surface[256];

    uname(&u);
    /* the kernel the workload sees, from inside: the host's or the guest's */
    char seen[128] = "";
    bool got = inst_uname(x, in, seen, sizeof(seen)) == 0;
    if (x->m->own_kernel) {
        json_t *j = json_pack("{s:b, s:n, s:s}", "sharedKernel", false, "kernel", "surface",
                              "a VM exit surface (KVM, isola's virtio devices) and the guest "
                              "kernel");
        if (got)
            json_object_set_new(j, "kernel", json_string(seen));
        return j;
    }
    long n = -1;
    if (ctr_get(x->db, x->env, in->id, &c, &e) == 0 && c->config)
        n = allowed_syscalls(c->config);
    err_free(&e);
    if (n >= 0)
        snprintf(surface, sizeof(surface),
                 "the host kernel's system calls: %ld names allowed by the seccomp profile, plus "
                 "namespaced /proc, /sys and devices",
                 n);
    else
        snprintf(surface, sizeof(surface),
                 "the host kernel's system calls, unfiltered (no seccomp profile)");
    return json_pack("{s:b, s:s, s:s}", "sharedKernel", true, "kernel", got ? seen : u.release,
                     "surface", surface);
}

/* The overhead loops, run in the instance (busybox or any POSIX sh). */
static char *const cpu_loop[] = {"sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done",
                                 NULL};
static char *const sys_loop[] = {"dd",   "if=/dev/zero", "of=/dev/null",
                                 "bs=1", "count=100000", NULL};
static char *const io_loop[] = {
    "sh", "-c",
    "dd if=/dev/zero of=/tmp/.isola-compare bs=64k count=128 conv=fsync 2>/dev/null && "
    "cat /tmp/.isola-compare >/dev/null && rm -f /tmp/.isola-compare",
    NULL};
static char *const nop[] = {"true", NULL};

static void inst_overhead(struct compare_ctx *x, struct compare_inst *in, struct run_result *rr)
{
    int64_t base = 0, t = 0;
    int code = -1;
    struct err *e = NULL;

    /* the exec's own cost, taken off each loop */
    if (inst_exec(x, in, nop, &code, &base, &e) < 0 || code != 0) {
        snprintf(rr->note, sizeof(rr->note), "overhead not measured: exec `true` failed%s%s",
                 e ? ": " : "", e ? e->msg : "");
        err_free(&e);
        return;
    }
    struct {
        char *const *argv;
        double *out;
    } loops[] = {{cpu_loop, &rr->cpu_ms}, {sys_loop, &rr->sys_ms}, {io_loop, &rr->io_ms}};
    for (size_t i = 0; i < ARRAY_SIZE(loops) && !stopped(x); i++) {
        if (inst_exec(x, in, loops[i].argv, &code, &t, &e) == 0 && code == 0)
            *loops[i].out = (double)(t > base ? t - base : 0) / 1e6;
        err_free(&e);
    }
    uint64_t rtt = 0;
    if (!x->m->own_kernel && compare_tcp_rtt(in->pid, 200, &rtt, &e) == 0)
        rr->rtt_us = (double)rtt / 1e3;
    err_free(&e);
}

static int one_run(struct compare_ctx *x, unsigned i, struct run_result *rr, struct err **err)
{
    struct compare_inst in = {0};
    char name[96];
    int rc = -1;
    /* declared before the first goto: cleanup runs on them at out */
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_json_ json_t *st = NULL, *st2 = NULL;
    struct err *e = NULL;

    snprintf(name, sizeof(name), "compare-%d-%s-%u", (int)getpid(), x->m->name, x->seq++);
    step(x, "run %u/%u: start", i + 1, x->o->runs);
    if (x->m->launch(x, name, &in, err) < 0)
        goto out;
    if (inst_wait_ready(x, &in, err) < 0)
        goto out;
    rr->start_ms = (double)(in.ready_ns - in.t0_ns) / 1e6;
    step(x, "run %u/%u: started in %.0f ms; memory, disk, overhead", i + 1, x->o->runs,
         rr->start_ms);
    /* the peak of the start, before the loops below add theirs */
    if (ctr_get(x->db, x->env, in.id, &c, err) < 0)
        goto out;
    if (c->status == DB_STATUS_RUNNING && ctr_stats_fetch(x->env, c, &st, &e) == 0) {
        rr->peak = json_num(st, "memoryPeak");
        rr->charged = json_num(st, "memoryCurrent");
        if (isnan(rr->peak) && in.peak_polled > 0)
            rr->peak =
                !isnan(rr->charged) && rr->charged > in.peak_polled ? rr->charged : in.peak_polled;
    }
    err_free(&e);
    /* idle: let what the start left behind settle */
    nap(200);
    if (!inst_running(x, &in)) {
        snprintf(rr->note, sizeof(rr->note),
                 "memory and overhead not measured: the workload exited after its start (give a "
                 "CMD that stays up)");
    } else {
        uint64_t pss = 0;
        if (inst_pss(x, &in, &pss, &e) == 0)
            rr->pss = (double)pss;
        err_free(&e);
        if (ctr_stats_fetch(x->env, c, &st2, &e) == 0)
            rr->charged = json_num(st2, "memoryCurrent");
        err_free(&e);
        inst_overhead(x, &in, rr);
    }
    inst_disk(x, &in, rr);
    rr->isolation = inst_isolation(x, &in);
    if (stopped(x)) {
        err_val(err, EINTR, "%s: interrupted", name);
        goto out;
    }
    rc = 0;
out:
    if (in.id[0])
        live_remove(x, in.id);
    free(in.log_path);
    return rc;
}

/* --- density -------------------------------------------------------------- */

static json_t *density(struct compare_ctx *x)
{
    int64_t budget = x->o->density_budget;
    unsigned max = x->o->density_max ? x->o->density_max : 50, n = 0;
    uint64_t total = 0;
    int64_t t_first = 0, t_last = 0;
    const char *why = "limit";
    char errbuf[512] = "";
    char(*ids)[DB_ID_LEN + 1] = calloc(max, sizeof(*ids));

    if (!ids)
        return json_pack("{s:s}", "error", "out of memory");
    while (n < max) {
        struct compare_inst in = {0};
        struct err *e = NULL;
        char name[96];

        if (stopped(x)) {
            why = "interrupted";
            break;
        }
        step(x, "density: instance %u (%.1f MiB of %.1f MiB)", n + 1, (double)total / 1048576.0,
             (double)budget / 1048576.0);
        snprintf(name, sizeof(name), "compare-%d-%s-d%u", (int)getpid(), x->m->name, n);
        int r = x->m->launch(x, name, &in, &e);
        if (in.id[0])
            snprintf(ids[n], sizeof(ids[n]), "%s", in.id);
        if (r == 0)
            r = inst_wait_ready(x, &in, &e);
        uint64_t pss = 0;
        if (r == 0) {
            nap(100);
            if (!inst_running(x, &in))
                r = err_val(&e, ECHILD,
                            "instance %s exited: density needs a workload that stays up", in.id);
        }
        if (r == 0)
            r = inst_pss(x, &in, &pss, &e);
        free(in.log_path);
        if (r < 0) {
            if (in.id[0])
                live_remove(x, in.id), ids[n][0] = '\0';
            why = "failure";
            snprintf(errbuf, sizeof(errbuf), "%s", e ? e->msg : "?");
            err_free(&e);
            break;
        }
        if (n == 0)
            t_first = in.t0_ns;
        t_last = in.ready_ns;
        n++;
        total += pss;
        if ((int64_t)total >= budget) {
            why = "budget";
            break;
        }
    }
    for (unsigned i = 0; i < max; i++)
        if (ids[i][0])
            live_remove(x, ids[i]);
    free(ids);
    json_t *d = json_pack("{s:I, s:i, s:s, s:I}", "budgetBytes", (json_int_t)budget, "instances",
                          (int)n, "stoppedBy", why, "pssTotalBytes", (json_int_t)total);
    json_object_set_new(d, "perInstanceBytes", n ? json_real((double)total / n) : json_null());
    json_object_set_new(d, "scaleMs",
                        n > 1 ? json_real((double)(t_last - t_first) / 1e6) : json_null());
    json_object_set_new(d, "error", errbuf[0] ? json_string(errbuf) : json_null());
    return d;
}

/* --- a model -------------------------------------------------------------- */

static json_t *stat_of(struct run_result *rr, size_t n, size_t off, size_t from)
{
    double v[n ? n : 1];
    size_t k = 0;

    for (size_t i = from; i < n; i++) {
        double d = *(double *)((char *)&rr[i] + off);
        if (!isnan(d))
            v[k++] = d;
    }
    return compare_stat(v, k);
}

#define STAT(field, from) stat_of(rr, done, offsetof(struct run_result, field), (from))

static json_t *run_model(struct compare_ctx *x, bool cold_dropped, const char *cold_note)
{
    const struct compare_model *m = x->m;
    json_t *mj = json_pack("{s:s, s:s}", "name", m->name, "engineIsolation", m->isolation);
    char reason[512];
    unsigned runs = x->o->runs;

    if (m->available(x, reason, sizeof(reason)) < 0) {
        json_object_set_new(mj, "status", json_string("not run"));
        json_object_set_new(mj, "reason", json_string(reason));
        return mj;
    }
    struct run_result *rr = calloc(runs, sizeof(*rr));
    if (!rr) {
        json_object_set_new(mj, "status", json_string("failed"));
        json_object_set_new(mj, "reason", json_string("out of memory"));
        return mj;
    }
    size_t done = 0;
    const char *status = "ok";
    reason[0] = '\0';
    for (unsigned i = 0; i < runs; i++) {
        struct run_result *r = &rr[i];
        struct err *e = NULL;
        r->start_ms = r->pss = r->charged = r->peak = r->disk_unique = r->shared = NAN;
        r->cpu_ms = r->sys_ms = r->io_ms = r->rtt_us = NAN;
        if (i == 0 && x->o->cold && cold_dropped) {
            char why[128];
            compare_drop_caches(true, why, sizeof(why));
        }
        if (one_run(x, i, r, &e) < 0) {
            json_decref(r->isolation);
            r->isolation = NULL;
            status = stopped(x) ? "interrupted" : "failed";
            snprintf(reason, sizeof(reason), "run %u of %u: %s", i + 1, runs, e ? e->msg : "?");
            err_free(&e);
            break;
        }
        done++;
    }
    json_object_set_new(mj, "status", json_string(status));
    json_object_set_new(mj, "reason", reason[0] ? json_string(reason) : json_null());
    json_object_set_new(mj, "runsCompleted", json_integer((json_int_t)done));
    /* start: the first run is cold when the cache was dropped before it */
    bool has_cold = x->o->cold && cold_dropped && done > 0;
    json_t *start = json_object();
    json_object_set_new(start, "coldMs", has_cold ? json_real(rr[0].start_ms) : json_null());
    json_object_set_new(start, "coldNote", json_string(cold_note));
    json_object_set_new(start, "warmMs", STAT(start_ms, has_cold && done > 1 ? 1 : 0));
    json_object_set_new(start, "allMs", STAT(start_ms, 0));
    json_object_set_new(mj, "start", start);
    json_t *mem = json_object();
    json_object_set_new(mem, "pssBytes", STAT(pss, 0));
    json_object_set_new(mem, "chargedBytes", STAT(charged, 0));
    json_object_set_new(mem, "peakBytes", STAT(peak, 0));
    json_object_set_new(mj, "memory", mem);
    json_t *disk = json_object();
    json_object_set_new(disk, "uniqueBytes", STAT(disk_unique, 0));
    json_object_set_new(disk, "sharedBytes", STAT(shared, 0));
    json_object_set_new(mj, "disk", disk);
    json_t *ov = json_object();
    json_object_set_new(ov, "cpuMs", STAT(cpu_ms, 0));
    json_object_set_new(ov, "syscallMs", STAT(sys_ms, 0));
    json_object_set_new(ov, "fileIoMs", STAT(io_ms, 0));
    json_object_set_new(ov, "tcpRttUs", STAT(rtt_us, 0));
    json_object_set_new(mj, "overhead", ov);
    json_t *notes = json_array();
    for (size_t i = 0; i < done; i++)
        if (rr[i].note[0]) {
            json_array_append_new(notes, json_string(rr[i].note));
            break;
        }
    json_object_set_new(mj, "notes", notes);
    json_t *iso = NULL;
    for (size_t i = 0; i < runs; i++) {
        if (!iso && rr[i].isolation)
            iso = json_incref(rr[i].isolation);
        json_decref(rr[i].isolation);
    }
    json_object_set_new(mj, "isolation", iso ? iso : json_null());
    free(rr);
    if (strcmp(status, "ok") == 0 && x->o->density_budget > 0 && !stopped(x))
        json_object_set_new(mj, "density", density(x));
    else
        json_object_set_new(mj, "density", json_null());
    return mj;
}

/* Overhead relative to the container model's medians. */
static void relate(json_t *models_j)
{
    static const char *const keys[] = {"cpuMs", "syscallMs", "fileIoMs", "tcpRttUs"};
    json_t *base = NULL, *m;
    size_t i;

    json_array_foreach (models_j, i, m)
        if (strcmp(json_string_value(json_object_get(m, "name")), "container") == 0 &&
            strcmp(json_string_value(json_object_get(m, "status")), "ok") == 0)
            base = json_object_get(m, "overhead");
    json_array_foreach (models_j, i, m) {
        json_t *ov = json_object_get(m, "overhead");
        if (!ov)
            continue;
        json_t *rel = json_object();
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
            double a = json_num(json_object_get(ov, keys[k]), "median");
            double b = base ? json_num(json_object_get(base, keys[k]), "median") : NAN;
            json_object_set_new(rel, keys[k],
                                !isnan(a) && !isnan(b) && b > 0 ? json_real(a / b) : json_null());
        }
        json_object_set_new(ov, "relative", rel);
    }
}

/* What "started" meant, for the report's readers. */
static json_t *ready_text(const struct compare_ready *r)
{
    switch (r->kind) {
    case COMPARE_READY_CMD:
        return json_sprintf("`%s` exits 0 in it", r->cmd && r->cmd[2] ? r->cmd[2] : "?");
    case COMPARE_READY_TCP:
        return json_sprintf("tcp:%u accepts a connection", (unsigned)r->port);
    case COMPARE_READY_HTTP:
        return json_sprintf("http://%s:%u%s answers", r->host ? r->host : "", (unsigned)r->port,
                            r->path ? r->path : "/");
    default:
        return json_string("its first output");
    }
}

static const struct compare_model *model_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(models); i++)
        if (strcmp(models[i].name, name) == 0)
            return &models[i];
    return NULL;
}

int compare_run(struct db *db, const struct ctr_env *env, struct store *s,
                const struct compare_opts *o, json_t **report, struct err **err)
{
    struct compare_ctx x = {.db = db, .env = env, .s = s, .o = o};
    const char *all[ARRAY_SIZE(models) + 1];
    const char *const *names = o->models;
    char cold_note[160] = "cold start not measured (--no-cold)";
    bool cold_dropped = false;
    _cleanup_image_ struct image *img = NULL;

    if (o->runs < 1)
        return err_val(err, EINVAL, "--runs: at least 1");
    if (!names) {
        for (size_t i = 0; i < ARRAY_SIZE(models); i++)
            all[i] = models[i].name;
        all[ARRAY_SIZE(models)] = NULL;
        names = all;
    }
    for (const char *const *n = names; *n; n++)
        if (!model_find(*n))
            return err_val(err, EINVAL,
                           "unknown model `%s`: expected container, vm-container or vm", *n);
    if (image_open(s, o->image, NULL, &img, err) < 0)
        return err_wrap(err, "compare %s", o->image);
    if (o->cold) {
        char why[128];
        /* only whether it is allowed here: each model's first run drops it */
        if (compare_drop_caches(false, why, sizeof(why)) == 0) {
            cold_dropped = true;
            snprintf(cold_note, sizeof(cold_note),
                     "first run after echo 3 > /proc/sys/vm/drop_caches");
        } else {
            snprintf(cold_note, sizeof(cold_note), "cold start not measured: %s", why);
        }
    }
    json_t *r = json_object(), *mj = json_array(), *argv = json_array();
    for (char *const *a = o->args; a && *a; a++)
        json_array_append_new(argv, json_string(*a));
    json_object_set_new(r, "schemaVersion", json_integer(COMPARE_SCHEMA_VERSION));
    json_object_set_new(r, "image", json_string(o->image));
    json_object_set_new(r, "command", argv);
    json_object_set_new(r, "runs", json_integer(o->runs));
    json_object_set_new(r, "ready", ready_text(&o->ready));
    json_object_set_new(r, "machine", compare_machine(o->kvm_dev));
    for (const char *const *n = names; *n; n++) {
        x.m = model_find(*n);
        step(&x, "%s", "begin");
        json_array_append_new(mj, run_model(&x, cold_dropped, cold_note));
        if (stopped(&x))
            break;
    }
    x.m = NULL;
    /* what an error path left (none expected: each run removes its own) */
    while (x.n_live)
        live_remove(&x, x.live[x.n_live - 1]);
    free(x.live);
    if (o->interrupted && *o->interrupted) {
        json_decref(r);
        json_decref(mj);
        return err_val(err, EINTR, "compare %s: interrupted; every instance was removed", o->image);
    }
    relate(mj);
    json_object_set_new(r, "models", mj);
    json_object_set_new(r, "claims", compare_claims(mj));
    *report = r;
    return 0;
}

/* --- --ready ------------------------------------------------------------- */

void compare_ready_release(struct compare_ready *r)
{
    strv_free(r->cmd);
    free(r->path);
    free(r->host);
    memset(r, 0, sizeof(*r));
}

static int parse_port(const char *s, uint16_t *port, const char *spec, struct err **err)
{
    char *end;
    errno = 0;
    unsigned long p = strtoul(s, &end, 10);
    if (errno || end == s || (*end && *end != '/') || p == 0 || p > 65535)
        return err_val(err, EINVAL, "--ready `%s`: expected a port from 1 to 65535", spec);
    *port = (uint16_t)p;
    return 0;
}

int compare_ready_parse(const char *spec, struct compare_ready *r, struct err **err)
{
    memset(r, 0, sizeof(*r));
    if (strncmp(spec, "tcp:", 4) == 0) {
        r->kind = COMPARE_READY_TCP;
        return parse_port(spec + 4, &r->port, spec, err);
    }
    if (strncmp(spec, "http:", 5) == 0) {
        /* http:URL, http://host[:port]/path; the host is where the server
         * listens in the instance: 127.0.0.1 of its own namespace */
        const char *u = spec + 5;
        if (strncmp(u, "//", 2) == 0)
            u += 2;
        const char *slash = strchr(u, '/'), *colon = strchr(u, ':');
        r->kind = COMPARE_READY_HTTP;
        r->port = 80;
        if (colon && (!slash || colon < slash) && parse_port(colon + 1, &r->port, spec, err) < 0)
            return -1;
        size_t hl =
            (size_t)((colon && (!slash || colon < slash)) ? colon - u
                                                          : (slash ? slash - u : (long)strlen(u)));
        r->host = strndup(u, hl ? hl : 0);
        r->path = strdup(slash ? slash : "/");
        if (!r->host || !r->path) {
            compare_ready_release(r);
            return err_set(err, ENOMEM, "--ready");
        }
        return 0;
    }
    r->kind = COMPARE_READY_CMD;
    r->cmd = calloc(4, sizeof(char *));
    if (!r->cmd || !(r->cmd[0] = strdup("sh")) || !(r->cmd[1] = strdup("-c")) ||
        !(r->cmd[2] = strdup(spec))) {
        compare_ready_release(r);
        return err_set(err, ENOMEM, "--ready");
    }
    return 0;
}
