/* SPDX-License-Identifier: GPL-2.0-or-later */
/* transfer_save: images from the store to OCI layouts and docker-archives. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/archive_dl.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/transfer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

#define OCI_LAYOUT "{\"imageLayoutVersion\":\"" MT_OCI_LAYOUT_VERSION "\"}"

struct out {
    const char *path;
    char *tmp;         /* archive: temporary file renamed to path at the end */
    struct archive *a; /* archive output, or NULL for a directory */
    json_t *written;   /* names already written */
    bool stdio;        /* archive to stdout (`-o -`); tmp is then just "stdout" */
};

/* `-o -`: the archive goes to stdout as it is written (no temporary file). */
static int out_open_stdout(struct out *o, struct err **err)
{
    o->stdio = true;
    o->tmp = strdup("stdout");
    if (o->tmp == NULL)
        return err_set(err, ENOMEM, "save to stdout");
    o->a = sym_archive_write_new();
    if (o->a == NULL || sym_archive_write_set_format_pax_restricted(o->a) != ARCHIVE_OK ||
        sym_archive_write_open_fd(o->a, STDOUT_FILENO) != ARCHIVE_OK)
        return err_val(err, EIO, "write to stdout: %s",
                       o->a ? sym_archive_error_string(o->a) : "out of memory");
    return 0;
}

static int out_open(struct out *o, const char *path, bool archive, struct err **err)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    o->written = json_object();
    if (!archive)
        return fs_mkdir_p(path, 0755, err);
    if (strcmp(path, TRANSFER_STDIO) == 0)
        return out_open_stdout(o, err);
    if (asprintf(&o->tmp, "%s.tmp-%d", path, (int)getpid()) < 0)
        return err_set(err, ENOMEM, "save `%s`", path);
    o->a = sym_archive_write_new();
    if (o->a == NULL || sym_archive_write_set_format_pax_restricted(o->a) != ARCHIVE_OK ||
        sym_archive_write_open_filename(o->a, o->tmp) != ARCHIVE_OK)
        return err_val(err, EIO, "create `%s`: %s", o->tmp,
                       o->a ? sym_archive_error_string(o->a) : "out of memory");
    return 0;
}

static int out_close(struct out *o, bool ok, struct err **err)
{
    int r = 0;

    if (o->a) {
        if (sym_archive_write_close(o->a) != ARCHIVE_OK && ok)
            r = err_val(err, EIO, "write `%s`: %s", o->tmp, sym_archive_error_string(o->a));
        sym_archive_write_free(o->a);
        if (!o->stdio && ok && r == 0 && rename(o->tmp, o->path) < 0)
            r = err_sys(err, "rename `%s` to `%s`", o->tmp, o->path);
        if (!o->stdio && (!ok || r < 0))
            unlink(o->tmp);
    }
    free(o->tmp);
    json_decref(o->written);
    return r;
}

/*
 * The common start of writing name: 1 if it was written already (nothing to
 * do), else 0 with *path (directory output) set to its path, or with its tar
 * header written (size bytes of type follow).
 */
static int out_begin(struct out *o, const char *name, mode_t type, int64_t size, char **path,
                     struct err **err)
{
    struct archive_entry *e;
    int r;

    *path = NULL;
    if (json_object_get(o->written, name))
        return 1;
    json_object_set_new(o->written, name, json_true());
    if (o->a == NULL) {
        if (asprintf(path, "%s/%s", o->path, name) < 0) {
            *path = NULL;
            return err_set(err, ENOMEM, "save");
        }
        return 0;
    }
    e = sym_archive_entry_new();
    if (e == NULL)
        return err_set(err, ENOMEM, "save");
    sym_archive_entry_set_pathname(e, name);
    sym_archive_entry_set_filetype(e, type);
    sym_archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    sym_archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
    sym_archive_entry_set_mtime(e, time(NULL), 0);
    r = sym_archive_write_header(o->a, e);
    sym_archive_entry_free(e);
    if (r != ARCHIVE_OK)
        return err_val(err, EIO, "write `%s`: %s", o->tmp, sym_archive_error_string(o->a));
    return 0;
}

static int out_dir(struct out *o, const char *name, struct err **err)
{
    _cleanup_free_ char *p = NULL;
    int r = out_begin(o, name, AE_IFDIR, 0, &p, err);

    if (r != 0)
        return r < 0 ? -1 : 0;
    return p ? fs_mkdir_p(p, 0755, err) : 0;
}

static int out_buf(struct out *o, const char *name, const void *buf, size_t len, struct err **err)
{
    _cleanup_free_ char *p = NULL;
    int r = out_begin(o, name, AE_IFREG, (int64_t)len, &p, err);

    if (r != 0)
        return r < 0 ? -1 : 0;
    if (p)
        return fs_write_atomic(p, buf, len, 0644, err);
    if (sym_archive_write_data(o->a, buf, len) != (la_ssize_t)len)
        return err_val(err, EIO, "write `%s`: %s", o->tmp, sym_archive_error_string(o->a));
    return 0;
}

