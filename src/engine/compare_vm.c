/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola compare's vm-container model (docs/compare.md, "Models"): whether the
 * engine's microvm isolation can run here, and what one instance costs that
 * the container model's probes do not see: the VM monitor (isola-vmm) and the
 * guest RAM it touched, and the guest's files shared between instances.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/compare.h"
#include "util/cleanup.h"

int compare_vm_available(const struct ctr_env *env, char *reason, size_t len)
{
    char vmlinuz[PATH_MAX];

    if (!env->microvm_kernel_dir || !env->microvm_agent || !env->microvm_vmm ||
        !env->microvm_cache_dir) {
        snprintf(reason, len,
                 "no guest kernel, agent or VM monitor found (run scripts/testhost/prepare for "
                 "the kernel; isola-agent and isola-vmm are built with isola, $ISOLA_AGENT and "
                 "$ISOLA_VMM name others; docs/microvm.md)");
        return -1;
    }
    snprintf(vmlinuz, sizeof(vmlinuz), "%s/vmlinuz", env->microvm_kernel_dir);
    if (access(vmlinuz, R_OK) < 0) {
        snprintf(reason, len, "guest kernel `%s`: %s (run scripts/testhost/prepare)", vmlinuz,
                 strerror(errno));
        return -1;
    }
    if (access(env->microvm_agent, R_OK) < 0) {
        snprintf(reason, len, "guest agent `%s`: %s", env->microvm_agent, strerror(errno));
        return -1;
    }
    if (access(env->microvm_vmm, X_OK) < 0) {
        snprintf(reason, len, "VM monitor `%s`: %s", env->microvm_vmm, strerror(errno));
        return -1;
    }
    return 0;
}

/* The children of every thread of pid; calls f on each. */
static void each_child(pid_t pid, void (*f)(pid_t, void *), void *arg)
{
    char path[64];
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    if (!(d = opendir(path)))
        return;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char cp[PATH_MAX], buf[4096];
        snprintf(cp, sizeof(cp), "/proc/%d/task/%s/children", (int)pid, de->d_name);
        _cleanup_fclose_ FILE *fp = fopen(cp, "re");
        if (!fp)
            continue;
        while (fscanf(fp, "%4095s", buf) == 1)
            f((pid_t)atoi(buf), arg);
    }
}

static void pss_add(pid_t pid, void *arg)
{
    *(uint64_t *)arg += compare_pss(pid);
    each_child(pid, pss_add, arg);
}

uint64_t compare_pss_tree(pid_t pid)
{
    uint64_t sum = 0;

    if (pid > 0)
        pss_add(pid, &sum);
    return sum;
}

struct vmm_find {
    pid_t found;
};

static bool is_vmm(pid_t pid)
{
    char path[64], exe[PATH_MAX];

    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof(exe) - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    const char *base = strrchr(exe, '/');
    return strcmp(base ? base + 1 : exe, "isola-vmm") == 0;
}

static void vmm_find(pid_t pid, void *arg)
{
    struct vmm_find *v = arg;

    if (v->found)
        return;
    if (is_vmm(pid)) {
        v->found = pid;
        return;
    }
    each_child(pid, vmm_find, arg);
}

/* The size of the file path names (after symlinks), added once per inode. */
static uint64_t file_bytes(const char *path, dev_t *seen_dev, ino_t *seen_ino, size_t *n,
                           size_t cap)
{
    struct stat st;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (seen_dev[i] == st.st_dev && seen_ino[i] == st.st_ino)
            return 0;
    if (*n < cap) {
        seen_dev[*n] = st.st_dev;
        seen_ino[*n] = st.st_ino;
        (*n)++;
    }
    return (uint64_t)st.st_blocks * 512;
}

/* The kernel, initramfs and disks the VM monitor below monitor was given
 * (its --kernel, --initrd, --disk PATH[,ro]): cached and shared between the
 * instances, so counted as shared bytes. */
uint64_t compare_vm_shared(pid_t monitor)
{
    struct vmm_find v = {0};
    char path[64];
    dev_t devs[16];
    ino_t inos[16];
    size_t n = 0;
    uint64_t sum = 0;

    if (monitor <= 0)
        return 0;
    each_child(monitor, vmm_find, &v);
    if (!v.found)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)v.found);
    _cleanup_fclose_ FILE *fp = fopen(path, "re");
    if (!fp)
        return 0;
    /* the NUL-separated argument vector */
    _cleanup_free_ char *all = NULL;
    size_t total = 0;
    char buf[8192];
    size_t r;
    FILE *ms = open_memstream(&all, &total);
    if (!ms)
        return 0;
    while ((r = fread(buf, 1, sizeof(buf), fp)) > 0)
        fwrite(buf, 1, r, ms);
    fclose(ms);
    const char *prev = "";
    for (size_t off = 0; all && off < total; off += strlen(all + off) + 1) {
        const char *a = all + off;
        if (strcmp(prev, "--kernel") == 0 || strcmp(prev, "--initrd") == 0 ||
            strcmp(prev, "--disk") == 0) {
            char p[PATH_MAX];
            snprintf(p, sizeof(p), "%s", a);
            p[strcspn(p, ",")] = '\0';
            sum += file_bytes(p, devs, inos, &n, sizeof(devs) / sizeof(devs[0]));
        }
        prev = a;
    }
    return sum;
}

uint64_t compare_vm_unique(const struct ctr_env *env, const char *id)
{
    char dir[PATH_MAX];

    /* the microvm isolation's state directory: state_root/ID below the
     * runtime root (iso_microvm.c) */
    if ((size_t)snprintf(dir, sizeof(dir), "%s/containers-oci/%s", env->run_dir, id) >= sizeof(dir))
        return 0;
    return compare_du(dir);
}
