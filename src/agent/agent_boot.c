// SPDX-License-Identifier: GPL-2.0-or-later
/* The guest's own setup before the agent serves the host (agent.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "util/cleanup.h"
#include "util/fs.h"

void agent_log(const char *fmt, ...)
{
    va_list ap;

    fputs("isola-agent: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int mount_one(const char *src, const char *dst, const char *type, unsigned long flags,
                     const char *data, struct err **err)
{
    if (mkdir(dst, 0755) < 0 && errno != EEXIST)
        return err_sys(err, "mkdir `%s`", dst);
    if (mount(src, dst, type, flags, data) < 0)
        return err_sys(err, "mount %s on `%s`", type, dst);
    return 0;
}

/* finit_module(2) of each module the initramfs lists, in its order
 * (dependencies first, as the host wrote it: src/engine/guest_kernel.c). */
static int load_modules(struct err **err)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/modules.load", "re");
    char line[256];

    if (f == NULL)
        return errno == ENOENT ? 0 : err_sys(err, "open `/etc/modules.load`");
    while (fgets(line, sizeof(line), f) != NULL) {
        char path[512];
        line[strcspn(line, "\n")] = 0;
        if (line[0] == 0)
            continue;
        snprintf(path, sizeof(path), "/lib/modules/%s", line);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return err_sys(err, "open module `%s`", path);
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
            return err_sys(err, "load module `%s`", path);
    }
    return 0;
}

/* The initramfs is the kernel's rootfs, which pivot_root(2) cannot leave, so
 * the runtime could not pivot into the container's root. Move a tmpfs over /
 * and chroot into it, as switch_root does; the old files stay unreachable. */
static int leave_rootfs(struct err **err)
{
    if (mount_one("tmpfs", "/newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", err) < 0)
        return -1;
    if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
        chdir("/") < 0)
        return err_sys(err, "move a tmpfs over the initramfs");
    return 0;
}

int agent_boot_base(struct err **err)
{
    if (load_modules(err) < 0 || leave_rootfs(err) < 0)
        return -1;
    if (mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0 ||
        mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0 ||
        mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", err) < 0 ||
        mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", err) < 0 ||
        mount_one("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                  err) < 0)
        return -1;
    /* every controller for the container's cgroup (memory limit, pids...) */
    _cleanup_free_ char *ctl = NULL;
    size_t len;
    if (fs_read_file("/sys/fs/cgroup/cgroup.controllers", &ctl, &len, err) < 0)
        return -1;
    char *save = NULL;
    for (char *t = strtok_r(ctl, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
        char w[64];
        struct err *e = NULL;
        snprintf(w, sizeof(w), "+%s", t);
        if (fs_write_str("/sys/fs/cgroup/cgroup.subtree_control", w, &e) < 0) {
            agent_log("enable cgroup controller %s: %s", t, e->msg);
            err_free(&e);
        }
    }
    return 0;
}

/* /dev/vdX whose serial is AGENT_ROOT_SERIAL; waits for the disk's probe. */
static int find_root_disk(char *dev, size_t len, struct err **err)
{
    for (int tries = 0; tries < 500; tries++) {
        _cleanup_closedir_ DIR *d = opendir("/sys/block");
        struct dirent *de;
        if (d == NULL)
            return err_sys(err, "open `/sys/block`");
        while ((de = readdir(d)) != NULL) {
            char p[300];
            _cleanup_free_ char *serial = NULL;
            size_t n;
            struct err *e = NULL;
            if (strncmp(de->d_name, "vd", 2) != 0)
                continue;
            snprintf(p, sizeof(p), "/sys/block/%s/serial", de->d_name);
            if (fs_read_file(p, &serial, &n, &e) < 0) {
                err_free(&e);
                continue;
            }
            serial[strcspn(serial, "\n")] = 0;
            if (strcmp(serial, AGENT_ROOT_SERIAL) == 0) {
                snprintf(dev, len, "/dev/%s", de->d_name);
                return 0;
            }
        }
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    return err_val(err, ENODEV, "no disk with serial `%s` in /sys/block", AGENT_ROOT_SERIAL);
}

int agent_boot_root(struct err **err)
{
    char dev[300];

    if (find_root_disk(dev, sizeof(dev), err) < 0)
        return -1;
    if (mount_one(dev, "/run/lower", "ext4", MS_RDONLY | MS_NODEV | MS_NOSUID, "noload", err) < 0 ||
        mount_one("tmpfs", "/run/rw", "tmpfs", MS_NODEV, "mode=0755", err) < 0)
        return err_wrap(err, "root image `%s`", dev);
    if ((mkdir("/run/rw/upper", 0755) < 0 && errno != EEXIST) ||
        (mkdir("/run/rw/work", 0755) < 0 && errno != EEXIST))
        return err_sys(err, "mkdir in `/run/rw`");
    if (mount_one("overlay", AGENT_ROOT, "overlay", 0,
                  "lowerdir=/run/lower,upperdir=/run/rw/upper,workdir=/run/rw/work", err) < 0)
        return -1;
    return 0;
}
