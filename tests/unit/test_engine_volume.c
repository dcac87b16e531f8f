/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Named volumes (src/engine/volume.h): create, remove, prune, and what the spec
 * composer calls: volume_mount_source (copy-up from the image, mounts) and
 * volume_release. Runs as root (chown, mknod, mount). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/db.h"
#include "engine/volume.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char root[] = "/tmp/isola-test-engine-volume-XXXXXX";
static char *state; /* <root>/state, the state root */

/* root/REL, with "%s" in REL replaced by name */
static char *sub(const char *rel, const char *name)
{
    const char *at = strstr(rel, "%s");
    char *p = NULL;
    int r = at && name ? asprintf(&p, "%s/%.*s%s%s", root, (int)(at - rel), rel, name, at + 2)
                       : asprintf(&p, "%s/%s", root, rel);

    if (r < 0)
        abort();
    return p;
}

static void put(const char *path, const char *data, mode_t mode, uid_t uid, gid_t gid)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data) ||
        fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
        abort();
    close(fd);
}

static char *ctr(struct db *db, const char *name)
{
    struct db_container c = {.name = (char *)name, .image_ref = (char *)"img"};
    struct db_container *out = NULL;
    struct err *e = NULL;
    char *id;

    if (db_container_insert(db, &c, &out, &e) < 0) {
        printf("# insert %s: %s\n", name, e->msg);
        abort();
    }
    id = strdup(out->id);
    db_container_free(out);
    return id;
}

/* The image: /data holds a file (0640, 123:456, a user xattr), a symlink to
 * the host's /etc/passwd (absolute: copied, never followed), two hard links, a
 * fifo, a subdirectory (0750, 7:8); /escape is a symlink to "/../../data"
 * that must resolve inside the image root. */
static char *make_image(void)
{
    char *img = sub("image", NULL);
    _cleanup_free_ char *d = sub("image/data", NULL), *f = sub("image/data/file", NULL),
                        *h = sub("image/data/hard", NULL), *s = sub("image/data/sub", NULL),
                        *l = sub("image/data/link", NULL), *p = sub("image/data/fifo", NULL),
                        *esc = sub("image/escape", NULL), *sf = sub("image/data/sub/x", NULL);

    if (mkdir(img, 0755) < 0 || mkdir(d, 0711) < 0 || chown(d, 11, 12) < 0 || chmod(d, 0711) < 0 ||
        mkdir(s, 0750) < 0 || chown(s, 7, 8) < 0)
        abort();
    put(f, "from the image\n", 04640, 123, 456);
    put(sf, "x\n", 0644, 0, 0);
    if (link(f, h) < 0 || symlink("/etc/passwd", l) < 0 || mkfifo(p, 0620) < 0 ||
        chmod(p, 0620) < 0 || symlink("/../../data", esc) < 0)
        abort();
    setxattr(f, "user.isola", "yes", 3, 0); /* ENOTSUP on an old tmpfs: checked below */
    return img;
}

