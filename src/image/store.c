/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/ref.h"
#include "image/manifest.h"
#include "image/store.h"
#include "image/store_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

const char *store_default_root(const char *opt)
{
    return opt && *opt ? opt : STORE_DEFAULT_ROOT;
}

static char *path_join(const char *a, const char *b)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}

int store_open(const char *root, struct store **out, struct err **err)
{
    static const char *const dirs[] = {"blobs/sha256", "layers/sha256", "tmp"};
    _cleanup_free_ struct store *s = calloc(1, sizeof(*s));
    _cleanup_free_ char *p = NULL;

    if (s == NULL || (s->root = strdup(root)) == NULL)
        return err_set(err, ENOMEM, "open the image store `%s`", root);
    s->lockfd = -1;
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        free(p);
        p = path_join(root, dirs[i]);
        if (p == NULL || fs_mkdir_p(p, 0700, err) < 0)
            goto fail;
    }
    free(p);
    p = path_join(root, "oci-layout");
    if (!fs_exists(p)) {
        const char *layout = "{\"imageLayoutVersion\":\"" MT_OCI_LAYOUT_VERSION "\"}\n";
        if (fs_write_atomic(p, layout, strlen(layout), 0644, err) < 0)
            goto fail;
    }
    free(p);
    p = path_join(root, "index.json");
    if (!fs_exists(p)) {
        _cleanup_json_ json_t *idx = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                                               MT_OCI_INDEX, "manifests");
        if (idx == NULL || js_write_file(p, idx, 0644, err) < 0)
            goto fail;
    }
    free(p);
    p = path_join(root, "lock");
    s->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0) {
        err_sys(err, "open `%s`", p);
        goto fail;
    }
    if (flock(s->lockfd, LOCK_SH) < 0) {
        err_sys(err, "lock `%s`", p);
        goto fail;
    }
    store_tmp_sweep(s);
    *out = steal_ptr(&s);
    return 0;
fail:
    if (s->lockfd >= 0)
        close(s->lockfd);
    free(s->root);
    return err_wrap(err, "open the image store `%s`", root);
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    if (s->lockfd >= 0)
        close(s->lockfd);
    free(s->root);
    free(s);
}

int store_lock_exclusive(struct store *s, struct err **err)
{
    if (flock(s->lockfd, LOCK_EX) < 0)
        return err_sys(err, "lock the image store `%s`", s->root);
    return 0;
}

int store_mkdtemp(struct store *s, const char *what, char **path, struct err **err)
{
    char *p = NULL;

    if (asprintf(&p, "%s/tmp/%s-XXXXXX", s->root, what) < 0)
        return err_set(err, ENOMEM, "temporary directory");
    if (mkdtemp(p) == NULL) {
        err_sys(err, "create `%s`", p);
        free(p);
        return -1;
    }
    *path = p;
    return 0;
}

char *store_blob_path(struct store *s, const char *digest)
{
    char *p = NULL;

    if (!digest_valid(digest))
        return NULL;
    if (asprintf(&p, "%s/blobs/sha256/%s", s->root, digest_hex(digest)) < 0)
        return NULL;
    return p;
}

bool store_blob_exists(struct store *s, const char *digest)
{
    _cleanup_free_ char *p = store_blob_path(s, digest);

    return p && fs_exists(p);
}

static int check_digest(const char *what, const char *got, int64_t got_size, const char *expect,
                        int64_t expect_size, struct err **err)
{
    if (expect_size >= 0 && got_size != expect_size)
        return err_val(err, EBADMSG, "%s: size mismatch: expected %lld bytes, got %lld", what,
                       (long long)expect_size, (long long)got_size);
    if (expect && strcmp(got, expect) != 0)
        return err_val(err, EBADMSG, "%s: digest mismatch: expected %s, got %s", what, expect, got);
    return 0;
}

