/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Namespaces: create, join by path, id maps (config-linux.md "Namespaces"). */
#include "runtime/ns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int ns_clone_flags(const struct spec *s)
{
    int flags = 0;

    for (size_t i = 0; i < s->nns; i++)
        if (s->ns[i].path == NULL && s->ns[i].type != CLONE_NEWTIME &&
            s->ns[i].type != CLONE_NEWCGROUP)
            flags |= s->ns[i].type;
    return flags;
}

bool ns_needs_helper(const struct spec *s)
{
    for (size_t i = 0; i < s->nns; i++)
        if (s->ns[i].path != NULL || s->ns[i].type == CLONE_NEWTIME)
            return true;
    return false;
}

int ns_join_paths(const struct spec *s, struct err **err)
{
    int fds[SPEC_NS_MAX];
    size_t n = 0;
    int rc = 0;

    /* Open them all first: once in another mount namespace the paths would
     * resolve differently. */
    for (size_t k = 0; k < SPEC_NS_MAX; k++) {
        const struct spec_ns *ns = spec_ns_find(s, spec_ns_order[k]);
        if (ns == NULL || ns->path == NULL)
            continue;
        fds[n] = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (fds[n] < 0) {
            rc = err_sys(err, "linux.namespaces: open %s namespace `%s`", spec_ns_name(ns->type),
                         ns->path);
            goto out;
        }
        n++;
    }
    size_t i = 0;
    for (size_t k = 0; k < SPEC_NS_MAX; k++) {
        const struct spec_ns *ns = spec_ns_find(s, spec_ns_order[k]);
        if (ns == NULL || ns->path == NULL)
            continue;
        if (setns(fds[i], ns->type) < 0) {
            rc = err_sys(err, "linux.namespaces: join %s namespace `%s`", spec_ns_name(ns->type),
                         ns->path);
            goto out;
        }
        i++;
    }
out:
    for (size_t k = 0; k < n; k++)
        close(fds[k]);
    return rc;
}

int ns_unshare_time(const struct spec *s, struct err **err)
{
    const struct spec_ns *t = spec_ns_find(s, CLONE_NEWTIME);
    char buf[128];

    if (t == NULL || t->path != NULL)
        return 0;
    if (unshare(CLONE_NEWTIME) < 0)
        return err_sys(err, "linux.namespaces: unshare the time namespace");
    if (!s->has_time_offsets)
        return 0;
    /* time_namespaces(7): offsets are written before the first process enters */
    snprintf(buf, sizeof(buf), "monotonic %lld %lld\nboottime %lld %lld\n", (long long)s->mono_secs,
             (long long)s->mono_nsecs, (long long)s->boot_secs, (long long)s->boot_nsecs);
    if (fs_write_str("/proc/self/timens_offsets", buf, err) < 0)
        return err_wrap(err, "linux.timeOffsets");
    return 0;
}

static int write_map(pid_t pid, const char *file, const struct spec_idmap *m, size_t n,
                     struct err **err)
{
    char path[64];
    size_t cap = n * 40 + 1, len = 0;
    _cleanup_free_ char *buf = malloc(cap);

    if (buf == NULL)
        return err_set(err, ENOMEM, "%s", file);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                                m[i].size);
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "open `%s`", path);
    if (write(fd, buf, len) != (ssize_t)len)
        return err_sys(err, "linux.%s: write `%s`", file[0] == 'u' ? "uidMappings" : "gidMappings",
                       path);
    return 0;
}

int ns_write_idmaps(pid_t pid, const struct spec *s, struct err **err)
{
    const struct spec_ns *u = spec_ns_find(s, CLONE_NEWUSER);

    if (u == NULL || u->path != NULL)
        return 0;
    if (write_map(pid, "uid_map", s->uidmap, s->nuidmap, err) < 0 ||
        write_map(pid, "gid_map", s->gidmap, s->ngidmap, err) < 0)
        return -1;
    return 0;
}

int ns_join_pid(pid_t pid, struct err **err)
{
    int fds[SPEC_NS_MAX];
    int types[SPEC_NS_MAX];
    size_t n = 0;
    int rc = 0;

    for (size_t k = 0; k < SPEC_NS_MAX; k++) {
        char path[64], self[64];
        struct stat a, b;
        const char *name = spec_ns_proc_name(spec_ns_order[k]);
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
        snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
        if (stat(path, &a) < 0) {
            if (errno == ENOENT && spec_ns_order[k] == CLONE_NEWTIME)
                continue;
            rc = err_sys(err, "stat `%s`", path);
            goto out;
        }
        if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            continue;
        fds[n] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[n] < 0) {
            rc = err_sys(err, "open `%s`", path);
            goto out;
        }
        types[n++] = spec_ns_order[k];
    }
    for (size_t i = 0; i < n; i++)
        if (setns(fds[i], types[i]) < 0) {
            rc = err_sys(err, "join the %s namespace of pid %d", spec_ns_name(types[i]), pid);
            goto out;
        }
out:
    for (size_t k = 0; k < n; k++)
        close(fds[k]);
    return rc;
}
