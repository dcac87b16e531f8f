/* SPDX-License-Identifier: GPL-2.0-or-later */
/* transfer_load: OCI layouts and docker-archives into the store. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include "image/ref.h"
#include "image/archive_dl.h"
#include "image/diff.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/transfer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

int transfer_parse_format(const char *s, enum transfer_format *f, struct err **err)
{
    if (s == NULL || strcmp(s, "auto") == 0)
        *f = FMT_AUTO;
    else if (strcmp(s, "oci-dir") == 0 || strcmp(s, "oci") == 0)
        *f = FMT_OCI_DIR;
    else if (strcmp(s, "oci-archive") == 0)
        *f = FMT_OCI_ARCHIVE;
    else if (strcmp(s, "docker-archive") == 0 || strcmp(s, "docker") == 0)
        *f = FMT_DOCKER;
    else
        return err_val(err, EINVAL, "format `%s`: expected oci-dir, oci-archive or docker-archive",
                       s);
    return 0;
}

static int strv_add(char ***v, const char *s)
{
    size_t n = 0;
    char **nv;

    while (*v && (*v)[n])
        n++;
    nv = realloc(*v, (n + 2) * sizeof(char *));
    if (nv == NULL)
        return -1;
    *v = nv;
    nv[n] = strdup(s);
    nv[n + 1] = NULL;
    return nv[n] ? 0 : -1;
}

/* Copy blob d of the layout at dirfd into the store (checked on the way in). */
static int put_layout_blob(struct store *s, int dirfd, const struct desc *d, struct err **err)
{
    char path[DIGEST_LEN + 32];
    _cleanup_close_ int fd = -1;
    char got[DIGEST_LEN + 1];

    if (store_blob_exists(s, d->digest))
        return 0;
    snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(d->digest));
    fd = fs_open_beneath(dirfd, path, O_RDONLY, 0, err);
    if (fd < 0)
        return err_wrap(err, "blob %s (%s) is missing from the layout", d->digest, d->media_type);
    return store_blob_put_fd(s, fd, path, d->digest, d->size, got, NULL, err);
}

static int import_manifest(struct store *s, int dirfd, const struct desc *md, struct err **err)
{
    _cleanup_json_ json_t *j = NULL;
    struct manifest m;
    int r = 0;

    if (put_layout_blob(s, dirfd, md, err) < 0 ||
        store_blob_read_json(s, md->digest, md->size, &j, err) < 0 ||
        manifest_parse(j, md->digest, &m, err) < 0)
        return -1;
    if (put_layout_blob(s, dirfd, &m.config, err) < 0)
        r = -1;
    for (size_t i = 0; r == 0 && i < m.n_layers; i++)
        if (put_layout_blob(s, dirfd, &m.layers[i], err) < 0)
            r = -1;
    manifest_release(&m);
    return r;
}

static int import_oci(struct store *s, int dirfd, const char *what, const char *tag,
                      const char *platform, char ***names, struct err **err)
{
    _cleanup_close_ int ifd = fs_open_beneath(dirfd, "index.json", O_RDONLY, 0, err);
    _cleanup_free_ char *buf = NULL;
    _cleanup_json_ json_t *index = NULL;
    json_t *manifests = NULL, *e;
    size_t len, i;

    if (ifd < 0 || fs_read_fd(ifd, "index.json", &buf, &len, err) < 0 ||
        js_load_buf(buf, len, "index.json", &index, err) < 0 ||
        js_get_arr(index, "index.json", "manifests", true, &manifests, err) < 0)
        return err_wrap(err, "%s", what);
    if (tag && json_array_size(manifests) != 1)
        return err_val(err, EINVAL, "%s: holds %zu images; a tag names only one", what,
                       json_array_size(manifests));
    json_array_foreach (manifests, i, e) {
        struct desc d;
        char where[64];
        const char *name = tag;
        json_t *ann = json_object_get(e, "annotations");
        _cleanup_json_ json_t *entry = NULL;
        _cleanup_free_ char *norm = NULL;

        snprintf(where, sizeof(where), "index.json: manifests[%zu]", i);
        if (desc_parse(e, where, &d, err) < 0)
            return err_wrap(err, "%s", what);
        if (mt_is_index(d.media_type)) {
            _cleanup_json_ json_t *sub = NULL;
            json_t *child = NULL;
            struct desc cd;
            if (put_layout_blob(s, dirfd, &d, err) < 0 ||
                store_blob_read_json(s, d.digest, d.size, &sub, err) < 0 ||
                index_select(sub, d.digest, platform, &child, err) < 0 ||
                desc_parse(child, d.digest, &cd, err) < 0 ||
                import_manifest(s, dirfd, &cd, err) < 0)
                return err_wrap(err, "%s", what);
        } else if (mt_is_manifest(d.media_type)) {
            if (import_manifest(s, dirfd, &d, err) < 0)
                return err_wrap(err, "%s", what);
        } else {
            continue; /* not an image (artifacts, signatures) */
        }
        if (name == NULL)
            name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
        if (name == NULL)
            name = json_string_value(json_object_get(ann, ANNOT_REF_NAME));
        if (name && name != tag && ref_check(name, err) < 0)
            return err_wrap(err, "%s: the image name in the archive (give one with -t NAME)", what);
        entry = desc_new(d.media_type, d.digest, d.size);
        if (entry == NULL || (name && (norm = store_ref_normalize(name)) == NULL))
            return err_set(err, ENOMEM, "%s", what);
        if (store_tag(s, norm, entry, err) < 0)
            return -1;
        if (strv_add(names, norm ? norm : d.digest) < 0)
            return err_set(err, ENOMEM, "%s", what);
    }
    return 0;
}

