/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * docker cp (container_cp.h). A source (a tree walked from a directory fd,
 * or a tar stream) feeds a sink (a tree written under a directory fd, or a
 * tar stream) one entry at a time.
 */
#include "engine/container_cp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image/archive_dl.h"
#include "image/image.h"
#include "image/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"

#define RES_CTR  (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define RES_HOST (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

static int cp_openat2(int dfd, const char *path, int flags, unsigned long long resolve)
{
    struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = resolve};
    int fd;

    do
        fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
    while (fd < 0 && errno == EAGAIN);
    return fd;
}

/* ---- entries ---------------------------------------------------------- */

struct cp_entry {
    const char *name; /* BASE[/REST], as in the archive */
    struct stat st;
    const char *link;     /* a symlink's target */
    const char *hardlink; /* a tar hard link: the entry it names */
    /* the data of a regular file: at most st.st_size bytes */
    ssize_t (*read)(void *arg, void *buf, size_t len);
    void *read_arg;
};

struct cp_sink {
    int (*put)(struct cp_sink *k, const struct cp_entry *e, struct err **err);
    json_t *links; /* a walk's files with several links: "dev:ino" -> first name */
};

static ssize_t read_fd(void *arg, void *buf, size_t len)
{
    ssize_t n;

    do
        n = read(*(int *)arg, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

/* ---- source: a tree ---------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A kernel's view mounted in the tree (a running container's /proc, /sys):
 * its files describe the host, not the container's files; a copy of a tree
 * does not go into them (a copy that names one does). */
static bool pseudo_fs(int dfd)
{
    struct statfs sf;

    if (fstatfs(dfd, &sf) < 0)
        return false;
    switch ((unsigned long)sf.f_type) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
    case DEBUGFS_MAGIC:
    case TRACEFS_MAGIC:
    case SECURITYFS_MAGIC:
    case BPF_FS_MAGIC:
        return true;
    default:
        return false;
    }
}

/* Whether st's file was walked before (its first name is then k->links's
 * "-last"); records it otherwise. */
static bool hardlink_seen(json_t *links, const struct stat *st, const char *name)
{
    char key[64];
    json_t *first;

    snprintf(key, sizeof(key), "%ju:%ju", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino);
    first = json_object_get(links, key);
    if (first == NULL) {
        json_object_set_new(links, key, json_string(name));
        return false;
    }
    json_object_set(links, "-last", first);
    return true;
}

/* fd: an O_PATH fd of the entry, never followed (the container may change
 * the tree while we walk it: each step opens one name with O_NOFOLLOW);
 * top: the entry the user named. */
static int walk(int fd, const char *name, bool top, struct cp_sink *k, struct err **err)
{
    struct cp_entry e = {.name = name};
    _cleanup_close_ int data = -1;
    char link[PATH_MAX];

    if (fstat(fd, &e.st) < 0)
        return err_sys(err, "stat `%s`", name);
    if (S_ISSOCK(e.st.st_mode))
        return 0; /* tar has no sockets (Docker skips them too) */
    if (S_ISLNK(e.st.st_mode)) {
        ssize_t n = readlinkat(fd, "", link, sizeof(link) - 1);
        if (n < 0)
            return err_sys(err, "read the symlink `%s`", name);
        link[n] = '\0';
        e.link = link;
    } else if (S_ISREG(e.st.st_mode) && e.st.st_nlink > 1 && k->links &&
               hardlink_seen(k->links, &e.st, name)) {
        /* a hard link to a file copied before, as Docker's tar has it */
        e.hardlink = json_string_value(json_object_get(k->links, "-last"));
    } else if (S_ISREG(e.st.st_mode)) {
        /* reopen the very file we looked at, through our own fd */
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        data = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (data < 0)
            return err_sys(err, "open `%s`", name);
        e.read = read_fd;
        e.read_arg = &data;
    }
    if (k->put(k, &e, err) < 0)
        return -1;
    if (!S_ISDIR(e.st.st_mode))
        return 0;

    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return err_sys(err, "open the directory `%s`", name);
    if (!top && pseudo_fs(dfd)) {
        close(dfd);
        return 0; /* the directory alone */
    }
    _cleanup_closedir_ DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return err_sys(err, "read the directory `%s`", name);
    }
    _cleanup_strv_ char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n + 2 > cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof(char *));
            if (nn == NULL)
                return err_set(err, ENOMEM, "read the directory `%s`", name);
            names = nn;
        }
        if ((names[n] = strdup(de->d_name)) == NULL)
            return err_set(err, ENOMEM, "read the directory `%s`", name);
        names[++n] = NULL;
        errno = 0;
    }
    if (errno != 0)
        return err_sys(err, "read the directory `%s`", name);
    if (n > 0)
        qsort(names, n, sizeof(char *), name_cmp);
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *child = NULL;
        if (asprintf(&child, "%s/%s", name, names[i]) < 0)
            return err_set(err, ENOMEM, "copy `%s`", name);
        _cleanup_close_ int cfd = openat(dirfd(d), names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0) {
            if (errno == ENOENT)
                continue; /* gone meanwhile */
            return err_sys(err, "open `%s`", child);
        }
        if (walk(cfd, child, false, k, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- source: a tar stream ------------------------------------------------ */

static ssize_t read_archive(void *arg, void *buf, size_t len)
{
    la_ssize_t n = sym_archive_read_data(arg, buf, len);
    if (n < 0)
        errno = EIO;
    return n < 0 ? -1 : n;
}

static int tar_read(int fd, struct cp_sink *k, struct err **err)
{
    struct archive *a = sym_archive_read_new();
    struct archive_entry *ae;
    int rc = 0, r;

    if (a == NULL)
        return err_set(err, ENOMEM, "read the tar stream");
    sym_archive_read_support_format_tar(a);
    sym_archive_read_support_format_gnutar(a);
    sym_archive_read_support_filter_all(a);
    if (sym_archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
        rc = err_val(err, EIO, "read the tar stream: %s", sym_archive_error_string(a));
        goto out;
    }
    while ((r = sym_archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        struct cp_entry e = {.name = sym_archive_entry_pathname(ae)};
        if (e.name == NULL)
            continue;
        e.st.st_mode = sym_archive_entry_mode(ae);
        e.st.st_uid = (uid_t)sym_archive_entry_uid(ae);
        e.st.st_gid = (gid_t)sym_archive_entry_gid(ae);
        e.st.st_size = sym_archive_entry_size(ae);
        e.st.st_mtim.tv_sec = sym_archive_entry_mtime(ae);
        e.st.st_mtim.tv_nsec = sym_archive_entry_mtime_nsec(ae);
        e.link = sym_archive_entry_symlink(ae);
        e.hardlink = sym_archive_entry_hardlink(ae);
        if (e.hardlink != NULL)
            e.link = NULL;
        if (S_ISREG(e.st.st_mode) && e.hardlink == NULL) {
            e.read = read_archive;
            e.read_arg = a;
        }
        if (k->put(k, &e, err) < 0) {
            rc = -1;
            goto out;
        }
    }
    if (r != ARCHIVE_EOF)
        rc = err_val(err, EIO, "read the tar stream: %s", sym_archive_error_string(a));
out:
    sym_archive_read_free(a);
    return rc;
}

/* ---- sink: a tar stream -------------------------------------------------- */

struct tar_sink {
    struct cp_sink k;
    struct archive *a;
};

static int tar_put(struct cp_sink *k, const struct cp_entry *e, struct err **err)
{
    struct tar_sink *t = (struct tar_sink *)k;
    struct archive_entry *ae = sym_archive_entry_new();
    int rc = 0;

    if (ae == NULL)
        return err_set(err, ENOMEM, "tar entry `%s`", e->name);
    sym_archive_entry_copy_stat(ae, &e->st);
    sym_archive_entry_set_pathname(ae, e->name);
    sym_archive_entry_set_uname(ae, "");
    sym_archive_entry_set_gname(ae, "");
    if (e->link)
        sym_archive_entry_set_symlink(ae, e->link);
    if (e->hardlink)
        sym_archive_entry_set_hardlink(ae, e->hardlink);
    if (!S_ISREG(e->st.st_mode) || e->hardlink)
        sym_archive_entry_set_size(ae, 0);
    if (sym_archive_write_header(t->a, ae) != ARCHIVE_OK) {
        rc = err_val(err, EIO, "tar entry `%s`: %s", e->name, sym_archive_error_string(t->a));
        goto out;
    }
    if (e->read) {
        char buf[65536];
        off_t left = e->st.st_size;
        while (left > 0) {
            ssize_t n =
                e->read(e->read_arg, buf, left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf));
            if (n < 0) {
                rc = err_sys(err, "read `%s`", e->name);
                goto out;
            }
            if (n == 0)
                break; /* shrunk meanwhile: libarchive pads the entry */
            if (sym_archive_write_data(t->a, buf, (size_t)n) != n) {
                rc = err_val(err, EIO, "write `%s` to the tar stream: %s", e->name,
                             sym_archive_error_string(t->a));
                goto out;
            }
            left -= n;
        }
    }
out:
    sym_archive_entry_free(ae);
    return rc;
}

/* ---- sink: a tree --------------------------------------------------------- */

struct tree_sink {
    struct cp_sink k;
    int rootfd;
    unsigned long long resolve;
    const char *dir;     /* where entries go, under rootfd */
    const char *newbase; /* replaces each name's first component; NULL: kept */
    bool archive;        /* keep the entries' uid and gid */
    uid_t uid;
    gid_t gid;
};

/* The entry's path under rootfd, NULL when it is the destination itself. */
static int tree_path(struct tree_sink *t, const char *name, char **out, struct err **err)
{
    const char *p = name, *rest;

    *out = NULL;
    for (;;) { /* tar names may start with `/` or `./` */
        if (*p == '/')
            p++;
        else if (p[0] == '.' && p[1] == '/')
            p += 2;
        else
            break;
    }
    if (strcmp(p, ".") == 0)
        p = "";
    for (const char *c = p; *c;) { /* refuse `..` outright */
        size_t l = strcspn(c, "/");
        if (l == 2 && c[0] == '.' && c[1] == '.')
            return err_val(err, EINVAL, "refusing the entry `%s`: it names `..`", name);
        c += l;
        c += *c == '/';
    }
    rest = p;
    if (t->newbase) {
        rest = p + strcspn(p, "/");
        if (asprintf(out, "%s/%s%s", t->dir, t->newbase, rest) < 0)
            return err_set(err, ENOMEM, "copy `%s`", name);
    } else if (*p && asprintf(out, "%s/%s", t->dir, p) < 0) {
        return err_set(err, ENOMEM, "copy `%s`", name);
    }
    if (*out) { /* trailing slashes and `/.` */
        size_t l = strlen(*out);
        while (l > 1 && ((*out)[l - 1] == '/' || ((*out)[l - 1] == '.' && (*out)[l - 2] == '/')))
            (*out)[--l] = '\0';
        const char *b = strrchr(*out, '/');
        if (b && strcmp(b + 1, ".") == 0) {
            free(*out);
            *out = NULL;
        }
    }
    return 0;
}

static int set_owner_mode(struct tree_sink *t, int fd, const struct cp_entry *e, const char *path,
                          struct err **err)
{
    uid_t uid = t->archive ? e->st.st_uid : t->uid;
    gid_t gid = t->archive ? e->st.st_gid : t->gid;

    if (fchown(fd, uid, gid) < 0)
        return err_sys(err, "chown `%s`", path);
    if (fchmod(fd, e->st.st_mode & 07777) < 0)
        return err_sys(err, "chmod `%s`", path);
    return 0;
}

/* mkdir -p of dir under t's root, each step resolved as t resolves; an
 * O_PATH fd of dir, -1 with errno. */
static int tree_mkparents(struct tree_sink *t, char *dir)
{
    int fd = cp_openat2(t->rootfd, *dir == '/' ? "/" : ".", O_PATH | O_DIRECTORY, t->resolve);

    for (char *c = dir + (*dir == '/'); fd >= 0 && *c;) {
        size_t l = strcspn(c, "/");
        char save = c[l];
        c[l] = '\0';
        int next = cp_openat2(t->rootfd, dir, O_PATH | O_DIRECTORY, t->resolve);
        if (next < 0 && errno == ENOENT) {
            const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
            /* made here from fd, the parent resolved a moment ago */
            if (mkdirat(fd, base, 0755) == 0 || errno == EEXIST) {
                next = cp_openat2(t->rootfd, dir, O_PATH | O_DIRECTORY, t->resolve);
                if (next >= 0) {
                    char proc[64];
                    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", next);
                    if (chown(proc, t->uid, t->gid) < 0) {
                        close(next);
                        next = -1;
                    }
                }
            }
        }
        c[l] = save;
        int e = errno;
        close(fd);
        errno = e;
        fd = next;
        c += l;
        c += *c == '/';
    }
    return fd;
}

static int tree_put(struct cp_sink *k, const struct cp_entry *e, struct err **err)
{
    struct tree_sink *t = (struct tree_sink *)k;
    _cleanup_free_ char *path = NULL;
    _cleanup_close_ int pfd = -1, fd = -1;
    mode_t type = e->st.st_mode & S_IFMT;

    if (tree_path(t, e->name, &path, err) < 0)
        return -1;
    if (path == NULL)
        return 0; /* the destination directory itself: it exists */
    char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash == path)
        pfd = cp_openat2(t->rootfd, "/", O_PATH | O_DIRECTORY, t->resolve);
    else if (slash) {
        *slash = '\0';
        pfd = cp_openat2(t->rootfd, path, O_PATH | O_DIRECTORY, t->resolve);
        *slash = '/';
    } else
        pfd = cp_openat2(t->rootfd, ".", O_PATH | O_DIRECTORY, t->resolve);
    if (pfd < 0 && errno == ENOENT && slash && slash != path) {
        *slash = '\0'; /* a tar may name a file before (or without) its directory */
        pfd = tree_mkparents(t, path);
        *slash = '/';
    }
    if (pfd < 0)
        return err_sys(err, "open the directory of `%s`", path);

    if (type == S_IFDIR) {
        struct stat st;
        if (mkdirat(pfd, base, 0700) < 0) {
            if (errno != EEXIST)
                return err_sys(err, "mkdir `%s`", path);
            if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return err_sys(err, "stat `%s`", path);
            if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
                return 0; /* an existing directory keeps its owner and mode */
            return err_val(err, ENOTDIR, "cannot overwrite non-directory `%s` with a directory",
                           path);
        }
        fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return err_sys(err, "open `%s`", path);
        return set_owner_mode(t, fd, e, path, err);
    }
    if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT) {
        if (errno == EISDIR)
            return err_val(err, EISDIR, "cannot overwrite directory `%s` with a non-directory",
                           path);
        return err_sys(err, "replace `%s`", path);
    }
    if (e->hardlink) {
        _cleanup_free_ char *target = NULL;
        if (tree_path(t, e->hardlink, &target, err) < 0)
            return -1;
        _cleanup_close_ int tfd =
            target ? cp_openat2(t->rootfd, target, O_PATH | O_NOFOLLOW, t->resolve) : -1;
        if (tfd < 0 || linkat(tfd, "", pfd, base, AT_EMPTY_PATH) < 0)
            return err_sys(err, "hard link `%s` to `%s`", path, e->hardlink);
        return 0;
    }
    if (type == S_IFLNK) {
        uid_t uid = t->archive ? e->st.st_uid : t->uid;
        gid_t gid = t->archive ? e->st.st_gid : t->gid;
        struct timespec ts[2] = {e->st.st_mtim, e->st.st_mtim};
        if (symlinkat(e->link ? e->link : "", pfd, base) < 0)
            return err_sys(err, "symlink `%s`", path);
        if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return err_sys(err, "chown `%s`", path);
        utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
    }
    if (type == S_IFIFO) {
        if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0)
            return err_sys(err, "mkfifo `%s`", path);
        fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return err_sys(err, "open `%s`", path);
        /* fchown/fchmod do not take O_PATH fds: through our own fd */
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        uid_t uid = t->archive ? e->st.st_uid : t->uid;
        gid_t gid = t->archive ? e->st.st_gid : t->gid;
        if (chown(proc, uid, gid) < 0 || chmod(proc, e->st.st_mode & 07777) < 0)
            return err_sys(err, "chown `%s`", path);
        return 0;
    }
    if (type != S_IFREG) {
        log_warn("skipping `%s`: device nodes are not copied", e->name);
        return 0;
    }
    fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_sys(err, "create `%s`", path);
    if (e->read) {
        char buf[65536];
        off_t left = e->st.st_size;
        while (left > 0) {
            ssize_t n =
                e->read(e->read_arg, buf, left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf));
            if (n < 0)
                return err_sys(err, "read `%s`", e->name);
            if (n == 0)
                break;
            if (fs_write_all(fd, buf, (size_t)n, path, err) < 0)
                return -1;
            left -= n;
        }
    }
    if (set_owner_mode(t, fd, e, path, err) < 0)
        return -1;
    struct timespec ts[2] = {e->st.st_mtim, e->st.st_mtim};
    futimens(fd, ts);
    return 0;
}

