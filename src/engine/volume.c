/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Named volumes: Docker's local driver over the state database (volume.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/volume.h"
#include "engine/volume_copy.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

#define VOLUMES_DIR "volumes"
#define LOCK_FILE   ".lock"
#define DATA_DIR    "_data"
#define COPY_TMP    "_data.tmp"

static char *join(const char *a, const char *b, const char *c)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
        return NULL;
    return p;
}

/* The one lock over a state root's volumes (see volume.h). */
static int volume_lock(const char *state_root, int *fd_out, struct err **err)
{
    _cleanup_free_ char *dir = join(state_root, VOLUMES_DIR, NULL);
    _cleanup_free_ char *path = join(state_root, VOLUMES_DIR, LOCK_FILE);
    _cleanup_close_ int fd = -1;

    if (dir == NULL || path == NULL)
        return err_set(err, ENOMEM, "volumes of `%s`", state_root);
    if (mkdir(dir, 0701) < 0 && errno != EEXIST)
        return err_sys(err, "mkdir `%s`", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return err_sys(err, "open `%s`", path);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return err_sys(err, "lock `%s`", path);
    *fd_out = steal_fd(&fd);
    return 0;
}

/* The state root of an open database (db_open's argument). */
static char *db_root(struct db *db)
{
    const char *p = db_path(db);
    const char *slash = strrchr(p, '/');

    return slash ? strndup(p, (size_t)(slash - p)) : strdup(".");
}

/* Whether path is the root of a mount (a bind of a directory of the same
 * file system included). */
static int is_mount_point(const char *path, bool *out, struct err **err)
{
    struct statx stx;

    *out = false;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_sys(err, "statx `%s`", path);
    }
    if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
        return err_set(err, ENOTSUP, "statx `%s`: the kernel does not report mount roots", path);
    *out = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    return 0;
}