/* Copy fd (size bytes, from offset 0) to name. */
static int out_fd(struct out *o, const char *name, int fd, int64_t size, struct err **err)
{
    char buf[65536];
    _cleanup_close_ int dst = -1;
    _cleanup_free_ char *p = NULL;
    ssize_t n;
    int r = out_begin(o, name, AE_IFREG, size, &p, err);

    if (r != 0)
        return r < 0 ? -1 : 0;
    if (p) {
        dst = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (dst < 0)
            return err_sys(err, "create `%s`", p);
    }
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_sys(err, "read blob for `%s`", name);
        if (dst >= 0 && fs_write_all(dst, buf, (size_t)n, p, err) < 0)
            return -1;
        if (o->a && sym_archive_write_data(o->a, buf, (size_t)n) != n)
            return err_val(err, EIO, "write `%s`: %s", o->tmp, sym_archive_error_string(o->a));
    }
    return 0;
}

static int out_blob(struct out *o, struct store *s, const char *digest, int64_t size,
                    struct err **err)
{
    char name[DIGEST_LEN + 32];
    _cleanup_close_ int fd = store_blob_open(s, digest, size, err);

    if (fd < 0)
        return -1;
    snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(digest));
    return out_fd(o, name, fd, size, err);
}

static int save_oci(struct store *s, json_t *entries, struct out *o, struct err **err)
{
    _cleanup_json_ json_t *index =
        json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX, "manifests");
    _cleanup_json_ json_t *set = json_object();
    _cleanup_free_ char *text = NULL;
    const char *k;
    json_t *e, *v;
    size_t i;

    json_array_foreach (entries, i, e) {
        if (store_reach(s, e, set, err) < 0)
            return -1;
        json_array_append(json_object_get(index, "manifests"), e);
    }
    if (out_buf(o, "oci-layout", OCI_LAYOUT, strlen(OCI_LAYOUT), err) < 0 ||
        out_dir(o, "blobs", err) < 0 || out_dir(o, "blobs/sha256", err) < 0)
        return -1;
    json_object_foreach (set, k, v)
        if (out_blob(o, s, k, json_integer_value(v), err) < 0)
            return -1;
    text = js_dump(index);
    if (text == NULL)
        return err_set(err, ENOMEM, "index.json");
    /* index.json last: a reader sees the blobs it names. */
    return out_buf(o, "index.json", text, strlen(text), err);
}

/* Decompress a layer blob into a temporary file; digest is its diff_id. */
static int uncompressed_layer(struct store *s, const struct desc *l, char **tmp,
                              char digest[DIGEST_LEN + 1], int64_t *size, struct err **err)
{
    _cleanup_close_ int fd = store_blob_open(s, l->digest, l->size, err), out = -1;
    struct archive *a = NULL;
    struct archive_entry *e;
    struct digest_ctx *c = NULL;
    char buf[65536];
    la_ssize_t n;
    int r = -1;

    *size = 0;
    if (fd < 0)
        return -1;
    if (asprintf(tmp, "%s/tmp/layer-XXXXXX", s->root) < 0)
        return err_set(err, ENOMEM, "layer");
    out = mkostemp(*tmp, O_CLOEXEC);
    if (out < 0)
        return err_sys(err, "create `%s`", *tmp);
    a = sym_archive_read_new();
    c = digest_new();
    if (a == NULL || c == NULL) {
        err_set(err, ENOMEM, "layer");
        goto done;
    }
    sym_archive_read_support_filter_all(a);
    sym_archive_read_support_format_raw(a);
    if (sym_archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK ||
        sym_archive_read_next_header(a, &e) != ARCHIVE_OK) {
        err_val(err, EINVAL, "layer %s: %s", l->digest, sym_archive_error_string(a));
        goto done;
    }
    while ((n = sym_archive_read_data(a, buf, sizeof(buf))) > 0) {
        digest_update(c, buf, (size_t)n);
        *size += n;
        if (fs_write_all(out, buf, (size_t)n, *tmp, err) < 0)
            goto done;
    }
    if (n < 0) {
        err_val(err, EINVAL, "layer %s: %s", l->digest, sym_archive_error_string(a));
        goto done;
    }
    digest_final(c, digest);
    c = NULL;
    r = 0;
done:
    digest_free(c);
    if (a)
        sym_archive_read_free(a);
    if (r < 0) {
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
    }
    return r;
}