/* ---- Docker's rules -------------------------------------------------------- */

/* stat of path on side end, following symlinks (in the container's root). */
static int end_stat(const struct ctr_cp_end *end, const char *path, bool follow, struct stat *st)
{
    if (!end->in_root)
        return follow ? stat(path, st) : lstat(path, st);
    _cleanup_close_ int fd =
        cp_openat2(end->rootfd, path, O_PATH | (follow ? 0 : O_NOFOLLOW), RES_CTR);
    if (fd < 0)
        return -1;
    return fstat(fd, st);
}

/* A copy of path without trailing `/` (and `/.` when dot); "/" stays. */
static char *strip_tail(const char *path, bool dot)
{
    char *s = strdup(path);
    size_t l = s ? strlen(s) : 0;

    while (s && l > 1) {
        if (s[l - 1] == '/')
            s[--l] = '\0';
        else if (dot && l >= 2 && s[l - 1] == '.' && s[l - 2] == '/')
            s[--l] = '\0';
        else
            break;
    }
    return s;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t l = strlen(s), t = strlen(tail);
    return l >= t && strcmp(s + l - t, tail) == 0;
}

/* Docker follows a symlink at DEST in the container (in its scope): the
 * path it leads to, resolved here one link at a time as a path in the root
 * (every lookup of it is RESOLVE_IN_ROOT). path itself when it is no link. */