/* Rename a complete temporary file to its blob name. */
static int blob_commit(struct store *s, const char *tmp, const char *digest, struct err **err)
{
    _cleanup_free_ char *dst = store_blob_path(s, digest);
    _cleanup_free_ char *dir = NULL;
    _cleanup_close_ int dfd = -1;

    if (dst == NULL)
        return err_set(err, ENOMEM, "blob %s", digest);
    if (chmod(tmp, 0444) < 0)
        return err_sys(err, "chmod `%s`", tmp);
    if (rename(tmp, dst) < 0)
        return err_sys(err, "rename `%s` to `%s`", tmp, dst);
    dir = path_join(s->root, "blobs/sha256");
    if (dir && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
        fsync(dfd);
    return 0;
}

struct blob_writer {
    struct store *s;
    char *tmp;
    int fd;
    struct digest_ctx *c;
    int64_t size;
    char *what;
};

int store_blob_writer_new(struct store *s, const char *what, struct blob_writer **out,
                          struct err **err)
{
    struct blob_writer *w = calloc(1, sizeof(*w));

    if (w == NULL || (w->what = strdup(what)) == NULL || (w->c = digest_new()) == NULL) {
        if (w) {
            free(w->what);
            free(w);
        }
        return err_set(err, ENOMEM, "store %s", what);
    }
    w->s = s;
    w->fd = store_tmp_create(s, &w->tmp, err);
    if (w->fd < 0) {
        store_blob_writer_abort(w);
        return err_wrap(err, "a temporary file for %s", what);
    }
    *out = w;
    return 0;
}

int store_blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct err **err)
{
    digest_update(w->c, buf, len);
    w->size += (int64_t)len;
    return fs_write_all(w->fd, buf, len, w->tmp, err);
}

int64_t store_blob_writer_size(const struct blob_writer *w)
{
    return w->size;
}

int store_blob_writer_reset(struct blob_writer *w, struct err **err)
{
    struct digest_ctx *c = digest_new();

    if (c == NULL)
        return err_set(err, ENOMEM, "store %s", w->what);
    if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0) {
        digest_free(c);
        return err_sys(err, "truncate `%s`", w->tmp);
    }
    digest_free(w->c);
    w->c = c;
    w->size = 0;
    return 0;
}

void store_blob_writer_abort(struct blob_writer *w)
{
    if (w == NULL)
        return;
    if (w->tmp && w->tmp[0])
        unlink(w->tmp);
    store_tmp_forget(w->tmp);
    if (w->fd >= 0)
        close(w->fd);
    digest_free(w->c);
    free(w->tmp);
    free(w->what);
    free(w);
}

int store_blob_writer_commit(struct blob_writer *w, const char *expect, int64_t expect_size,
                             char out[DIGEST_LEN + 1], struct err **err)
{
    char got[DIGEST_LEN + 1];
    int r = -1;

    digest_final(w->c, got);
    w->c = NULL;
    if (check_digest(w->what, got, w->size, expect, expect_size, err) < 0)
        goto done;
    if (fsync(w->fd) < 0) {
        err_sys(err, "fsync `%s`", w->tmp);
        goto done;
    }
    if (blob_commit(w->s, w->tmp, got, err) < 0)
        goto done;
    store_tmp_forget(w->tmp);
    w->tmp[0] = '\0';
    memcpy(out, got, DIGEST_LEN + 1);
    r = 0;
done:
    store_blob_writer_abort(w);
    return r;
}

int store_blob_put_fd(struct store *s, int fd, const char *what, const char *expect,
                      int64_t expect_size, char out[DIGEST_LEN + 1], int64_t *size,
                      struct err **err)
{
    struct blob_writer *w = NULL;
    char buf[65536];

    if (expect && digest_check(expect, what, err) < 0)
        return -1;
    if (store_blob_writer_new(s, what, &w, err) < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_sys(err, "read %s", what);
            goto fail;
        }
        if (n == 0)
            break;
        if (expect_size >= 0 && w->size + n > expect_size) {
            err_val(err, EBADMSG, "%s: size mismatch: more than the expected %lld bytes", what,
                    (long long)expect_size);
            goto fail;
        }
        if (store_blob_writer_write(w, buf, (size_t)n, err) < 0)
            goto fail;
    }
    if (size)
        *size = w->size;
    return store_blob_writer_commit(w, expect, expect_size, out, err);
fail:
    store_blob_writer_abort(w);
    return -1;
}

int store_blob_put_buf(struct store *s, const void *buf, size_t len, const char *expect,
                       char out[DIGEST_LEN + 1], struct err **err)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int tfd = -1;
    char got[DIGEST_LEN + 1];

    digest_buf(buf, len, got);
    if (expect && check_digest("blob", got, (int64_t)len, expect, -1, err) < 0)
        return -1;
    if (store_blob_exists(s, got)) {
        memcpy(out, got, sizeof(got));
        return 0;
    }
    tfd = store_tmp_create(s, &tmp, err);
    if (tfd < 0)
        return err_wrap(err, "a temporary file for blob %s", got);
    if (fs_write_all(tfd, buf, len, tmp, err) < 0 || fsync(tfd) < 0 ||
        blob_commit(s, tmp, got, err) < 0) {
        if (err && *err == NULL)
            err_sys(err, "fsync `%s`", tmp);
        unlink(tmp);
        store_tmp_forget(tmp);
        return -1;
    }
    store_tmp_forget(tmp);
    memcpy(out, got, sizeof(got));
    return 0;
}

