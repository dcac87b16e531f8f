/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An image in the store: its index entry, manifest (platform selected) and config. */
#ifndef ISOLA_IMAGE_IMAGE_H
#define ISOLA_IMAGE_IMAGE_H

#include <jansson.h>

#include "image/manifest.h"
#include "image/store.h"

struct image {
    json_t *entry;    /* index.json entry (tag in its annotations) */
    const char *ref;  /* the tag, NULL when untagged */
    json_t *manifest; /* the image manifest */
    char manifest_digest[DIGEST_LEN + 1];
    json_t *config; /* the image config (config.md) */
    struct manifest m;
    size_t n_diff_ids;
    const char **diff_ids; /* config rootfs.diff_ids, one per layer */
};

/* platform NULL: linux/amd64. */
int image_open(struct store *s, const char *name, const char *platform, struct image **out,
               struct err **err);
int image_open_entry(struct store *s, json_t *entry, const char *platform, struct image **out,
                     struct err **err);
void image_free(struct image *img);
static inline void image_freep(struct image **i)
{
    image_free(*i);
    *i = NULL;
}
#define _cleanup_image_ __attribute__((cleanup(image_freep)))

/* Sum of config and layer sizes as stored (compressed). */
int64_t image_size(const struct image *img);

#endif
