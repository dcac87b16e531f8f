/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola compare's measurements of the host and of an instance (compare.h):
 * PSS, bytes on disk, the machine, KVM, the page cache, TCP in an instance's
 * network namespace, and the articles' claims judged from a report.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <linux/kvm.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "engine/compare.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"

uint64_t compare_pss(pid_t pid)
{
    char path[64], line[256];
    uint64_t kb = 0;

    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Pss: %" SCNu64 " kB", &kb) == 1)
            return kb * 1024;
    return 0;
}

/* --- bytes on disk ----------------------------------------------------- */

/* nftw has no argument: one walk at a time (compare runs in one thread). */
static struct {
    dev_t dev;
    uint64_t bytes;
    ino_t *seen;
    size_t n, cap;
} du;

static int du_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (type == FTW_NS || st->st_dev != du.dev)
        return 0;
    if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
        for (size_t i = 0; i < du.n; i++)
            if (du.seen[i] == st->st_ino)
                return 0;
        if (du.n == du.cap) {
            size_t cap = du.cap ? du.cap * 2 : 256;
            ino_t *p = realloc(du.seen, cap * sizeof(*p));
            if (!p)
                return 0;
            du.seen = p;
            du.cap = cap;
        }
        du.seen[du.n++] = st->st_ino;
    }
    du.bytes += (uint64_t)st->st_blocks * 512;
    return 0;
}

uint64_t compare_du(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return 0;
    du.dev = st.st_dev;
    du.bytes = 0;
    du.n = 0;
    /* FTW_MOUNT: the overlay mounted in a bundle is not the bundle's */
    nftw(path, du_visit, 32, FTW_PHYS | FTW_MOUNT);
    free(du.seen);
    du.seen = NULL;
    du.cap = du.n = 0;
    return du.bytes;
}

/* mountinfo escapes blanks as \040 and backslashes as \134. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

char **compare_overlay_lowers(const char *path)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    char **out = NULL;

    if (!f)
        return NULL;
    while (getline(&line, &cap, f) > 0) {
        char mnt[4096];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
            continue;
        unescape(mnt);
        if (strcmp(mnt, path) != 0)
            continue;
        char *sep = strstr(line, " - overlay ");
        char *lo = sep ? strstr(sep, "lowerdir=") : NULL;
        if (!lo)
            continue;
        lo += strlen("lowerdir=");
        size_t len = strcspn(lo, ", \n");
        _cleanup_free_ char *list = strndup(lo, len);
        size_t n = 1;
        for (char *p = list; p && *p; p++)
            n += *p == ':';
        strv_free(out);
        out = calloc(n + 1, sizeof(char *));
        if (!out || !list)
            return NULL;
        size_t k = 0;
        char *save = NULL;
        for (char *t = strtok_r(list, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
            unescape(t);
            out[k++] = strdup(t);
        }
    }
    return out;
}

/* --- the machine --------------------------------------------------------- */

int compare_kvm_usable(const char *kvm_dev, char *reason, size_t len)
{
    const char *dev = kvm_dev ? kvm_dev : "/dev/kvm";
    _cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        snprintf(reason, len, "no usable %s (open: %s)", dev, strerror(errno));
        return -1;
    }
    int vm = ioctl(fd, KVM_CREATE_VM, 0UL);
    if (vm < 0) {
        snprintf(reason, len, "no usable %s (KVM_CREATE_VM failed: %s)", dev, strerror(errno));
        return -1;
    }
    close(vm);
    return 0;
}

int compare_drop_caches(bool drop, char *reason, size_t len)
{
    _cleanup_close_ int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(reason, len, "/proc/sys/vm/drop_caches cannot be written (%s)", strerror(errno));
        return -1;
    }
    if (!drop)
        return 0;
    sync();
    if (write(fd, "3\n", 2) != 2) {
        snprintf(reason, len, "echo 3 > /proc/sys/vm/drop_caches: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void cpuinfo_field(const char *key, char *buf, size_t len)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/cpuinfo", "re");
    _cleanup_free_ char *line = NULL;
    size_t cap = 0, kl = strlen(key);

    buf[0] = '\0';
    while (f && getline(&line, &cap, f) > 0) {
        if (strncmp(line, key, kl) != 0 || (line[kl] != ' ' && line[kl] != '\t'))
            continue;
        char *v = strchr(line, ':');
        if (!v)
            continue;
        v += 1 + (v[1] == ' ');
        v[strcspn(v, "\n")] = '\0';
        snprintf(buf, len, "%s", v);
        return;
    }
}