static int umount_if_mounted(const char *path, struct err **err)
{
    bool mounted;

    for (int i = 0; i < 16; i++) { /* a mount may be stacked on another */
        if (is_mount_point(path, &mounted, err) < 0)
            return -1;
        if (!mounted)
            return 0;
        if (umount2(path, UMOUNT_NOFOLLOW) < 0 && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
            return err_sys(err, "umount `%s`", path);
    }
    return err_set(err, EBUSY, "umount `%s`: still a mount point", path);
}

/* <state_root>/volumes/NAME/_data, 0755, made again when missing. */
static int volume_dir_ensure(const char *state_root, const char *name, struct err **err)
{
    _cleanup_free_ char *dir = join(state_root, VOLUMES_DIR, name);
    _cleanup_free_ char *data = dir ? join(dir, DATA_DIR, NULL) : NULL;

    if (data == NULL)
        return err_set(err, ENOMEM, "volume \"%s\"", name);
    for (const char *p = dir; p != NULL; p = p == dir ? data : NULL) {
        if (mkdir(p, 0755) < 0) {
            if (errno != EEXIST)
                return err_sys(err, "volume \"%s\": mkdir `%s`", name, p);
        } else if (chmod(p, 0755) < 0) { /* whatever the umask */
            return err_sys(err, "volume \"%s\": chmod `%s`", name, p);
        }
    }
    return 0;
}

/* Remove <state_root>/volumes/NAME, unmounting its _data first: fs_rm_rf
 * never crosses a mount, so a bind-mounted host directory is never emptied. */
static int volume_dir_remove(const char *state_root, const char *name, struct err **err)
{
    _cleanup_free_ char *dir = join(state_root, VOLUMES_DIR, name);
    _cleanup_free_ char *data = dir ? join(dir, DATA_DIR, NULL) : NULL;

    if (data == NULL)
        return err_set(err, ENOMEM, "volume \"%s\"", name);
    if (umount_if_mounted(data, err) < 0 || fs_rm_rf(dir, err) < 0)
        return err_wrap(err, "remove volume \"%s\"", name);
    return 0;
}

/* ---- driver options ---- */

struct mount_opts {
    const char *type, *device, *o;
};

static int opts_parse(const char *name, const char *options_json, json_t **out,
                      struct mount_opts *m, struct err **err)
{
    static const char *const known[] = {"type", "device", "o", NULL};
    json_error_t je;
    _cleanup_json_ json_t *o = json_loads(options_json ? options_json : "{}", 0, &je);
    const char *k;
    json_t *v;

    memset(m, 0, sizeof(*m));
    if (o == NULL || !json_is_object(o))
        return err_val(err, EINVAL, "volume \"%s\": options: not a JSON object", name);
    json_object_foreach (o, k, v) {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok = ok || strcmp(k, known[i]) == 0;
        if (!ok || !json_is_string(v))
            return err_val(err, EINVAL, "create %s: invalid option key: \"%s\"", name, k);
    }
    m->type = json_string_value(json_object_get(o, "type"));
    m->device = json_string_value(json_object_get(o, "device"));
    m->o = json_string_value(json_object_get(o, "o"));
    if (m->type && !*m->type)
        m->type = NULL;
    if (m->type == NULL && (m->device || m->o))
        return err_val(err, EINVAL, "create %s: missing required option: \"type\"", name);
    if (m->type && (m->device == NULL || !*m->device))
        return err_val(err, EINVAL, "create %s: missing required option: \"device\"", name);
    if (m->type && strcmp(m->type, "none") == 0 &&
        (m->o == NULL || strstr(m->o, "bind") == NULL || m->device[0] != '/'))
        return err_val(err, EINVAL,
                       "create %s: type \"none\" needs o=bind and an absolute device path", name);
    *out = steal_ptr(&o);
    return 0;
}

static const struct {
    const char *word;
    bool clear;
    unsigned long flag;
} mount_flags[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

/* Docker's local driver: the words of `o` that are mount flags become flags,
 * the rest the file system's data; an NFS addr= host name is resolved, since
 * the kernel takes only addresses. */
static int opts_split(const char *name, const struct mount_opts *m, unsigned long *flags,
                      char **data, struct err **err)
{
    _cleanup_free_ char *copy = strdup(m->o ? m->o : "");
    _cleanup_free_ char *d = strdup("");
    char *save = NULL;

    *flags = 0;
    if (copy == NULL || d == NULL)
        return err_set(err, ENOMEM, "volume \"%s\"", name);
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        bool flag = false;
        char addr[INET6_ADDRSTRLEN + 8], *nd = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(mount_flags); i++)
            if (strcmp(w, mount_flags[i].word) == 0) {
                if (mount_flags[i].clear)
                    *flags &= ~mount_flags[i].flag;
                else
                    *flags |= mount_flags[i].flag;
                flag = true;
            }
        if (flag)
            continue;
        if (strcmp(m->type, "nfs") == 0 && strncmp(w, "addr=", 5) == 0) {
            struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
            int rc = getaddrinfo(w + 5, NULL, &hints, &res);
            if (rc != 0)
                return err_val(err, EHOSTUNREACH, "volume \"%s\": resolve addr=%s: %s", name, w + 5,
                               gai_strerror(rc));
            rc = getnameinfo(res->ai_addr, res->ai_addrlen, addr + 5, sizeof(addr) - 5, NULL, 0,
                             NI_NUMERICHOST);
            freeaddrinfo(res);
            if (rc != 0)
                return err_val(err, EHOSTUNREACH, "volume \"%s\": resolve addr=%s: %s", name, w + 5,
                               gai_strerror(rc));
            memcpy(addr, "addr=", 5);
            w = addr;
        }
        if (asprintf(&nd, "%s%s%s", d, *d ? "," : "", w) < 0)
            return err_set(err, ENOMEM, "volume \"%s\"", name);
        free(d);
        d = nd;
    }
    *data = steal_ptr(&d);
    return 0;
}

static int volume_do_mount(const char *name, const struct mount_opts *m, const char *target,
                           struct err **err)
{
    _cleanup_free_ char *data = NULL;
    unsigned long flags;

    if (opts_split(name, m, &flags, &data, err) < 0)
        return -1;
    if (strcmp(m->type, "none") == 0 || (flags & MS_BIND)) {
        unsigned long extra = flags & ~(MS_BIND | MS_REC);
        if (mount(m->device, target, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
            return err_sys(err, "volume \"%s\": bind `%s` on `%s`", name, m->device, target);
        if (extra && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | extra, NULL) < 0) {
            int e = errno;
            umount2(target, MNT_DETACH);
            errno = e;
            return err_sys(err, "volume \"%s\": remount `%s` with o=%s", name, target, m->o);
        }
        return 0;
    }
    if (mount(m->device, target, m->type, flags, *data ? data : NULL) < 0)
        return err_sys(err, "volume \"%s\": mount -t %s -o %s %s `%s`", name, m->type,
                       m->o ? m->o : "defaults", m->device, target);
    return 0;
}

/* ---- create, remove, prune ---- */

static int create_locked(struct db *db, const char *state_root, const struct volume_spec *spec,
                         struct db_volume **out, bool *created, struct err **err)
{
    _cleanup_db_volume_ struct db_volume *v = NULL;
    _cleanup_json_ json_t *want = NULL, *have = NULL;
    struct mount_opts m;
    const char *driver = spec->driver ? spec->driver : "local";
    const char *shown = spec->name ? spec->name : "";