static void test_create_remove(struct db *db)
{
    _cleanup_db_volume_ struct db_volume *v = NULL, *v2 = NULL, *anon = NULL;
    _cleanup_free_ char *data = sub("state/volumes/%s/_data", "web");
    struct err *e = NULL;
    struct stat st;
    bool created = false;
    struct volume_spec spec = {.name = "web", .labels = "{\"a\":\"1\"}"};

    ok(volume_create(db, state, &spec, &v, &created, &e) == 0 && created, "create web");
    if (v == NULL)
        return;
    is_str(v->mountpoint, data, "mountpoint: <state_root>/volumes/NAME/_data");
    ok(stat(v->mountpoint, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755 &&
           st.st_uid == 0,
       "_data is a directory 0755 root");
    ok(volume_create(db, state, &spec, &v2, &created, &e) == 0 && !created,
       "create of the same name and options again: the existing volume (Docker)");
    struct volume_spec other = {.name = "web", .options = "{\"type\":\"tmpfs\",\"device\":\"t\"}"};
    ok(volume_create(db, state, &other, NULL, NULL, &e) < 0 && e && e->code == EEXIST,
       "create of the same name with other options: EEXIST");
    printf("# %s\n", e ? e->msg : "");
    err_free(&e);
    struct volume_spec bad = {.name = "bad", .options = "{\"size\":\"1g\"}"};
    ok(volume_create(db, state, &bad, NULL, NULL, &e) < 0 && e && e->code == EINVAL &&
           strstr(e->msg, "invalid option key: \"size\""),
       "unknown driver option: EINVAL naming it");
    err_free(&e);
    struct volume_spec plug = {.name = "plug", .driver = "flocker"};
    ok(volume_create(db, state, &plug, NULL, NULL, &e) < 0 && e &&
           strstr(e->msg, "plugin \"flocker\" not found"),
       "unknown driver: refused");
    err_free(&e);
    struct volume_spec a = {0};
    ok(volume_create(db, state, &a, &anon, NULL, &e) == 0 && anon && strlen(anon->name) == 64 &&
           anon->anonymous,
       "no name: 64 hex digits, anonymous");

    _cleanup_free_ char *id = ctr(db, "user1");
    _cleanup_free_ char *host = NULL;
    ok(volume_mount_source(db, state, "web", NULL, "/data", id, &host, &e) == 0 && host &&
           strcmp(host, v->mountpoint) == 0,
       "mount_source of an existing volume: its _data");
    ok(volume_remove(db, state, "web", false, &e) < 0 && e && e->code == EBUSY,
       "rm while in use: EBUSY");
    if (e) {
        char want[200];
        snprintf(want, sizeof(want), "remove web: volume is in use - [%s]", id);
        is_str(e->msg, want, "Docker's message");
    }
    err_free(&e);
    ok(stat(v->mountpoint, &st) == 0, "the directory stays");
    ok(volume_release(db, "web", id, &e) == 0, "release");
    ok(volume_release(db, "web", id, &e) == 0, "release again: nothing to do");
    ok(volume_remove(db, state, "web", false, &e) == 0, "rm after release");
    _cleanup_free_ char *dir = sub("state/volumes/%s", "web");
    ok(!fs_exists(dir), "rm removed volumes/web");
    ok(volume_remove(db, state, "web", false, &e) < 0 && e && e->code == ENOENT,
       "rm again: ENOENT");
    err_free(&e);
    ok(volume_remove(db, state, "web", true, &e) == 0, "rm -f of a missing volume: success");

    /* prune: anonymous ones only unless all; never one in use; orphans too */
    _cleanup_free_ char *orphan = sub("volumes/%s/_data", "orphan");
    fs_mkdir_p(orphan, 0755, NULL);
    struct volume_spec named = {.name = "keep"},
                       lab = {.name = "labelled", .labels = "{\"t\":\"x\"}"};
    volume_create(db, state, &named, NULL, NULL, &e);
    volume_create(db, state, &lab, NULL, NULL, &e);
    _cleanup_free_ char *id2 = ctr(db, "user2");
    _cleanup_free_ char *h2 = NULL;
    volume_mount_source(db, state, "keep", NULL, "/x", id2, &h2, &e);
    _cleanup_strv_ char **removed = NULL;
    struct volume_prune_filter pf = {0};
    ok(volume_prune(db, state, &pf, &removed, NULL, &e) == 0 && removed && removed[0] &&
           strcmp(removed[0], anon->name) == 0 && removed[1] == NULL,
       "prune: only the anonymous volume");
    _cleanup_free_ char *odir = sub("state/volumes/%s", "orphan");
    ok(!fs_exists(odir), "prune removed a directory without a row");
    strv_free(removed);
    removed = NULL;
    const char *nolab[] = {"t=y", NULL};
    struct volume_prune_filter pl = {.all = true, .labels = nolab};
    ok(volume_prune(db, state, &pl, &removed, NULL, &e) == 0 && removed && removed[0] == NULL,
       "prune -a --filter label=t=y: nothing matches");
    strv_free(removed);
    removed = NULL;
    struct volume_prune_filter pa = {.all = true};
    ok(volume_prune(db, state, &pa, &removed, NULL, &e) == 0 && removed && removed[0] &&
           strcmp(removed[0], "labelled") == 0 && removed[1] == NULL,
       "prune -a: the unused named volume, not the one in use");
    volume_release(db, "keep", id2, &e);
    volume_remove(db, state, "keep", false, &e);
}

static void test_copy_up(struct db *db)
{
    _cleanup_free_ char *img = make_image();
    _cleanup_free_ char *id = ctr(db, "copy1"), *id2 = ctr(db, "copy2");
    _cleanup_free_ char *host = NULL, *host2 = NULL, *p = NULL;
    struct err *e = NULL;
    struct stat st, st2;
    char buf[64];

    ok(volume_mount_source(db, state, "filled", img, "/escape", id, &host, &e) == 0,
       "mount_source creates a missing volume and fills it from the image");
    if (e)
        printf("# %s\n", e->msg);
    if (host == NULL)
        return;
    ok(stat(host, &st) == 0 && st.st_uid == 11 && st.st_gid == 12 && (st.st_mode & 07777) == 0711,
       "the volume's root takes the image directory's owner and mode");
    if (asprintf(&p, "%s/file", host) < 0)
        abort();
    ok(stat(p, &st) == 0 && st.st_uid == 123 && st.st_gid == 456 && (st.st_mode & 07777) == 04640,
       "file: owner and mode (setuid kept after chown)");
    ssize_t n = getxattr(p, "user.isola", buf, sizeof(buf));
    _cleanup_free_ char *src = sub("image/data/file", NULL);
    if (getxattr(src, "user.isola", buf + 32, 8) == 3)
        ok(n == 3 && memcmp(buf, "yes", 3) == 0, "file: user xattr copied");
    else
        skip("no user xattrs on this /tmp");
    free(p);
    if (asprintf(&p, "%s/hard", host) < 0)
        abort();
    _cleanup_free_ char *f = NULL;
    if (asprintf(&f, "%s/file", host) < 0)
        abort();
    ok(stat(p, &st2) == 0 && stat(f, &st) == 0 && st.st_ino == st2.st_ino && st.st_nlink == 2,
       "hard links stay links");
    free(p);
    if (asprintf(&p, "%s/link", host) < 0)
        abort();
    n = readlink(p, buf, sizeof(buf) - 1);
    ok(n == 11 && memcmp(buf, "/etc/passwd", 11) == 0 && lstat(p, &st) == 0 && S_ISLNK(st.st_mode),
       "symlinks copied as symlinks");
    free(p);
    if (asprintf(&p, "%s/fifo", host) < 0)
        abort();
    ok(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0620, "fifo");
    free(p);
    if (asprintf(&p, "%s/sub/x", host) < 0)
        abort();
    _cleanup_free_ char *sd = NULL;
    if (asprintf(&sd, "%s/sub", host) < 0)
        abort();
    ok(fs_exists(p) && stat(sd, &st) == 0 && st.st_uid == 7 && (st.st_mode & 07777) == 0750,
       "subdirectory with its content, owner and mode");
    _cleanup_free_ char *tmp = sub("state/volumes/%s/_data.tmp", "filled");
    ok(!fs_exists(tmp), "no copy left behind");

    /* not empty now: the second container's image content is not copied */
    _cleanup_free_ char *newf = NULL;
    if (asprintf(&newf, "%s/mine", host) < 0)
        abort();
    put(newf, "user data\n", 0644, 0, 0);
    unlink(f);
    ok(volume_mount_source(db, state, "filled", img, "/data", id2, &host2, &e) == 0 &&
           fs_exists(newf) && !fs_exists(f),
       "a volume with content is not filled again");
    volume_release(db, "filled", id, &e);
    volume_release(db, "filled", id2, &e);

    /* nothing at that path in the image: an empty volume, no error */
    _cleanup_free_ char *h3 = NULL, *h4 = NULL;
    ok(volume_mount_source(db, state, "emptyvol", img, "/nonexistent", id, &h3, &e) == 0 && h3,
       "no content at the path in the image: empty volume");
    /* a second container whose image has content there: filled in place, the
     * first one's bind mount (the same directory) sees it */
    struct stat before, after;
    if (h3 == NULL || stat(h3, &before) < 0)
        abort();
    _cleanup_free_ char *seen = NULL;
    if (asprintf(&seen, "%s/file", h3) < 0)
        abort();
    ok(volume_mount_source(db, state, "emptyvol", img, "/data", id2, &h4, &e) == 0 &&
           stat(h3, &after) == 0 && after.st_ino == before.st_ino && fs_exists(seen),
       "an empty volume in use is filled in place, not swapped under its user");
    volume_release(db, "emptyvol", id, &e);
    volume_release(db, "emptyvol", id2, &e);
}

static void test_mounts(struct db *db)
{
    _cleanup_free_ char *id = ctr(db, "m1"), *id2 = ctr(db, "m2");
    _cleanup_free_ char *host = NULL, *host2 = NULL, *hostb = NULL;
    _cleanup_free_ char *bindsrc = sub("bindsrc", NULL), *marker = sub("bindsrc/marker", NULL);
    struct err *e = NULL;
    struct statfs sf;
    struct volume_spec t = {
        .name = "tmp", .options = "{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"}"};

    ok(volume_create(db, state, &t, NULL, NULL, &e) == 0, "create a tmpfs volume");
    ok(volume_mount_source(db, state, "tmp", NULL, "/t", id, &host, &e) == 0 && host &&
           statfs(host, &sf) == 0 && sf.f_type == 0x01021994 && sf.f_blocks * sf.f_bsize == 1 << 20,
       "first use mounts a 1 MiB tmpfs on _data");
    if (e)
        printf("# %s\n", e->msg);
    ok(volume_mount_source(db, state, "tmp", NULL, "/t", id2, &host2, &e) == 0, "second user");
    ok(volume_release(db, "tmp", id, &e) == 0 && host && statfs(host, &sf) == 0 &&
           sf.f_type == 0x01021994,
       "still mounted while a user is left");
    ok(volume_release(db, "tmp", id2, &e) == 0 && host && statfs(host, &sf) == 0 &&
           sf.f_type != 0x01021994,
       "unmounted when the last user is gone");

    if (mkdir(bindsrc, 0755) < 0)
        abort();
    put(marker, "host\n", 0644, 0, 0);
    char opts[600];
    snprintf(opts, sizeof(opts), "{\"type\":\"none\",\"device\":\"%s\",\"o\":\"bind\"}", bindsrc);
    struct volume_spec b = {.name = "bound", .options = opts};
    ok(volume_create(db, state, &b, NULL, NULL, &e) == 0, "create a bind volume");
    ok(volume_mount_source(db, state, "bound", NULL, "/b", id, &hostb, &e) == 0 && hostb,
       "mount_source binds the host directory");
    _cleanup_free_ char *seen = NULL;
    if (hostb && asprintf(&seen, "%s/marker", hostb) < 0)
        abort();
    ok(seen && fs_exists(seen), "the host directory's file shows in _data");
    /* a crash after the mount and before the release: rm must unmount, not
     * empty the host directory */
    ok(volume_release(db, "bound", id, &e) == 0, "release the bind volume");
    ok(seen && !fs_exists(seen), "unmounted at release");
    free(hostb);
    hostb = NULL;
    volume_mount_source(db, state, "bound", NULL, "/b", id, &hostb, &e);
    ok(db_volume_unuse(db, "bound", id, NULL, &e) == 0, "forget the use as a crash would leave it");
    ok(volume_remove(db, state, "bound", false, &e) == 0, "rm of a volume left mounted");
    ok(fs_exists(marker), "the host directory's content survives rm");
}

int main(void)
{
    struct db *db = NULL;
    struct err *e = NULL;

    alarm(120);
    if (geteuid() != 0) {
        skip("needs root (chown, mknod, mount)");
        return done_testing();
    }
    if (mkdtemp(root) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    state = sub("state", NULL);
    if (db_open(state, &db, &e) < 0) {
        printf("Bail out! %s\n", e->msg);
        return 1;
    }
    test_create_remove(db);
    test_copy_up(db);
    test_mounts(db);
    db_close(db);
    fs_rm_rf(root, NULL);
    return done_testing();
}