/* The hypervisor's CPUID signature (leaf 0x40000000): "KVMKVMKVM",
 * "TCGTCGTCGTCG" (QEMU's emulation), "Microsoft Hv"...; "" on bare metal. */
static void hypervisor_sig(char *buf, size_t len)
{
    buf[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    if (!(c & (1u << 31)))
        return;
    __cpuid(0x40000000, a, b, c, d);
    char sig[13];
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = '\0';
    for (int i = 11; i >= 0 && sig[i] == '\0'; i--)
        ;
    snprintf(buf, len, "%s", sig[0] ? sig : "unknown");
#else
    (void)len;
#endif
}

json_t *compare_machine(const char *kvm_dev)
{
    struct utsname u;
    char cpu[256], flags_probe[8], sig[16], kvm[256] = "usable";
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

    uname(&u);
    cpuinfo_field("model name", cpu, sizeof(cpu));
    (void)flags_probe;
    hypervisor_sig(sig, sizeof(sig));
    bool kvm_ok = compare_kvm_usable(kvm_dev, kvm, sizeof(kvm)) == 0;
    if (kvm_ok)
        snprintf(kvm, sizeof(kvm), "usable");
    bool virt = sig[0] != '\0';
    bool emulated = strcmp(sig, "TCGTCGTCGTCG") == 0;
    char summary[512];
    snprintf(summary, sizeof(summary), "%s%s%s%s", virt ? "a virtual machine" : "bare metal",
             virt ? " (" : "", virt ? sig : "", virt ? ")" : "");
    if (emulated)
        snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
                 ", emulated in software: VM models run nested in an emulator");
    else if (virt)
        snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
                 ": VM models here would run nested");
    return json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:b, s:s?, s:b, s:s, s:s}", "cpu", cpu,
                     "cores", (int)sysconf(_SC_NPROCESSORS_ONLN), "memoryBytes",
                     (json_int_t)pages * psz, "kernel", u.release, "kernelVersion", u.version,
                     "arch", u.machine, "virtualized", virt, "hypervisor", virt ? sig : NULL,
                     "emulated", emulated, "kvm", kvm, "summary", summary);
}

/* --- TCP in an instance's network namespace ------------------------------ */

/* Fork a child in the network namespace of pid; it runs fn and sends its
 * result (a uint64_t) back; -1 when it could not. */
static int in_netns(pid_t pid, int (*fn)(void *arg, uint64_t *out), void *arg, int timeout_ms,
                    uint64_t *out, struct err **err)
{
    char path[64];
    int p[2];

    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    _cleanup_close_ int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0)
        return err_sys(err, "open %s", path);
    if (pipe2(p, O_CLOEXEC) < 0)
        return err_sys(err, "pipe");
    _cleanup_close_ int rd = p[0];
    pid_t child = fork();
    if (child < 0) {
        close(p[1]);
        return err_sys(err, "fork");
    }
    if (child == 0) {
        uint64_t v = 0;
        int r = setns(ns, CLONE_NEWNET) == 0 ? fn(arg, &v) : -1;
        if (r == 0 && write(p[1], &v, sizeof(v)) != sizeof(v))
            r = -1;
        _exit(r == 0 ? 0 : 1);
    }
    close(p[1]);
    int status = 0;
    if (proc_wait(child, timeout_ms, &status, err) < 0) {
        proc_kill_reap(child);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        read(rd, out, sizeof(*out)) != sizeof(*out))
        return 1;
    return 0;
}

struct probe_arg {
    uint16_t port;
    const char *host, *path;
    unsigned n;
};

static int probe_fn(void *a, uint64_t *out)
{
    struct probe_arg *pa = a;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(pa->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -1;
    if (pa->path) {
        char req[512], rep[16];
        int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", pa->path,
                         pa->host && *pa->host ? pa->host : "localhost");
        if (write(fd, req, (size_t)n) != n)
            return -1;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 1000) != 1 || read(fd, rep, 5) != 5 || memcmp(rep, "HTTP/", 5) != 0)
            return -1;
    }
    *out = 1;
    return 0;
}