    *created = false;
    if (strcmp(driver, "local") != 0)
        return err_val(err, EINVAL,
                       "create %s: error looking up volume plugin %s: plugin \"%s\" not found",
                       shown, driver, driver);
    if (opts_parse(shown, spec->options, &want, &m, err) < 0)
        return -1;
    if (spec->name != NULL) {
        _cleanup_err_ struct err *e = NULL;
        if (db_volume_get(db, spec->name, &v, &e) < 0 && e->code != ENOENT) {
            *err = steal_ptr(&e);
            return -1;
        }
    }
    if (v != NULL) {
        struct mount_opts hm;
        if (strcmp(v->driver, driver) != 0)
            return err_val(err, EEXIST,
                           "create %s: a volume with the name %s already exists with driver "
                           "\"%s\": volume name must be unique",
                           v->name, v->name, v->driver);
        if (opts_parse(v->name, v->options, &have, &hm, err) < 0)
            return -1;
        if (!json_equal(want, have)) {
            _cleanup_free_ char *asked = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
            return err_val(err, EEXIST,
                           "create %s: volume already exists with options %s, not %s: volume "
                           "name must be unique",
                           v->name, v->options, asked ? asked : "?");
        }
    } else {
        struct db_volume row = {.name = (char *)spec->name,
                                .driver = (char *)driver,
                                .options = (char *)spec->options,
                                .labels = (char *)spec->labels};
        if (db_volume_create(db, &row, &v, err) < 0)
            return -1;
        *created = true;
    }
    /* the row first, then the directory: a crash in between leaves a row that
     * `volume ls` shows and whose directory is made here again. */
    if (volume_dir_ensure(state_root, v->name, err) < 0)
        return -1;
    if (out != NULL)
        *out = steal_ptr(&v);
    return 0;
}

int volume_create(struct db *db, const char *state_root, const struct volume_spec *spec,
                  struct db_volume **out, bool *created, struct err **err)
{
    _cleanup_close_ int lock = -1;
    bool c;

    if (volume_lock(state_root, &lock, err) < 0)
        return -1;
    return create_locked(db, state_root, spec, out, created ? created : &c, err);
}

int volume_users(struct db *db, const char *name, char **users, struct err **err)
{
    return db_volume_users(db, name, users, err);
}

static int remove_locked(struct db *db, const char *state_root, const char *name, bool force,
                         struct err **err)
{
    _cleanup_db_volume_ struct db_volume *v = NULL;
    _cleanup_free_ char *users = NULL;
    _cleanup_err_ struct err *e = NULL;

    if (db_volume_get(db, name, &v, &e) < 0) {
        if (e->code == ENOENT && force)
            return 0;
        if (e->code == ENOENT) {
            err_free(&e);
            return err_val(err, ENOENT, "get %s: no such volume", name);
        }
        *err = steal_ptr(&e);
        return -1;
    }
    if (db_volume_users(db, name, &users, err) < 0)
        return -1;
    if (*users)
        return err_val(err, EBUSY, "remove %s: volume is in use - [%s]", name, users);
    /* the directory first, then the row (see volume.h) */
    if (volume_dir_remove(state_root, name, err) < 0)
        return -1;
    if (db_volume_remove(db, name, err) < 0)
        return -1;
    return 0;
}

int volume_remove(struct db *db, const char *state_root, const char *name, bool force,
                  struct err **err)
{
    _cleanup_close_ int lock = -1;