static int follow_dest(const struct ctr_cp_end *end, char **path, struct err **err)
{
    for (int hops = 0; hops < 40; hops++) {
        _cleanup_close_ int fd = cp_openat2(end->rootfd, *path, O_PATH | O_NOFOLLOW, RES_CTR);
        struct stat st;
        char link[PATH_MAX];
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode))
            return 0;
        ssize_t n = readlinkat(fd, "", link, sizeof(link) - 1);
        if (n < 0)
            return err_sys(err, "read the symlink `%s`", *path);
        link[n] = '\0';
        char *next = NULL, *slash = strrchr(*path, '/');
        if (link[0] == '/' || slash == NULL)
            next = strdup(link);
        else if (asprintf(&next, "%.*s/%s", (int)(slash - *path), *path, link) < 0)
            next = NULL;
        if (next == NULL)
            return err_set(err, ENOMEM, "copy to `%s`", *path);
        free(*path);
        *path = next;
    }
    return err_set(err, ELOOP, "copy to `%s`", *path);
}

/* The directory entries go to and the name that replaces their first
 * component, from docker-cp(1)'s table. */
static int plan(const struct ctr_cp_end *dst, bool src_dir, bool contents, char **dir,
                char **newbase, struct err **err)
{
    const char *dest = dst->path;
    struct stat st;
    _cleanup_free_ char *d = strip_tail(dest, false);

    if (d == NULL)
        return err_set(err, ENOMEM, "copy to `%s`", dest);
    if (dst->in_root && !ends_with(dest, "/") && follow_dest(dst, &d, err) < 0)
        return -1;
    if (end_stat(dst, d, true, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            *dir = steal_ptr(&d);
            *newbase = contents ? strdup(".") : NULL;
            return 0;
        }
        if (src_dir)
            return err_val(err, ENOTDIR, "cannot copy a directory to the file `%s`", dest);
        if (ends_with(dest, "/"))
            return err_val(err, ENOTDIR, "`%s` is not a directory", dest);
    } else if (errno != ENOENT) {
        return err_sys(err, "stat `%s`", dest);
    } else if (!src_dir && ends_with(dest, "/")) {
        return err_val(err, ENOENT, "the destination directory `%s` does not exist", dest);
    }
    /* a new (or replaced) file, or a new directory: named by DEST */
    char *slash = strrchr(d, '/');
    if (slash == NULL) {
        *dir = strdup(".");
        *newbase = strdup(d);
    } else {
        *newbase = strdup(slash + 1);
        *slash = '\0';
        *dir = strdup(slash == d ? "/" : d);
    }
    if (*dir == NULL || *newbase == NULL)
        return err_set(err, ENOMEM, "copy to `%s`", dest);
    if (end_stat(dst, *dir, true, &st) < 0 || !S_ISDIR(st.st_mode))
        return err_val(err, ENOENT, "the destination directory `%s` does not exist", *dir);
    return 0;
}

