/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seccomp compile cost per container: libseccomp compile vs. the cache.
 *   bench-seccomp PROFILE.json [ITERATIONS]
 * PROFILE is an OCI linux.seccomp object (bench/oci-seccomp-profile.py makes
 * one from containers-common's default profile). Prints the mean, min and max
 * wall time of seccomp_compile() and of a warm seccomp_compile_cached().
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/seccomp.h"
#include "util/js.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int run(const char *what, json_t *prof, const char *cache, int n)
{
    double sum = 0, min = 1e9, max = 0;
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        struct seccomp_filter *f = NULL;
        struct err *e = NULL;
        double t0 = now_ms();
        int r = cache ? seccomp_compile_cached(prof, cache, &f, &e) : seccomp_compile(prof, &f, &e);
        double dt = now_ms() - t0;
        if (r < 0) {
            err_print(e, "bench-seccomp", stderr);
            err_free(&e);
            return -1;
        }
        len = seccomp_filter_len(f);
        seccomp_filter_free(f);
        sum += dt;
        min = dt < min ? dt : min;
        max = dt > max ? dt : max;
    }
    printf("%-28s %5d runs  mean %8.3f ms  min %8.3f ms  max %8.3f ms  (%zu BPF insns)\n", what, n,
           sum / n, min, max, len);
    return 0;
}

int main(int argc, char **argv)
{
    json_t *prof = NULL;
    struct err *e = NULL;
    char dir[] = "/tmp/isola-bench-seccomp-XXXXXX", cache[64];
    int n = argc > 2 ? atoi(argv[2]) : 200;

    if (argc < 2) {
        fprintf(stderr, "usage: bench-seccomp PROFILE.json [ITERATIONS]\n");
        return 2;
    }
    if (js_load_file(argv[1], &prof, &e) < 0) {
        err_print(e, "bench-seccomp", stderr);
        return 1;
    }
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(cache, sizeof(cache), "%s/c", dir);
    int r = run("seccomp_compile", prof, NULL, n);
    if (r == 0)
        r = run("seccomp_compile_cached cold", prof, cache, 1);
    if (r == 0)
        r = run("seccomp_compile_cached warm", prof, cache, n);
    /* remove the cache */
    DIR *d = opendir(cache);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        char p[512];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", cache, de->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(cache);
    rmdir(dir);
    json_decref(prof);
    return r < 0 ? 1 : 0;
}
