/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/cleanup.h"
#include "util/js.h"

void image_free(struct image *img)
{
    if (img == NULL)
        return;
    manifest_release(&img->m);
    free(img->diff_ids);
    json_decref(img->config);
    json_decref(img->manifest);
    json_decref(img->entry);
    free(img);
}

int image_open_entry(struct store *s, json_t *entry, const char *platform, struct image **out,
                     struct err **err)
{
    _cleanup_image_ struct image *img = calloc(1, sizeof(*img));
    _cleanup_json_ json_t *top = NULL;
    struct desc d;
    json_t *mdesc, *rootfs = NULL, *diff_ids = NULL;

    if (img == NULL)
        return err_set(err, ENOMEM, "image");
    img->entry = json_incref(entry);
    img->ref =
        json_string_value(json_object_get(json_object_get(entry, "annotations"), ANNOT_REF_NAME));
    if (desc_parse(entry, "index.json entry", &d, err) < 0 ||
        store_blob_read_json(s, d.digest, d.size, &top, err) < 0)
        goto fail;
    mdesc = entry;
    if (mt_is_index(d.media_type)) {
        json_t *m = NULL;
        if (index_select(top, d.digest, platform, &m, err) < 0)
            goto fail;
        mdesc = m;
        if (desc_parse(mdesc, d.digest, &d, err) < 0 ||
            store_blob_read_json(s, d.digest, d.size, &img->manifest, err) < 0)
            goto fail;
    } else if (mt_is_manifest(d.media_type)) {
        img->manifest = json_incref(top);
    } else {
        err_val(err, ENOTSUP, "media type `%s` is not an image", d.media_type);
        goto fail;
    }
    memcpy(img->manifest_digest, d.digest, DIGEST_LEN + 1);
    if (manifest_parse(img->manifest, d.digest, &img->m, err) < 0 ||
        store_blob_read_json(s, img->m.config.digest, img->m.config.size, &img->config, err) < 0)
        goto fail;
    /* config.md: rootfs.diff_ids has one entry per layer, in order. */
    if (js_get_obj(img->config, "config", "rootfs", true, &rootfs, err) < 0 ||
        js_get_arr(rootfs, "config.rootfs", "diff_ids", true, &diff_ids, err) < 0)
        goto fail;
    img->n_diff_ids = json_array_size(diff_ids);
    if (img->n_diff_ids != img->m.n_layers) {
        err_val(err, EINVAL, "config %s: %zu diff_ids for %zu layers", img->m.config.digest,
                img->n_diff_ids, img->m.n_layers);
        goto fail;
    }
    img->diff_ids = calloc(img->n_diff_ids + 1, sizeof(char *));
    if (img->diff_ids == NULL) {
        err_set(err, ENOMEM, "image");
        goto fail;
    }
    for (size_t i = 0; i < img->n_diff_ids; i++) {
        img->diff_ids[i] = json_string_value(json_array_get(diff_ids, i));
        if (digest_check(img->diff_ids[i], "config.rootfs.diff_ids", err) < 0)
            goto fail;
    }
    *out = steal_ptr(&img);
    return 0;
fail:
    return err_wrap(err, "image %s", img->ref ? img->ref : "(untagged)");
}

int image_open(struct store *s, const char *name, const char *platform, struct image **out,
               struct err **err)
{
    _cleanup_json_ json_t *entry = NULL;

    if (store_resolve(s, name, &entry, err) < 0)
        return -1;
    return image_open_entry(s, entry, platform, out, err);
}

int64_t image_size(const struct image *img)
{
    int64_t n = img->m.config.size;

    for (size_t i = 0; i < img->m.n_layers; i++)
        n += img->m.layers[i].size;
    return n;
}