int store_blob_open(struct store *s, const char *digest, int64_t size, struct err **err)
{
    _cleanup_free_ char *p = NULL;
    _cleanup_close_ int fd = -1;
    char got[DIGEST_LEN + 1], what[DIGEST_LEN + 8];
    int64_t n = 0;

    if (digest_check(digest, "blob", err) < 0)
        return -1;
    p = store_blob_path(s, digest);
    if (p == NULL)
        return err_set(err, ENOMEM, "blob %s", digest);
    fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return err_set(err, ENOENT, "blob %s is missing from the store", digest);
        return err_sys(err, "open `%s`", p);
    }
    snprintf(what, sizeof(what), "blob %s", digest);
    if (digest_fd(fd, p, got, &n, err) < 0 || check_digest(what, got, n, digest, size, err) < 0)
        return -1;
    if (lseek(fd, 0, SEEK_SET) < 0)
        return err_sys(err, "seek `%s`", p);
    return steal_fd(&fd);
}

int store_blob_read(struct store *s, const char *digest, int64_t size, char **buf, size_t *len,
                    struct err **err)
{
    _cleanup_close_ int fd = store_blob_open(s, digest, size, err);

    if (fd < 0)
        return -1;
    return fs_read_fd(fd, digest, buf, len, err);
}

int store_blob_read_json(struct store *s, const char *digest, int64_t size, json_t **out,
                         struct err **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;

    if (store_blob_read(s, digest, size, &buf, &len, err) < 0)
        return -1;
    return js_load_buf(buf, len, digest, out, err);
}

char *store_ref_normalize(const char *ref)
{
    const char *slash = strrchr(ref, '/');
    const char *last = slash ? slash + 1 : ref;
    char *out = NULL;

    if (strchr(ref, '@') || strchr(last, ':'))
        return strdup(ref);
    if (asprintf(&out, "%s:latest", ref) < 0)
        return NULL;
    return out;
}

int store_index_load(struct store *s, json_t **index, struct err **err)
{
    _cleanup_free_ char *p = path_join(s->root, "index.json");
    json_t *m = NULL;

    if (p == NULL)
        return err_set(err, ENOMEM, "index.json");
    if (js_load_file(p, index, err) < 0)
        return -1;
    if (js_get_arr(*index, "index.json", "manifests", true, &m, err) < 0) {
        json_decref(*index);
        *index = NULL;
        return -1;
    }
    return 0;
}

/* Read-modify-write of index.json under index.lock. */
static int index_lock(struct store *s, struct err **err)
{
    _cleanup_free_ char *p = path_join(s->root, "index.lock");
    int fd;

    if (p == NULL)
        return err_set(err, ENOMEM, "index.lock");
    fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_sys(err, "open `%s`", p);
    if (flock(fd, LOCK_EX) < 0) {
        close(fd);
        return err_sys(err, "lock `%s`", p);
    }
    return fd;
}

static int index_save(struct store *s, json_t *index, struct err **err)
{
    _cleanup_free_ char *p = path_join(s->root, "index.json");

    if (p == NULL)
        return err_set(err, ENOMEM, "index.json");
    return js_write_file(p, index, 0644, err);
}

static const char *entry_ref(json_t *e)
{
    return json_string_value(json_object_get(json_object_get(e, "annotations"), ANNOT_REF_NAME));
}