/* Media type of a layer file from its first bytes. */
static const char *sniff_layer(int fd)
{
    unsigned char m[4] = {0};
    ssize_t n = pread(fd, m, sizeof(m), 0);

    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        return MT_OCI_LAYER_GZIP;
    if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        return MT_OCI_LAYER_ZSTD;
    return MT_OCI_LAYER;
}

static int import_docker(struct store *s, int dirfd, const char *what, const char *tag,
                         char ***names, struct err **err)
{
    _cleanup_close_ int mfd = fs_open_beneath(dirfd, "manifest.json", O_RDONLY, 0, err);
    _cleanup_free_ char *buf = NULL;
    _cleanup_json_ json_t *list = NULL;
    json_t *item;
    size_t len, i;

    if (mfd < 0 || fs_read_fd(mfd, "manifest.json", &buf, &len, err) < 0 ||
        js_load_buf(buf, len, "manifest.json", &list, err) < 0)
        return err_wrap(err, "%s", what);
    if (!json_is_array(list))
        return err_val(err, EINVAL, "%s: manifest.json: expected an array, got %s", what,
                       js_type_name(list));
    if (tag && json_array_size(list) != 1)
        return err_val(err, EINVAL, "%s: holds %zu images; a tag names only one", what,
                       json_array_size(list));
    json_array_foreach (list, i, item) {
        char where[64], cfgd[DIGEST_LEN + 1], md[DIGEST_LEN + 1];
        const char *cfgpath = NULL;
        json_t *layers = NULL, *tags = NULL, *l, *diff_ids;
        _cleanup_close_ int cfd = -1;
        _cleanup_json_ json_t *manifest = NULL, *config = NULL, *ldescs = json_array();
        _cleanup_free_ char *mtext = NULL;
        int64_t cfgsize = 0;
        size_t j;

        snprintf(where, sizeof(where), "manifest.json[%zu]", i);
        if (js_get_str(item, where, "Config", true, &cfgpath, err) < 0 ||
            js_get_arr(item, where, "Layers", true, &layers, err) < 0 ||
            js_get_arr(item, where, "RepoTags", false, &tags, err) < 0)
            return err_wrap(err, "%s", what);
        cfd = fs_open_beneath(dirfd, cfgpath, O_RDONLY, 0, err);
        if (cfd < 0 || store_blob_put_fd(s, cfd, cfgpath, NULL, -1, cfgd, &cfgsize, err) < 0 ||
            store_blob_read_json(s, cfgd, cfgsize, &config, err) < 0)
            return err_wrap(err, "%s: %s", what, where);
        diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
        if (json_array_size(diff_ids) != json_array_size(layers))
            return err_val(err, EINVAL, "%s: %s: config has %zu diff_ids for %zu layers", what,
                           where, json_array_size(diff_ids), json_array_size(layers));
        json_array_foreach (layers, j, l) {
            const char *lp = json_string_value(l);
            _cleanup_close_ int lfd = -1;
            char ld[DIGEST_LEN + 1];
            int64_t lsize = 0;
            const char *mt;

            if (lp == NULL)
                return err_val(err, EINVAL, "%s: %s.Layers[%zu]: expected a string", what, where,
                               j);
            lfd = fs_open_beneath(dirfd, lp, O_RDONLY, 0, err);
            if (lfd < 0)
                return err_wrap(err, "%s: layer `%s`", what, lp);
            mt = sniff_layer(lfd);
            if (store_blob_put_fd(s, lfd, lp, NULL, -1, ld, &lsize, err) < 0)
                return err_wrap(err, "%s", what);
            /* An uncompressed layer's digest is its diff_id (config.md). */
            if (strcmp(mt, MT_OCI_LAYER) == 0 &&
                strcmp(ld, json_string_value(json_array_get(diff_ids, j)) ?: "") != 0)
                return err_val(err, EBADMSG,
                               "%s: layer `%s`: digest %s does not match the config's diff_id %s",
                               what, lp, ld, json_string_value(json_array_get(diff_ids, j)));
            json_array_append_new(ldescs, desc_new(mt, ld, lsize));
        }
        manifest =
            json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
                      "config", desc_new(MT_OCI_CONFIG, cfgd, cfgsize), "layers", ldescs);
        mtext = manifest ? js_dump(manifest) : NULL;
        if (mtext == NULL)
            return err_set(err, ENOMEM, "%s", what);
        if (store_blob_put_buf(s, mtext, strlen(mtext), NULL, md, err) < 0)
            return err_wrap(err, "%s", what);
        _cleanup_json_ json_t *entry = desc_new(MT_OCI_MANIFEST, md, (int64_t)strlen(mtext));
        if (tag || json_array_size(tags) == 0) {
            _cleanup_free_ char *norm = tag ? store_ref_normalize(tag) : NULL;
            if (store_tag(s, norm, entry, err) < 0 || strv_add(names, norm ? norm : md) < 0)
                return -1;
            continue;
        }
        json_array_foreach (tags, j, l) {
            _cleanup_free_ char *norm = store_ref_normalize(json_string_value(l) ?: "");
            if (ref_check(json_string_value(l) ?: "", err) < 0)
                return err_wrap(err, "%s: RepoTags[%zu] (give a name with -t NAME)", what, j);
            if (norm == NULL || store_tag(s, norm, entry, err) < 0 || strv_add(names, norm) < 0)
                return -1;
        }
    }
    return 0;
}

