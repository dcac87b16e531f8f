/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/digest.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/js.h"

bool mt_is_index(const char *mt)
{
    return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

bool mt_is_manifest(const char *mt)
{
    return mt && (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

static bool mt_is_layer(const char *mt)
{
    static const char *const known[] = {MT_OCI_LAYER,
                                        MT_OCI_LAYER_GZIP,
                                        MT_OCI_LAYER_ZSTD,
                                        MT_DOCKER_LAYER,
                                        MT_DOCKER_LAYER_GZIP,
                                        MT_DOCKER_FOREIGN,
                                        NULL};
    for (size_t i = 0; mt && known[i]; i++)
        if (strcmp(mt, known[i]) == 0)
            return true;
    return false;
}

int desc_parse(json_t *j, const char *where, struct desc *d, struct err **err)
{
    memset(d, 0, sizeof(*d));
    if (!json_is_object(j))
        return err_val(err, EINVAL, "%s: expected a descriptor object, got %s", where,
                       js_type_name(j));
    if (js_get_str(j, where, "mediaType", true, &d->media_type, err) < 0 ||
        js_get_str(j, where, "digest", true, &d->digest, err) < 0 ||
        js_get_range(j, where, "size", true, 0, INT64_MAX, &d->size, err) < 0 ||
        js_get_obj(j, where, "platform", false, &d->platform, err) < 0)
        return -1;
    if (digest_check(d->digest, where, err) < 0)
        return -1;
    d->json = j;
    return 0;
}

json_t *desc_new(const char *media_type, const char *digest, int64_t size)
{
    return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
                     (json_int_t)size);
}

int manifest_parse(json_t *j, const char *what, struct manifest *m, struct err **err)
{
    json_t *cfg = NULL, *layers = NULL;
    const char *mt = NULL;
    int64_t version = 0;
    char where[64];

    memset(m, 0, sizeof(*m));
    if (!json_is_object(j))
        return err_val(err, EINVAL, "%s: expected a manifest object, got %s", what,
                       js_type_name(j));
    if (js_get_range(j, what, "schemaVersion", true, 0, 100, &version, err) < 0 ||
        js_get_str(j, what, "mediaType", false, &mt, err) < 0)
        return -1;
    if (version != 2)
        return err_val(err, EINVAL, "%s: schemaVersion %lld is not supported (need 2)", what,
                       (long long)version);
    if (mt != NULL && !mt_is_manifest(mt))
        return err_val(err, EINVAL, "%s: mediaType `%s` is not an image manifest", what, mt);
    if (js_get_obj(j, what, "config", true, &cfg, err) < 0 ||
        js_get_arr(j, what, "layers", true, &layers, err) < 0)
        return -1;
    if (desc_parse(cfg, "config", &m->config, err) < 0)
        return err_wrap(err, "%s", what);
    m->n_layers = json_array_size(layers);
    m->layers = calloc(m->n_layers + 1, sizeof(*m->layers));
    if (m->layers == NULL)
        return err_set(err, ENOMEM, "%s: layers", what);
    for (size_t i = 0; i < m->n_layers; i++) {
        snprintf(where, sizeof(where), "layers[%zu]", i);
        if (desc_parse(json_array_get(layers, i), where, &m->layers[i], err) < 0) {
            manifest_release(m);
            return err_wrap(err, "%s", what);
        }
        if (!mt_is_layer(m->layers[i].media_type)) {
            err_val(err, ENOTSUP, "%s: %s: layer media type `%s` is not supported", what, where,
                    m->layers[i].media_type);
            manifest_release(m);
            return -1;
        }
    }
    return 0;
}

void manifest_release(struct manifest *m)
{
    free(m->layers);
    m->layers = NULL;
    m->n_layers = 0;
}

int index_select(json_t *index, const char *what, const char *platform, json_t **out,
                 struct err **err)
{
    _cleanup_free_ char *want = strdup(platform ? platform : "linux/amd64");
    char *os, *arch, *variant;
    json_t *manifests = NULL, *m;
    size_t i;

    if (want == NULL)
        return err_set(err, ENOMEM, "%s", what);
    os = want;
    arch = strchr(os, '/');
    if (arch == NULL)
        return err_val(err, EINVAL, "platform `%s`: expected OS/ARCH[/VARIANT]", want);
    *arch++ = '\0';
    variant = strchr(arch, '/');
    if (variant)
        *variant++ = '\0';
    if (js_get_arr(index, what, "manifests", true, &manifests, err) < 0)
        return -1;
    json_array_foreach (manifests, i, m) {
        struct desc d;
        const char *pos = NULL, *parch = NULL, *pvar = NULL;
        char where[64];

        snprintf(where, sizeof(where), "%s: manifests[%zu]", what, i);
        if (desc_parse(m, where, &d, err) < 0)
            return -1;
        if (!mt_is_manifest(d.media_type))
            continue;
        if (d.platform == NULL) {
            /* No platform: a single-image index (OCI layouts from skopeo). */
            if (json_array_size(manifests) == 1) {
                *out = m;
                return 0;
            }
            continue;
        }
        if (js_get_str(d.platform, where, "os", false, &pos, err) < 0 ||
            js_get_str(d.platform, where, "architecture", false, &parch, err) < 0 ||
            js_get_str(d.platform, where, "variant", false, &pvar, err) < 0)
            return -1;
        if (pos && strcmp(pos, os) == 0 && parch && strcmp(parch, arch) == 0 &&
            (variant == NULL || (pvar && strcmp(pvar, variant) == 0))) {
            *out = m;
            return 0;
        }
    }
    return err_val(err, ENOENT, "%s: no image for platform %s/%s%s%s", what, os, arch,
                   variant ? "/" : "", variant ? variant : "");
}