int store_tag(struct store *s, const char *ref, const json_t *desc, struct err **err)
{
    _cleanup_close_ int lk = index_lock(s, err);
    _cleanup_json_ json_t *index = NULL, *entry = NULL;
    _cleanup_free_ char *norm = ref ? store_ref_normalize(ref) : NULL;
    json_t *manifests, *e;
    const char *digest = json_string_value(json_object_get(desc, "digest"));
    size_t i;

    if (lk < 0)
        return -1;
    if (ref && norm == NULL)
        return err_set(err, ENOMEM, "tag `%s`", ref);
    if (ref && ref_check(ref, err) < 0)
        return -1;
    if (store_index_load(s, &index, err) < 0)
        return -1;
    manifests = json_object_get(index, "manifests");
    entry = json_deep_copy(desc);
    if (entry == NULL)
        return err_set(err, ENOMEM, "tag");
    json_object_del(entry, "annotations");
    if (norm)
        json_object_set_new(entry, "annotations", json_pack("{s:s}", ANNOT_REF_NAME, norm));
    for (i = 0; i < json_array_size(manifests);) {
        e = json_array_get(manifests, i);
        const char *r = entry_ref(e);
        const char *d = json_string_value(json_object_get(e, "digest"));
        /* A tag moves; an untagged entry of the same image is now redundant. */
        if ((norm && r && strcmp(r, norm) == 0) ||
            (r == NULL && d && digest && strcmp(d, digest) == 0)) {
            json_array_remove(manifests, i);
            continue;
        }
        /* Untagged add of an image that is tagged already: nothing to do. */
        if (norm == NULL && d && digest && strcmp(d, digest) == 0)
            return 0;
        i++;
    }
    json_array_append(manifests, entry);
    if (index_save(s, index, err) < 0)
        return err_wrap(err, "tag `%s`", norm ? norm : digest);
    return 0;
}

/* Does entry e match name (reference, image ID or manifest digest prefix)? *by_id
 * tells the caller the match was by ID. */
static bool entry_matches(struct store *s, json_t *e, const char *name, const char *norm,
                          bool *by_id)
{
    const char *r = entry_ref(e);
    const char *d = json_string_value(json_object_get(e, "digest"));
    const char *hex = name;
    size_t n;

    *by_id = false;
    if (r && norm && strcmp(r, norm) == 0)
        return true;
    if (strncmp(hex, "sha256:", 7) == 0)
        hex += 7;
    n = strlen(hex);
    if (n < 4 || n > 64 || strspn(hex, "0123456789abcdef") != n)
        return false;
    *by_id = true;
    if (d && digest_valid(d) && strncmp(digest_hex(d), hex, n) == 0)
        return true;
    /* The image ID is the config digest (as `docker images` shows it). */
    _cleanup_json_ json_t *m = NULL;
    json_t *cfg;
    const char *mt = json_string_value(json_object_get(e, "mediaType"));
    if (!mt_is_manifest(mt) || store_blob_read_json(s, d, -1, &m, NULL) < 0)
        return false;
    cfg = json_object_get(json_object_get(m, "config"), "digest");
    return json_is_string(cfg) && digest_valid(json_string_value(cfg)) &&
           strncmp(digest_hex(json_string_value(cfg)), hex, n) == 0;
}

int store_untag(struct store *s, const char *name, struct err **err)
{
    _cleanup_close_ int lk = index_lock(s, err);
    _cleanup_json_ json_t *index = NULL;
    _cleanup_free_ char *norm = store_ref_normalize(name);
    json_t *manifests;
    int removed = 0;
    bool by_id;

    if (lk < 0)
        return -1;
    if (store_index_load(s, &index, err) < 0)
        return -1;
    manifests = json_object_get(index, "manifests");
    for (size_t i = 0; i < json_array_size(manifests);) {
        if (entry_matches(s, json_array_get(manifests, i), name, norm, &by_id)) {
            json_array_remove(manifests, i);
            removed++;
            continue;
        }
        i++;
    }
    if (removed == 0)
        return err_set(err, ENOENT, "image `%s`: not in the store", name);
    if (index_save(s, index, err) < 0)
        return err_wrap(err, "remove `%s`", name);
    return removed;
}

int store_resolve(struct store *s, const char *name, json_t **desc, struct err **err)
{
    _cleanup_json_ json_t *index = NULL;
    _cleanup_free_ char *norm = store_ref_normalize(name);
    json_t *manifests, *e, *found = NULL;
    bool by_id;
    size_t i;

    if (norm == NULL)
        return err_set(err, ENOMEM, "image `%s`", name);
    if (store_index_load(s, &index, err) < 0)
        return -1;
    manifests = json_object_get(index, "manifests");
    /* References first: a tag that looks like hex is still a tag. */
    json_array_foreach (manifests, i, e) {
        const char *r = entry_ref(e);
        if (r && strcmp(r, norm) == 0) {
            *desc = json_incref(e);
            return 0;
        }
    }
    json_array_foreach (manifests, i, e) {
        if (!entry_matches(s, e, name, NULL, &by_id))
            continue;
        const char *d = json_string_value(json_object_get(e, "digest"));
        if (found && strcmp(d, json_string_value(json_object_get(found, "digest"))) != 0)
            return err_val(err, EINVAL, "image `%s`: the ID prefix is ambiguous", name);
        found = e;
    }
    if (found == NULL)
        return err_set(err, ENOENT, "image `%s`: not in the store", name);
    *desc = json_incref(found);
    return 0;
}