    if (volume_lock(state_root, &lock, err) < 0)
        return -1;
    return remove_locked(db, state_root, name, force, err);
}

/* label filters: "KEY", "KEY=VALUE", "!KEY", "!KEY=VALUE" (Docker's label!=) */
static bool labels_match(const char *labels_json, const char *const *filters)
{
    _cleanup_json_ json_t *l = json_loads(labels_json ? labels_json : "{}", 0, NULL);

    for (size_t i = 0; filters && filters[i]; i++) {
        const char *f = filters[i];
        bool neg = f[0] == '!';
        if (neg)
            f++;
        const char *eq = strchr(f, '=');
        _cleanup_free_ char *key = eq ? strndup(f, (size_t)(eq - f)) : strdup(f);
        json_t *v = key ? json_object_get(l, key) : NULL;
        bool hit = v != NULL &&
                   (eq == NULL || (json_is_string(v) && strcmp(json_string_value(v), eq + 1) == 0));
        if (hit == neg)
            return false;
    }
    return true;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 2) * sizeof(char *));

    if (nv == NULL)
        return -1;
    *v = nv;
    if ((nv[*n] = strdup(s)) == NULL)
        return -1;
    nv[++*n] = NULL;
    return 0;
}

/* Directories under volumes/ without a row: a crash between the removal of a
 * directory and its row cannot leave one (the directory goes first), but a
 * crash in an older isola or a hand-made directory could. */
static int sweep_orphans(struct db *db, const char *state_root, struct err **err)
{
    _cleanup_free_ char *dir = join(state_root, VOLUMES_DIR, NULL);
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;

    if (dir == NULL)
        return err_set(err, ENOMEM, "prune volumes");
    if ((d = opendir(dir)) == NULL)
        return errno == ENOENT ? 0 : err_sys(err, "opendir `%s`", dir);
    while ((errno = 0, de = readdir(d)) != NULL) {
        _cleanup_db_volume_ struct db_volume *v = NULL;
        _cleanup_err_ struct err *e = NULL;
        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
            continue;
        if (db_volume_get(db, de->d_name, &v, &e) == 0)
            continue;
        if (e->code != ENOENT) {
            *err = steal_ptr(&e);
            return -1;
        }
        if (volume_dir_remove(state_root, de->d_name, err) < 0)
            return -1;
    }
    return 0;
}

/* Inodes with several links already counted by dir_size. */
struct seen {
    ino_t *ino;
    size_t n, cap;
};

static bool seen_before(struct seen *s, ino_t ino)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->ino[i] == ino)
            return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        ino_t *n = realloc(s->ino, cap * sizeof(*n));
        if (n == NULL)
            return false; /* counted twice: a size, not a correctness matter */
        s->ino = n;
        s->cap = cap;
    }
    s->ino[s->n++] = ino;
    return false;
}

/* Bytes of the regular files below dirfd, not crossing mounts, an inode with
 * several links counted once (Docker's directory.Size). */
static uint64_t dir_size(int dirfd, dev_t dev, struct seen *seen, int depth)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    uint64_t sum = 0;

    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    while ((de = readdir(d)) != NULL && depth < 256) {
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
            continue;
        if (S_ISREG(st.st_mode) && (st.st_nlink == 1 || !seen_before(seen, st.st_ino))) {
            sum += (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode)) {
            _cleanup_close_ int sub =
                openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                sum += dir_size(sub, dev, seen, depth + 1);
        }
    }
    return sum;
}

uint64_t volume_path_size(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct seen seen = {0};
    struct stat st;
    uint64_t size;

    if (fd < 0 || fstat(fd, &st) < 0)
        return 0;
    size = dir_size(fd, st.st_dev, &seen, 0);
    free(seen.ino);
    return size;
}

static uint64_t volume_size(const char *state_root, const char *name)
{
    _cleanup_free_ char *dir = join(state_root, VOLUMES_DIR, name);
    _cleanup_free_ char *data = dir ? join(dir, DATA_DIR, NULL) : NULL;
    _cleanup_close_ int fd = -1;
    struct stat st;

    if (data == NULL)
        return 0;
    fd = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct seen seen = {0};
    uint64_t size;

    if (fd < 0 || fstat(fd, &st) < 0)
        return 0;
    size = dir_size(fd, st.st_dev, &seen, 0);
    free(seen.ino);
    return size;
}