/* Unpack the tar on fd (an archive file or stdin) into a private directory of
 * ROOT/tmp, with the same refusals as a layer. */
static int load_tar_fd(struct store *s, int fd, const char *what, char **tmp, int *dirfd,
                       struct err **err)
{
    struct layer_opts o = {.flatten = false, .allow_devices = false};

    if (store_mkdtemp(s, "load", tmp, err) < 0)
        return -1;
    *dirfd = open(*tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0 || layer_extract_fd(fd, what, *dirfd, &o, err) < 0) {
        if (*dirfd < 0)
            err_sys(err, "open `%s`", *tmp);
        fs_rm_rf(*tmp, NULL);
        return err_wrap(err, "load");
    }
    return 0;
}

int transfer_load(struct store *s, const char *path, const char *tag, const char *platform,
                  char ***names, struct err **err)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int dirfd = -1;
    struct stat st;
    int r;

    if (tag && ref_check_tag(tag, err) < 0)
        return err_wrap(err, "-t");
    if (strcmp(path, TRANSFER_STDIO) == 0) {
        if (load_tar_fd(s, STDIN_FILENO, "stdin", &tmp, &dirfd, err) < 0)
            return -1;
    } else if (stat(path, &st) < 0) {
        return err_sys(err, "load `%s`", path);
    } else if (S_ISDIR(st.st_mode)) {
        dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
            return err_sys(err, "open `%s`", path);
    } else {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return err_sys(err, "open `%s`", path);
        if (load_tar_fd(s, fd, path, &tmp, &dirfd, err) < 0)
            return -1;
    }
    if (faccessat(dirfd, "index.json", F_OK, 0) == 0 &&
        faccessat(dirfd, "oci-layout", F_OK, 0) == 0)
        r = import_oci(s, dirfd, path, tag, platform, names, err);
    else if (faccessat(dirfd, "manifest.json", F_OK, 0) == 0)
        r = import_docker(s, dirfd, path, tag, names, err);
    else
        r = err_val(err, EINVAL,
                    "load `%s`: neither an OCI image layout (index.json, oci-layout) nor a "
                    "docker-archive (manifest.json)",
                    path);
    if (tmp)
        fs_rm_rf(tmp, NULL);
    return r;
}