static int set_add(json_t *set, const char *digest, int64_t size)
{
    return json_object_set_new(set, digest, json_integer(size));
}

int store_reach(struct store *s, const json_t *desc_in, json_t *set, struct err **err)
{
    struct desc d;
    _cleanup_json_ json_t *j = NULL;

    if (desc_parse((json_t *)desc_in, "descriptor", &d, err) < 0)
        return -1;
    set_add(set, d.digest, d.size);
    if (!mt_is_index(d.media_type) && !mt_is_manifest(d.media_type))
        return 0;
    if (store_blob_read_json(s, d.digest, d.size, &j, err) < 0)
        return -1;
    if (mt_is_index(d.media_type)) {
        json_t *ms = json_object_get(j, "manifests"), *m;
        size_t i;
        json_array_foreach (ms, i, m) {
            const char *cd = json_string_value(json_object_get(m, "digest"));
            /* A pull keeps only the platforms it selected. */
            if (cd && !store_blob_exists(s, cd))
                continue;
            if (store_reach(s, m, set, err) < 0)
                return err_wrap(err, "index %s", d.digest);
        }
        return 0;
    }
    struct manifest m;
    if (manifest_parse(j, d.digest, &m, err) < 0)
        return -1;
    set_add(set, m.config.digest, m.config.size);
    for (size_t i = 0; i < m.n_layers; i++)
        set_add(set, m.layers[i].digest, m.layers[i].size);
    manifest_release(&m);
    return 0;
}

static int reach_all(struct store *s, json_t **set, struct err **err)
{
    _cleanup_json_ json_t *index = NULL;
    json_t *e;
    size_t i;

    *set = json_object();
    if (*set == NULL)
        return err_set(err, ENOMEM, "image store");
    if (store_index_load(s, &index, err) < 0)
        return -1;
    json_array_foreach (json_object_get(index, "manifests"), i, e)
        if (store_reach(s, e, *set, err) < 0)
            return -1;
    return 0;
}

/* Remove entries of dir (a digest-named directory) that are not in keep. */
static int sweep(const char *dir, json_t *keep, bool *is_tmp_dir, int *removed, int64_t *bytes,
                 struct err **err)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return errno == ENOENT ? 0 : err_sys(err, "open `%s`", dir);
    while ((de = readdir(d)) != NULL) {
        char digest[8 + sizeof(de->d_name)];
        _cleanup_free_ char *p = NULL;
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
        if (keep && json_object_get(keep, digest))
            continue;
        p = path_join(dir, de->d_name);
        if (p == NULL)
            return err_set(err, ENOMEM, "prune");
        if (lstat(p, &st) == 0 && bytes)
            *bytes += st.st_size;
        if (fs_rm_rf(p, err) < 0)
            return -1;
        (*removed)++;
    }
    (void)is_tmp_dir;
    return 0;
}

/* Layer directories that a mounted overlayfs uses (running containers). */
static void layers_in_use(struct store *s, json_t *keep)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    _cleanup_free_ char *line = NULL, *prefix = NULL;
    size_t cap = 0;

    if (f == NULL || asprintf(&prefix, "%s/layers/sha256/", s->root) < 0)
        return;
    while (getline(&line, &cap, f) > 0) {
        for (char *p = strstr(line, prefix); p; p = strstr(p + 1, prefix)) {
            char digest[DIGEST_LEN + 1];
            snprintf(digest, sizeof(digest), "sha256:%.64s", p + strlen(prefix));
            if (digest_valid(digest))
                json_object_set_new(keep, digest, json_integer(-1));
        }
    }
}

/* Mounts left below ROOT/tmp by a killed build or bundle: with the exclusive
 * lock held no writer is alive, so every one of them is stale. */
static void unmount_stale(struct store *s)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    _cleanup_free_ char *line = NULL, *prefix = NULL;
    _cleanup_json_ json_t *mps = json_array();
    size_t cap = 0;

    if (f == NULL || mps == NULL || asprintf(&prefix, "%s/tmp/", s->root) < 0)
        return;
    while (getline(&line, &cap, f) > 0) {
        char mp[4096];
        /* Field 5 is the mount point (octal escapes are rare in our paths). */
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
            strncmp(mp, prefix, strlen(prefix)) == 0)
            json_array_append_new(mps, json_string(mp));
    }
    /* Deepest first. */
    for (size_t i = json_array_size(mps); i-- > 0;)
        umount2(json_string_value(json_array_get(mps, i)), MNT_DETACH);
}