int compare_probe_tcp(pid_t pid, uint16_t port, const char *http_host, const char *http_path,
                      struct err **err)
{
    struct probe_arg a = {.port = port, .host = http_host, .path = http_host ? http_path : NULL};
    uint64_t v = 0;
    int r = in_netns(pid, probe_fn, &a, 3000, &v, err);

    return r < 0 ? -1 : (r == 0 && v == 1);
}

static int u64cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One byte each way between two ends of a loopback TCP connection. */
static int rtt_fn(void *a, uint64_t *out)
{
    struct probe_arg *pa = a;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int one = 1;
    char b = 'x';

    /* lo of a new namespace is down until someone brings it up; the
     * engine's `none` network does */
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&sa, &sl) < 0)
        return -1;
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -1;
    int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (s < 0)
        return -1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uint64_t *t = calloc(pa->n, sizeof(*t));
    if (!t)
        return -1;
    for (unsigned i = 0; i < pa->n; i++) {
        uint64_t t0 = mono_ns();
        if (write(c, &b, 1) != 1 || read(s, &b, 1) != 1 || write(s, &b, 1) != 1 ||
            read(c, &b, 1) != 1)
            return -1;
        t[i] = mono_ns() - t0;
    }
    qsort(t, pa->n, sizeof(*t), u64cmp);
    *out = t[pa->n / 2];
    return 0;
}

int compare_tcp_rtt(pid_t pid, unsigned n, uint64_t *median_ns, struct err **err)
{
    struct probe_arg a = {.n = n ? n : 1};
    int r = in_netns(pid, rtt_fn, &a, 10000, median_ns, err);

    if (r > 0)
        return err_val(err, EIO, "TCP round trips in the network namespace of %d failed", (int)pid);
    return r;
}

/* --- statistics and claims ------------------------------------------------ */

static int dblcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

json_t *compare_stat(double *v, size_t n)
{
    if (n == 0)
        return json_null();
    qsort(v, n, sizeof(*v), dblcmp);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return json_pack("{s:f, s:f, s:f, s:i}", "median", med, "min", v[0], "max", v[n - 1], "n",
                     (int)n);
}

static json_t *model_of(json_t *models, const char *name)
{
    json_t *m;
    size_t i;

    json_array_foreach (models, i, m)
        if (strcmp(json_string_value(json_object_get(m, "name")), name) == 0)
            return m;
    return NULL;
}

/* The median at path (a "." separated list of keys) of model name, NAN when
 * the model did not run or has no such value. */
