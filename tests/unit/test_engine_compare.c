/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola compare's pure parts (engine/compare.h): --ready, the statistics, the
 * claims judged from a report's models, bytes on disk. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/compare.h"
#include "tap.h"

static const char *verdict(json_t *claims, const char *claim)
{
    json_t *c;
    size_t i;

    json_array_foreach (claims, i, c)
        if (strcmp(json_string_value(json_object_get(c, "claim")), claim) == 0)
            return json_string_value(json_object_get(c, "verdict"));
    return NULL;
}

static json_t *stat1(double v)
{
    return json_pack("{s:f, s:f, s:f, s:i}", "median", v, "min", v, "max", v, "n", 1);
}

int main(void)
{
    struct err *e = NULL;
    struct compare_ready r;

    ok(compare_ready_parse("tcp:8080", &r, &e) == 0 && r.kind == COMPARE_READY_TCP &&
           r.port == 8080,
       "tcp:PORT");
    compare_ready_release(&r);
    ok(compare_ready_parse("tcp:0", &r, &e) < 0 && e && strstr(e->msg, "tcp:0"),
       "tcp:0 refused, naming the value");
    err_free(&e);
    ok(compare_ready_parse("http://localhost:8080/health", &r, &e) == 0 &&
           r.kind == COMPARE_READY_HTTP && r.port == 8080 && strcmp(r.host, "localhost") == 0 &&
           strcmp(r.path, "/health") == 0,
       "http://HOST:PORT/PATH");
    compare_ready_release(&r);
    ok(compare_ready_parse("http:web", &r, &e) == 0 && r.port == 80 && strcmp(r.host, "web") == 0 &&
           strcmp(r.path, "/") == 0,
       "http:HOST: port 80, path /");
    compare_ready_release(&r);
    ok(compare_ready_parse("test -e /tmp/up", &r, &e) == 0 && r.kind == COMPARE_READY_CMD &&
           strcmp(r.cmd[0], "sh") == 0 && strcmp(r.cmd[2], "test -e /tmp/up") == 0,
       "CMD through sh -c");
    compare_ready_release(&r);

    double v[] = {30, 10, 20, 40};
    json_t *s = compare_stat(v, 4);
    ok(json_real_value(json_object_get(s, "median")) == 25 &&
           json_real_value(json_object_get(s, "min")) == 10 &&
           json_real_value(json_object_get(s, "max")) == 40 &&
           json_integer_value(json_object_get(s, "n")) == 4,
       "median of an even count, min, max, n");
    json_decref(s);
    s = compare_stat(v, 0);
    ok(json_is_null(s), "no values: null");
    json_decref(s);

    /* a container and a VM that ran, judged */
    json_t *models = json_pack(
        "[{s:s, s:s, s:{s:o}, s:{s:o, s:o}, s:{s:o}, s:{s:i}, s:{s:b, s:s, s:s}},"
        " {s:s, s:s, s:{s:o}, s:{s:o, s:o}, s:{s:o}, s:{s:i}, s:{s:b, s:s, s:s}},"
        " {s:s, s:s, s:s}]",
        "name", "container", "status", "ok", "start", "allMs", stat1(50), "disk", "uniqueBytes",
        stat1(70e3), "sharedBytes", stat1(2e6), "memory", "pssBytes", stat1(3e6), "density",
        "instances", 20, "isolation", "sharedKernel", 1, "kernel", "6.1", "surface", "syscalls",
        "name", "vm", "status", "ok", "start", "allMs", stat1(9000), "disk", "uniqueBytes",
        stat1(2e9), "sharedBytes", stat1(1e8), "memory", "pssBytes", stat1(150e6), "density",
        "instances", 2, "isolation", "sharedKernel", 0, "kernel", "6.1", "surface", "exits", "name",
        "vm-container", "status", "not run", "reason", "no usable /dev/kvm");
    json_t *claims = compare_claims(models);
    is_str(verdict(claims, "Containers start in milliseconds"), "holds", "50 ms: milliseconds");
    is_str(verdict(claims, "VMs take minutes to start"), "does not hold", "9 s: not minutes");
    is_str(verdict(claims, "VMs start much slower than containers"), "holds", "180x");
    is_str(verdict(claims, "A container is megabytes"), "holds", "2 MB");
    is_str(verdict(claims, "A VM is gigabytes"), "holds", "2 GB");
    is_str(verdict(claims, "VMs use more memory than containers"), "holds", "150 MB > 3 MB");
    is_str(verdict(claims, "A server holds more containers than VMs"), "holds", "20 > 2");
    is_str(verdict(claims, "VMs isolate better: each has its own kernel"), "holds", "own kernel");
    json_decref(claims);
    json_decref(models);

    /* only the container ran: the VM rows say why they were not measured */
    models = json_pack("[{s:s, s:s, s:{s:o}}, {s:s, s:s, s:s}]", "name", "container", "status",
                       "ok", "start", "allMs", stat1(2500), "name", "vm", "status", "not run",
                       "reason", "no usable /dev/kvm (KVM_CREATE_VM failed: x)");
    claims = compare_claims(models);
    is_str(verdict(claims, "Containers start in milliseconds"), "does not hold", "2.5 s");
    is_str(verdict(claims, "VMs take minutes to start"), "not measured", "the VM did not run");
    json_t *c;
    size_t i;
    bool named = false;
    json_array_foreach (claims, i, c)
        if (strstr(json_string_value(json_object_get(c, "measured")), "KVM_CREATE_VM"))
            named = true;
    ok(named, "the reason the VM did not run is in the claims");
    json_decref(claims);
    json_decref(models);

    /* bytes on disk: each hard link once */
    char dir[] = "/tmp/isola-compare-du-XXXXXX", f[64], l[64];
    ok(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(f, sizeof(f), "%s/f", dir);
    snprintf(l, sizeof(l), "%s/l", dir);
    int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    char buf[65536] = {1};
    ok(fd >= 0 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) && fsync(fd) == 0,
       "write 64 KiB");
    close(fd);
    uint64_t one = compare_du(f);
    ok(one >= 65536, "a 64 KiB file takes at least 64 KiB");
    ok(link(f, l) == 0, "hard link");
    uint64_t all = compare_du(dir);
    ok(all >= one && all < 2 * one, "a hard-linked file is counted once");
    unlink(l);
    unlink(f);
    rmdir(dir);
    return done_testing();
}