int store_prune(struct store *s, struct store_gc_stats *st, struct err **err)
{
    _cleanup_json_ json_t *keep = NULL;
    _cleanup_free_ char *blobs = path_join(s->root, "blobs/sha256");
    _cleanup_free_ char *layers = path_join(s->root, "layers/sha256");
    _cleanup_free_ char *tmp = path_join(s->root, "tmp");

    memset(st, 0, sizeof(*st));
    if (blobs == NULL || layers == NULL || tmp == NULL)
        return err_set(err, ENOMEM, "prune");
    if (store_lock_exclusive(s, err) < 0)
        return -1;
    if (reach_all(s, &keep, err) < 0)
        return err_wrap(err, "prune: refusing to delete anything");
    unmount_stale(s);
    layers_in_use(s, keep);
    if (sweep(tmp, NULL, NULL, &st->tmp_removed, NULL, err) < 0 ||
        sweep(blobs, keep, NULL, &st->blobs_removed, &st->bytes_freed, err) < 0 ||
        sweep(layers, keep, NULL, &st->layers_removed, NULL, err) < 0)
        return err_wrap(err, "prune");
    return 0;
}

static int add_problem(char ***v, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int add_problem(char ***v, size_t *n, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL, **nv;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    nv = realloc(*v, (*n + 2) * sizeof(char *));
    if (nv == NULL || msg == NULL) {
        free(msg);
        if (nv)
            *v = nv;
        return -1;
    }
    nv[(*n)++] = msg;
    nv[*n] = NULL;
    *v = nv;
    return 0;
}

int store_check(struct store *s, char ***problems, struct err **err)
{
    _cleanup_json_ json_t *index = NULL;
    _cleanup_free_ char *blobs = path_join(s->root, "blobs/sha256");
    _cleanup_free_ char *layers = path_join(s->root, "layers/sha256");
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;
    size_t n = 0;
    json_t *e;
    size_t i;

    *problems = calloc(1, sizeof(char *));
    if (*problems == NULL || blobs == NULL || layers == NULL)
        return err_set(err, ENOMEM, "check");
    if (store_lock_exclusive(s, err) < 0)
        return -1;
    if (store_index_load(s, &index, err) < 0)
        return err_wrap(err, "check");
    /* Every blob's content matches its name. */
    d = opendir(blobs);
    if (d == NULL)
        return err_sys(err, "open `%s`", blobs);
    while ((de = readdir(d)) != NULL) {
        char digest[8 + sizeof(de->d_name)];
        _cleanup_err_ struct err *e2 = NULL;
        _cleanup_close_ int fd = -1;

        if (de->d_name[0] == '.')
            continue;
        snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
        if (!digest_valid(digest)) {
            add_problem(problems, &n, "blobs/sha256/%s: not a sha256 digest name", de->d_name);
            continue;
        }
        fd = store_blob_open(s, digest, -1, &e2);
        if (fd < 0)
            add_problem(problems, &n, "%s", e2->msg);
    }
    /* Every tagged image reaches present, well-formed blobs of the right size. */
    json_array_foreach (json_object_get(index, "manifests"), i, e) {
        _cleanup_json_ json_t *set = json_object();
        _cleanup_err_ struct err *e2 = NULL;
        const char *r = entry_ref(e);
        const char *k;
        json_t *v;

        if (store_reach(s, e, set, &e2) < 0) {
            add_problem(problems, &n, "image %s: %s", r ? r : "(untagged)", e2->msg);
            continue;
        }
        json_object_foreach (set, k, v) {
            _cleanup_err_ struct err *e3 = NULL;
            _cleanup_close_ int fd = store_blob_open(s, k, json_integer_value(v), &e3);
            if (fd < 0)
                add_problem(problems, &n, "image %s: %s", r ? r : "(untagged)", e3->msg);
        }
    }
    /* Layer directories are complete (renamed into place) and named by digest. */
    closedir(d);
    d = opendir(layers);
    while (d && (de = readdir(d)) != NULL) {
        char digest[8 + sizeof(de->d_name)];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
        if (!digest_valid(digest))
            add_problem(problems, &n, "layers/sha256/%s: incomplete or stray layer", de->d_name);
    }
    return (int)n;
}