static double med(json_t *models, const char *name, const char *k1, const char *k2)
{
    json_t *m = model_of(models, name);
    json_t *v = json_object_get(json_object_get(json_object_get(m, k1), k2), "median");

    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *why_not(json_t *models, const char *name)
{
    json_t *m = model_of(models, name);
    const char *st = json_string_value(json_object_get(m, "status"));

    if (!m)
        return "not compared (--models)";
    if (st && strcmp(st, "ok") == 0)
        return "no value";
    return json_string_value(json_object_get(m, "reason")) ?: st;
}

static void human_bytes(double b, char *buf, size_t len)
{
    if (b >= 1073741824.0)
        snprintf(buf, len, "%.2f GiB", b / 1073741824.0);
    else if (b >= 1048576.0)
        snprintf(buf, len, "%.1f MiB", b / 1048576.0);
    else
        snprintf(buf, len, "%.0f KiB", b / 1024.0);
}

static void claim(json_t *arr, const char *text, const char *verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void claim(json_t *arr, const char *text, const char *verdict, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_array_append_new(
        arr, json_pack("{s:s, s:s, s:s}", "claim", text, "measured", buf, "verdict", verdict));
}

/* The best VM-like model that ran: vm, else vm-container. */
static const char *vm_model(json_t *models)
{
    json_t *m = model_of(models, "vm");
    const char *st = json_string_value(json_object_get(m, "status"));

    if (m && st && strcmp(st, "ok") == 0)
        return "vm";
    m = model_of(models, "vm-container");
    st = json_string_value(json_object_get(m, "status"));
    return m && st && strcmp(st, "ok") == 0 ? "vm-container" : "vm";
}

json_t *compare_claims(json_t *models)
{
    json_t *c = json_array();
    const char *vm = vm_model(models);
    char a[64], b[64];

    double cs = med(models, "container", "start", "allMs");
    if (isnan(cs))
        claim(c, "Containers start in milliseconds", "not measured", "container: %s",
              why_not(models, "container"));
    else
        claim(c, "Containers start in milliseconds", cs < 1000 ? "holds" : "does not hold",
              "%.0f ms (median, launch to ready)", cs);

    double vs = med(models, vm, "start", "allMs");
    if (isnan(vs))
        claim(c, "VMs take minutes to start", "not measured", "%s: %s", vm, why_not(models, vm));
    else
        claim(c, "VMs take minutes to start", vs >= 60000 ? "holds" : "does not hold",
              "%.1f s (median)%s", vs / 1000, !isnan(cs) && cs > 0 ? "" : "");
    if (!isnan(vs) && !isnan(cs) && cs > 0)
        claim(c, "VMs start much slower than containers", vs > 10 * cs ? "holds" : "does not hold",
              "%.1fx the container's start", vs / cs);

    double cd = med(models, "container", "disk", "uniqueBytes");
    double cl = med(models, "container", "disk", "sharedBytes");
    if (isnan(cd))
        claim(c, "A container is megabytes", "not measured", "container: %s",
              why_not(models, "container"));
    else {
        human_bytes(cd, a, sizeof(a));
        human_bytes(isnan(cl) ? 0 : cl, b, sizeof(b));
        claim(c, "A container is megabytes",
              cd + (isnan(cl) ? 0 : cl) < 1073741824.0 ? "holds" : "does not hold",
              "%s unique to one instance, %s of image layers shared", a, b);
    }
    double vd = med(models, vm, "disk", "uniqueBytes");
    double vl = med(models, vm, "disk", "sharedBytes");
    if (isnan(vd))
        claim(c, "A VM is gigabytes", "not measured", "%s: %s", vm, why_not(models, vm));
    else {
        human_bytes(vd, a, sizeof(a));
        human_bytes(isnan(vl) ? 0 : vl, b, sizeof(b));
        claim(c, "A VM is gigabytes",
              vd + (isnan(vl) ? 0 : vl) >= 1073741824.0 ? "holds" : "does not hold",
              "%s unique to one instance, %s shared", a, b);
    }

    double cm = med(models, "container", "memory", "pssBytes");
    double vmm = med(models, vm, "memory", "pssBytes");
    if (isnan(cm) || isnan(vmm))
        claim(c, "VMs use more memory than containers", "not measured", "%s",
              isnan(cm) ? why_not(models, "container") : why_not(models, vm));
    else {
        human_bytes(cm, a, sizeof(a));
        human_bytes(vmm, b, sizeof(b));
        claim(c, "VMs use more memory than containers", vmm > cm ? "holds" : "does not hold",
              "container %s, %s %s (%.1fx)", a, vm, b, cm > 0 ? vmm / cm : 0);
    }

    json_t *dc = json_object_get(model_of(models, "container"), "density");
    json_t *dv = json_object_get(model_of(models, vm), "density");
    if (!json_is_object(dc) || !json_is_object(dv))
        claim(c, "A server holds more containers than VMs", "not measured", "%s",
              !json_is_object(dc) ? "container: no density test (--density BUDGET)"
                                  : "vm: no density test (it did not run)");
    else {
        json_int_t nc = json_integer_value(json_object_get(dc, "instances"));
        json_int_t nv = json_integer_value(json_object_get(dv, "instances"));
        claim(c, "A server holds more containers than VMs", nc > nv ? "holds" : "does not hold",
              "%lld containers against %lld VMs in the same budget", (long long)nc, (long long)nv);
    }

    json_t *ci = json_object_get(model_of(models, "container"), "isolation");
    json_t *vi = json_object_get(model_of(models, vm), "isolation");
    if (!json_is_object(ci))
        claim(c, "VMs isolate better: each has its own kernel", "not measured", "container: %s",
              why_not(models, "container"));
    else
        claim(c, "VMs isolate better: each has its own kernel",
              json_is_object(vi) ? "holds" : "not measured",
              "the container shares the host's kernel %s (%s)%s%s",
              json_string_value(json_object_get(ci, "kernel")),
              json_string_value(json_object_get(ci, "surface")),
              json_is_object(vi) ? "; the VM runs its own kernel" : "; the VM: ",
              json_is_object(vi) ? "" : why_not(models, vm));
    return c;
}
