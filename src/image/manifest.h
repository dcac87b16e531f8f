/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Manifests, indexes and descriptors of the OCI image-spec (manifest.md,
 * image-index.md, descriptor.md) and Docker's image manifest v2 schema 2 and
 * manifest list, which share their shape.
 */
#ifndef ISOLA_IMAGE_MANIFEST_H
#define ISOLA_IMAGE_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

#define MT_OCI_LAYOUT_VERSION "1.0.0"
#define MT_OCI_MANIFEST       "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX          "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG         "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER          "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP     "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD     "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_MANIFEST    "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST        "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG      "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER       "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP  "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_FOREIGN     "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

bool mt_is_index(const char *mt);
bool mt_is_manifest(const char *mt);

/* A descriptor; strings point into the JSON it was parsed from. */
struct desc {
    const char *media_type;
    const char *digest;
    int64_t size;
    json_t *platform; /* borrowed, may be NULL */
    json_t *json;     /* borrowed: the descriptor object */
};

/* descriptor.md: mediaType, digest (sha256), size >= 0 required. */
int desc_parse(json_t *j, const char *where, struct desc *d, struct err **err);
/* A new descriptor object {mediaType, digest, size}. */
json_t *desc_new(const char *media_type, const char *digest, int64_t size);

struct manifest {
    struct desc config;
    size_t n_layers;
    struct desc *layers;
};
/* Parse an image manifest (OCI or Docker schema 2); m borrows from j. */
int manifest_parse(json_t *j, const char *what, struct manifest *m, struct err **err);
void manifest_release(struct manifest *m);

/*
 * Pick the manifest for os/arch[/variant] from an index or manifest list
 * (image-index.md "platform"). NULL os/arch: linux and amd64. *out is borrowed.
 */
int index_select(json_t *index, const char *what, const char *platform, json_t **out,
                 struct err **err);

#endif