static int tree_sink_init(struct tree_sink *t, const struct ctr_cp_end *dst, const char *dir,
                          const char *newbase, const struct ctr_cp_opts *o, int *hostfd,
                          struct err **err)
{
    *t = (struct tree_sink){.k.put = tree_put,
                            .newbase = newbase,
                            .archive = o->archive,
                            .uid = dst->uid,
                            .gid = dst->gid};
    if (dst->in_root) {
        t->rootfd = dst->rootfd;
        t->resolve = RES_CTR;
        t->dir = dir;
        return 0;
    }
    /* the host: the destination directory as the user named it, then
     * nothing but real directories below it (what the source holds may
     * have made symlinks there) */
    *hostfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*hostfd < 0)
        return err_sys(err, "open `%s`", dir);
    t->rootfd = *hostfd;
    t->resolve = RES_HOST;
    t->dir = ".";
    return 0;
}

int ctr_cp(const struct ctr_cp_end *src, const struct ctr_cp_end *dst, const struct ctr_cp_opts *o,
           struct err **err)
{
    _cleanup_free_ char *dir = NULL, *newbase = NULL, *sp = NULL;
    _cleanup_close_ int sfd = -1, hostfd = -1;
    _cleanup_json_ json_t *links = json_object();
    struct tree_sink t;
    struct stat st;