static int save_docker(struct store *s, json_t *entries, struct out *o, struct err **err)
{
    _cleanup_json_ json_t *list = json_array();
    _cleanup_free_ char *text = NULL;
    json_t *e;
    size_t i;

    json_array_foreach (entries, i, e) {
        _cleanup_image_ struct image *img = NULL;
        _cleanup_json_ json_t *layers = json_array(), *tags = json_array();
        char cfgname[80];
        const char *ref =
            json_string_value(json_object_get(json_object_get(e, "annotations"), ANNOT_REF_NAME));

        if (image_open_entry(s, e, NULL, &img, err) < 0)
            return -1;
        snprintf(cfgname, sizeof(cfgname), "%s.json", digest_hex(img->m.config.digest));
        {
            _cleanup_close_ int cfd =
                store_blob_open(s, img->m.config.digest, img->m.config.size, err);
            if (cfd < 0 || out_fd(o, cfgname, cfd, img->m.config.size, err) < 0)
                return -1;
        }
        for (size_t j = 0; j < img->m.n_layers; j++) {
            const struct desc *l = &img->m.layers[j];
            char dir[80], name[96], d[DIGEST_LEN + 1];
            _cleanup_free_ char *tmp = NULL;
            _cleanup_close_ int lfd = -1;
            int64_t size = 0;

            snprintf(dir, sizeof(dir), "%s", digest_hex(img->diff_ids[j]));
            snprintf(name, sizeof(name), "%s/layer.tar", dir);
            json_array_append_new(layers, json_string(name));
            if (json_object_get(o->written, name))
                continue;
            if (uncompressed_layer(s, l, &tmp, d, &size, err) < 0)
                return -1;
            lfd = open(tmp, O_RDONLY | O_CLOEXEC);
            unlink(tmp);
            if (lfd < 0)
                return err_sys(err, "open `%s`", tmp);
            if (strcmp(d, img->diff_ids[j]) != 0)
                return err_val(err, EBADMSG,
                               "layer %s: uncompressed digest %s is not the "
                               "config's diff_id %s",
                               l->digest, d, img->diff_ids[j]);
            if (out_dir(o, dir, err) < 0 || out_fd(o, name, lfd, size, err) < 0)
                return -1;
        }
        if (ref)
            json_array_append_new(tags, json_string(ref));
        json_array_append_new(list, json_pack("{s:s, s:O, s:O}", "Config", cfgname, "RepoTags",
                                              tags, "Layers", layers));
    }
    text = js_dump(list);
    if (text == NULL)
        return err_set(err, ENOMEM, "manifest.json");
    return out_buf(o, "manifest.json", text, strlen(text), err);
}

int transfer_save(struct store *s, char *const refs[], const char *path, enum transfer_format f,
                  struct err **err)
{
    _cleanup_json_ json_t *entries = json_array();
    struct out o;
    struct stat st;
    int r;

    if (archive_dl_load(err) < 0)
        return err_wrap(err, "save `%s`", path);
    for (size_t i = 0; refs[i]; i++) {
        _cleanup_json_ json_t *e = NULL, *found = NULL;
        _cleanup_free_ char *norm = store_ref_normalize(refs[i]);
        const char *have;
        if (store_resolve(s, refs[i], &found, err) < 0)
            return -1;
        e = json_deep_copy(found);
        if (e == NULL || norm == NULL)
            return err_set(err, ENOMEM, "save");
        /* The tag the image was asked by, else the one it has (asked by ID). */
        have =
            json_string_value(json_object_get(json_object_get(e, "annotations"), ANNOT_REF_NAME));
        if (have && strcmp(have, norm) != 0) {
            free(norm);
            norm = strdup(have);
            if (norm == NULL)
                return err_set(err, ENOMEM, "save");
        }
        json_object_del(e, "annotations");
        if (have)
            json_object_set_new(
                e, "annotations",
                json_pack("{s:s, s:s}", ANNOT_REF_NAME, norm, "io.containerd.image.name", norm));
        json_array_append(entries, e);
    }
    if (f == FMT_AUTO)
        f = (strcmp(path, TRANSFER_STDIO) != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                ? FMT_OCI_DIR
                : FMT_OCI_ARCHIVE;
    if (f == FMT_OCI_DIR && strcmp(path, TRANSFER_STDIO) == 0)
        return err_val(err, EINVAL,
                       "save to stdout (`-`): oci-dir is a directory; use "
                       "oci-archive or docker-archive");
    if (out_open(&o, path, f != FMT_OCI_DIR, err) < 0) {
        out_close(&o, false, NULL);
        return err_wrap(err, "save");
    }
    r = f == FMT_DOCKER ? save_docker(s, entries, &o, err) : save_oci(s, entries, &o, err);
    if (out_close(&o, r == 0, err) < 0)
        r = -1;
    return r < 0 ? err_wrap(err, "save `%s`", path) : 0;
}