int volume_prune(struct db *db, const char *state_root, const struct volume_prune_filter *f,
                 char ***removed, uint64_t *reclaimed, struct err **err)
{
    uint64_t bytes = 0;
    _cleanup_close_ int lock = -1;
    struct db_volume **list = NULL;
    _cleanup_strv_ char **names = calloc(1, sizeof(char *));
    size_t n = 0, count = 0;
    int r = 0;

    if (names == NULL)
        return err_set(err, ENOMEM, "prune volumes");
    if (volume_lock(state_root, &lock, err) < 0 || db_volume_list(db, &list, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && r == 0; i++) {
        _cleanup_free_ char *users = NULL;
        if (!(f->all || list[i]->anonymous) || !labels_match(list[i]->labels, f->labels))
            continue;
        if ((r = db_volume_users(db, list[i]->name, &users, err)) < 0 || *users)
            continue;
        uint64_t size = volume_size(state_root, list[i]->name);
        if ((r = remove_locked(db, state_root, list[i]->name, false, err)) < 0)
            break;
        bytes += size;
        if ((r = strv_push(&names, &count, list[i]->name)) < 0)
            err_set(err, ENOMEM, "prune volumes");
    }
    db_volume_list_free(list, n);
    if (r < 0 || sweep_orphans(db, state_root, err) < 0)
        return -1;
    if (removed != NULL)
        *removed = steal_ptr(&names);
    if (reclaimed != NULL)
        *reclaimed = bytes;
    return 0;
}

/* ---- use by containers ---- */

static int dir_is_empty(const char *path, bool *empty, struct err **err)
{
    _cleanup_closedir_ DIR *d = opendir(path);
    struct dirent *de;

    if (d == NULL)
        return err_sys(err, "opendir `%s`", path);
    *empty = true;
    while ((errno = 0, de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            *empty = false;
            break;
        }
    if (errno != 0)
        return err_sys(err, "readdir `%s`", path);
    return 0;
}

/*
 * Docker's copy of the image's content at container_path into an empty
 * volume. A plain volume is filled in _data.tmp and swapped with the empty
 * _data in one renameat2(RENAME_EXCHANGE), so a crash never leaves a half copy
 * that would look like data; a mounted one (tmpfs, bind, nfs), or one that
 * another container uses already (`in_place`), is filled in place.
 */
static int populate(const char *name, const char *voldir, const char *data, bool in_place,
                    const char *image_rootfs, const char *container_path, struct err **err)
{
    _cleanup_close_ int rootfd = -1, srcfd = -1, dstfd = -1, volfd = -1;
    _cleanup_free_ char *tmp = join(voldir, COPY_TMP, NULL);
    bool empty = false;

    if (tmp == NULL)
        return err_set(err, ENOMEM, "volume \"%s\"", name);
    if (dir_is_empty(data, &empty, err) < 0)
        return err_wrap(err, "volume \"%s\"", name);
    if (!empty)
        return 0;
    rootfd = open(image_rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, "volume \"%s\": image root `%s`", name, image_rootfs);
    {
        _cleanup_err_ struct err *e = NULL;
        srcfd = fs_open_in_root(rootfd, container_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, &e);
        if (srcfd < 0 && (e->code == ENOENT || e->code == ENOTDIR))
            return 0; /* nothing in the image there: an empty volume */
        if (srcfd < 0) {
            *err = steal_ptr(&e);
            return err_wrap(err, "volume \"%s\": image path `%s`", name, container_path);
        }
    }
    if (in_place) {
        dstfd = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dstfd < 0)
            return err_sys(err, "volume \"%s\": open `%s`", name, data);
        if (volume_copy_tree(srcfd, dstfd, err) < 0)
            return err_wrap(err, "volume \"%s\": copy `%s` from the image", name, container_path);
        return 0;
    }
    if (fs_rm_rf(tmp, err) < 0)
        return -1;
    if (mkdir(tmp, 0700) < 0)
        return err_sys(err, "volume \"%s\": mkdir `%s`", name, tmp);
    dstfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dstfd < 0)
        return err_sys(err, "volume \"%s\": open `%s`", name, tmp);
    if (volume_copy_tree(srcfd, dstfd, err) < 0)
        return err_wrap(err, "volume \"%s\": copy `%s` from the image", name, container_path);
    if (syncfs(dstfd) < 0)
        return err_sys(err, "volume \"%s\": syncfs `%s`", name, tmp);
    volfd = open(voldir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (volfd < 0)
        return err_sys(err, "volume \"%s\": open `%s`", name, voldir);
    if (renameat2(volfd, COPY_TMP, volfd, DATA_DIR, RENAME_EXCHANGE) < 0)
        return err_sys(err, "volume \"%s\": exchange `%s` and `%s`", name, tmp, data);
    fsync(volfd);
    return fs_rm_rf(tmp, err); /* the empty _data of before */
}

int volume_mount_source(struct db *db, const char *state_root, const char *name,
                        const char *image_rootfs, const char *container_path,
                        const char *container_id, char **host_dir, struct err **err)
{
    _cleanup_close_ int lock = -1;
    _cleanup_db_volume_ struct db_volume *v = NULL;
    _cleanup_json_ json_t *opts = NULL;
    _cleanup_free_ char *voldir = join(state_root, VOLUMES_DIR, name);
    _cleanup_free_ char *data = voldir ? join(voldir, DATA_DIR, NULL) : NULL;
    _cleanup_free_ char *tmp = voldir ? join(voldir, COPY_TMP, NULL) : NULL;
    struct volume_spec spec = {.name = name};
    struct mount_opts m;
    bool created, mounted = false;

    if (tmp == NULL)
        return err_set(err, ENOMEM, "volume \"%s\"", name);
    if (volume_lock(state_root, &lock, err) < 0)
        return -1;
    /* Docker's `-v NAME:/path` creates a missing volume; an existing one is
     * taken whatever its options (create_locked would compare them). */
    {
        _cleanup_err_ struct err *e = NULL;
        if (db_volume_get(db, name, &v, &e) < 0) {
            if (e->code != ENOENT) {
                *err = steal_ptr(&e);
                return -1;
            }
            if (create_locked(db, state_root, &spec, &v, &created, err) < 0)
                return -1;
        } else if (volume_dir_ensure(state_root, name, err) < 0) {
            return -1;
        }
    }
    if (opts_parse(name, v->options, &opts, &m, err) < 0)
        return -1;
    /* the use first: a crash after it leaves a use that the container's
     * removal forgets, never a mount nobody accounts for */
    if (db_volume_use(db, name, container_id, err) < 0)
        return -1;
    if (fs_rm_rf(tmp, err) < 0) /* a copy that a crash interrupted */
        return err_wrap(err, "volume \"%s\"", name);
    if (m.type != NULL) {
        if (is_mount_point(data, &mounted, err) < 0)
            return err_wrap(err, "volume \"%s\"", name);
        if (!mounted && volume_do_mount(name, &m, data, err) < 0)
            goto undo_use;
        mounted = true;
    }
    if (image_rootfs != NULL && container_path != NULL) {
        /* another user has _data bind-mounted: swapping the directory would
         * leave it the old one, so fill in place */
        _cleanup_free_ char *users = NULL;
        if (db_volume_users(db, name, &users, err) < 0)
            goto undo_use;
        bool shared = strchr(users, ',') != NULL;
        if (populate(name, voldir, data, mounted || shared, image_rootfs, container_path, err) < 0)
            goto undo_use;
    }
    if ((*host_dir = strdup(data)) == NULL) {
        err_set(err, ENOMEM, "volume \"%s\"", name);
        goto undo_use;
    }
    return 0;
undo_use : {
    _cleanup_err_ struct err *e = NULL;
    int left = 1;
    if (db_volume_unuse(db, name, container_id, &left, &e) == 0 && left == 0 && m.type != NULL)
        umount_if_mounted(data, &e);
    return -1;
}
}

int volume_release(struct db *db, const char *name, const char *container_id, struct err **err)
{
    _cleanup_free_ char *root = db_root(db);
    _cleanup_free_ char *voldir = root ? join(root, VOLUMES_DIR, name) : NULL;
    _cleanup_free_ char *data = voldir ? join(voldir, DATA_DIR, NULL) : NULL;
    _cleanup_close_ int lock = -1;
    _cleanup_db_volume_ struct db_volume *v = NULL;
    _cleanup_json_ json_t *opts = NULL;
    _cleanup_err_ struct err *e = NULL;
    struct mount_opts m;
    int left = 0;

    if (data == NULL)
        return err_set(err, ENOMEM, "volume \"%s\"", name);
    if (volume_lock(root, &lock, err) < 0)
        return -1;
    if (db_volume_get(db, name, &v, &e) < 0) {
        if (e->code == ENOENT)
            return 0;
        *err = steal_ptr(&e);
        return -1;
    }
    if (db_volume_unuse(db, name, container_id, &left, err) < 0)
        return -1;
    if (left > 0)
        return 0;
    if (opts_parse(name, v->options, &opts, &m, err) < 0)
        return -1;
    if (m.type != NULL && umount_if_mounted(data, err) < 0)
        return err_wrap(err, "release volume \"%s\"", name);
    return 0;
}