    if (archive_dl_load(err) < 0)
        return -1;
    if (src->path == NULL) { /* a tar stream into a directory */
        if (dst->path == NULL)
            return err_val(err, EINVAL, "copy: a tar stream needs a destination directory");
        if (end_stat(dst, dst->path, true, &st) < 0)
            return err_sys(err, "the destination `%s`", dst->path);
        if (!S_ISDIR(st.st_mode))
            return err_val(err, ENOTDIR, "the destination `%s` must be a directory", dst->path);
        if (tree_sink_init(&t, dst, dst->path, NULL, o, &hostfd, err) < 0)
            return -1;
        return tar_read(src->fd, &t.k, err) < 0 ? err_wrap(err, "copy into `%s`", dst->path) : 0;
    }

    bool contents = ends_with(src->path, "/.") || strcmp(src->path, ".") == 0;
    sp = strip_tail(src->path, true);
    if (sp == NULL)
        return err_set(err, ENOMEM, "copy `%s`", src->path);
    /* -L follows a symlink named by SRC; symlinks on the way are followed
     * anyway (inside the container's root) */
    bool follow = o->follow || ends_with(src->path, "/");
    if (src->in_root)
        sfd = cp_openat2(src->rootfd, sp, O_PATH | (follow ? 0 : O_NOFOLLOW), RES_CTR);
    else
        sfd = open(sp, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    if (sfd < 0 || fstat(sfd, &st) < 0)
        return err_sys(err, "could not find the file `%s`", src->path);
    if (!S_ISDIR(st.st_mode) && ends_with(src->path, "/"))
        return err_val(err, ENOTDIR, "`%s` is not a directory", src->path);
    const char *b = strrchr(sp, '/');
    const char *base = b ? b + 1 : sp;
    if (*base == '\0')
        base = "."; /* the root */
    if (strcmp(base, ".") == 0)
        contents = true;

    if (dst->path == NULL) { /* a tar stream out */
        struct tar_sink ts = {.k.put = tar_put, .k.links = links, .a = sym_archive_write_new()};
        int rc = 0;
        if (ts.a == NULL || sym_archive_write_set_format_pax_restricted(ts.a) != ARCHIVE_OK ||
            sym_archive_write_open_fd(ts.a, dst->fd) != ARCHIVE_OK) {
            rc = err_val(err, EIO, "write a tar stream: %s",
                         ts.a ? sym_archive_error_string(ts.a) : "out of memory");
        } else if (walk(sfd, base, true, &ts.k, err) < 0) {
            rc = err_wrap(err, "copy `%s`", src->path);
        } else if (sym_archive_write_close(ts.a) != ARCHIVE_OK) {
            rc = err_val(err, EIO, "write a tar stream: %s", sym_archive_error_string(ts.a));
        }
        if (ts.a)
            sym_archive_write_free(ts.a);
        return rc;
    }
    if (plan(dst, S_ISDIR(st.st_mode), contents && S_ISDIR(st.st_mode), &dir, &newbase, err) < 0)
        return err_wrap(err, "copy `%s`", src->path);
    if (tree_sink_init(&t, dst, dir, newbase, o, &hostfd, err) < 0)
        return err_wrap(err, "copy `%s` to `%s`", src->path, dst->path);
    t.k.links = links;
    if (walk(sfd, base, true, &t.k, err) < 0)
        return err_wrap(err, "copy `%s` to `%s`", src->path, dst->path);
    return 0;
}

/* ---- the container's root -------------------------------------------------- */

int ctr_cp_open_root(const struct ctr_env *env, struct store *s, const struct db_container *c,
                     int *rootfd, struct err **err)
{
    _cleanup_free_ char *bundle = ctr_bundle_dir(env, c->id), *rootfs = NULL, *upper = NULL;
    struct stat sb, sr, sp;

    if (bundle == NULL || asprintf(&rootfs, "%s/rootfs", bundle) < 0 ||
        asprintf(&upper, "%s/upper", bundle) < 0)
        return err_set(err, ENOMEM, "container %s: its root", c->id);
    if (stat(bundle, &sb) < 0 || stat(rootfs, &sr) < 0)
        return err_sys(err, "container %s: its root `%s`", c->id, rootfs);
    if (sb.st_dev == sr.st_dev && fs_exists(upper)) {
        /* a reboot unmounted the overlay: mount it for this process only */
        _cleanup_image_ struct image *img = NULL;
        bool mounted = false;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
            return err_sys(err, "container %s: a private mount namespace", c->id);
        if (image_open(s, c->image_id, NULL, &img, err) < 0 ||
            layer_rootfs(s, img, bundle, false, &mounted, err) < 0 || stat(rootfs, &sr) < 0)
            return err_wrap(err, "container %s: mount its root `%s`", c->id, rootfs);
    }
    if (c->pid > 0 && (c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_PAUSED)) {
        /* the workload's own view (its volumes and tmpfs mounts), when the
         * pid is still the one whose root is this bundle's */
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/%d/root", (int)c->pid);
        int fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &sp) == 0 && sp.st_dev == sr.st_dev && sp.st_ino == sr.st_ino) {
            *rootfd = fd;
            return 0;
        }
        if (fd >= 0)
            close(fd);
    }
    *rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*rootfd < 0)
        return err_sys(err, "container %s: open its root `%s`", c->id, rootfs);
    return 0;
}