/* An uncompressed copy of a (possibly compressed) tar as a blob. */
static int import_tar(struct store *s, const char *path, char digest[DIGEST_LEN + 1], int64_t *size,
                      struct err **err)
{
    struct archive *a;
    struct archive_entry *e;
    struct blob_writer *w = NULL;
    char buf[65536];
    la_ssize_t n;
    int rc = -1;

    if (archive_dl_load(err) < 0)
        return err_wrap(err, "import `%s`", path);
    a = sym_archive_read_new();
    if (a == NULL)
        return err_set(err, ENOMEM, "import `%s`", path);
    sym_archive_read_support_filter_all(a);
    sym_archive_read_support_format_raw(a);
    if (sym_archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK ||
        sym_archive_read_next_header(a, &e) != ARCHIVE_OK) {
        err_val(err, EINVAL, "import `%s`: %s", path, sym_archive_error_string(a));
        goto out;
    }
    if (store_blob_writer_new(s, path, &w, err) < 0)
        goto out;
    while ((n = sym_archive_read_data(a, buf, sizeof(buf))) > 0)
        if (store_blob_writer_write(w, buf, (size_t)n, err) < 0)
            goto out;
    if (n < 0) {
        err_val(err, EINVAL, "import `%s`: %s", path, sym_archive_error_string(a));
        goto out;
    }
    *size = store_blob_writer_size(w);
    rc = store_blob_writer_commit(w, NULL, -1, digest, err);
    w = NULL;
out:
    store_blob_writer_abort(w);
    sym_archive_read_free(a);
    return rc;
}

int transfer_import(struct store *s, const char *path, const char *name, char *const cmd[],
                    char digest[DIGEST_LEN + 1], struct err **err)
{
    _cleanup_json_ json_t *config = NULL, *manifest = NULL, *entry = NULL;
    _cleanup_free_ char *cfgtext = NULL, *mtext = NULL, *norm = NULL;
    char layer[DIGEST_LEN + 1], cfgd[DIGEST_LEN + 1], now[32];
    int64_t size = 0;
    struct stat st;
    time_t t = time(NULL);
    struct tm tm;

    if (name && ref_check_tag(name, err) < 0)
        return -1;
    if (stat(path, &st) < 0)
        return err_sys(err, "import `%s`", path);
    if ((S_ISDIR(st.st_mode) ? diff_dir_to_layer(s, path, false, layer, &size, err)
                             : import_tar(s, path, layer, &size, err)) < 0)
        return err_wrap(err, "import");
    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
    config = json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[s]}, s:[{s:s}]}", "created", now,
                       "architecture", "amd64", "os", "linux", "config", "rootfs", "type", "layers",
                       "diff_ids", layer, "history", "created_by", "isola import");
    if (config == NULL)
        return err_set(err, ENOMEM, "import");
    if (cmd && cmd[0]) {
        json_t *a = json_array();
        for (char *const *c = cmd; *c; c++)
            json_array_append_new(a, json_string(*c));
        json_object_set_new(json_object_get(config, "config"), "Cmd", a);
    }
    cfgtext = js_dump(config);
    if (cfgtext == NULL || store_blob_put_buf(s, cfgtext, strlen(cfgtext), NULL, cfgd, err) < 0)
        return err_wrap(err, "import");
    manifest = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
                         "config", desc_new(MT_OCI_CONFIG, cfgd, (int64_t)strlen(cfgtext)),
                         "layers", desc_new(MT_OCI_LAYER, layer, size));
    mtext = manifest ? js_dump(manifest) : NULL;
    if (mtext == NULL || store_blob_put_buf(s, mtext, strlen(mtext), NULL, digest, err) < 0)
        return err_wrap(err, "import");
    entry = desc_new(MT_OCI_MANIFEST, digest, (int64_t)strlen(mtext));
    norm = name ? store_ref_normalize(name) : NULL;
    return store_tag(s, norm, entry, err);
}
