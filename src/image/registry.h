/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Registry client (OCI distribution-spec v1, "Pull" and "Push" sections) on
 * libcurl: anonymous, basic and bearer-token auth (the token flow of Docker's
 * registry: a 401 with WWW-Authenticate: Bearer realm=...,service=...,scope=...),
 * TLS with a custom CA; plain HTTP only with --insecure or for a loopback host.
 */
#ifndef ISOLA_IMAGE_REGISTRY_H
#define ISOLA_IMAGE_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "image/store.h"

/*
 * Progress of a transfer, reported to the caller (the library prints nothing):
 * the CLI draws bars on a terminal and quiet lines otherwise.
 */
enum registry_event {
    REG_BLOB_PRESENT, /* pull: already in the store, not fetched */
    REG_BLOB_FETCHED, /* pull: fetched and checked */
    REG_BLOB_EXISTS,  /* push: already in the registry */
    REG_BLOB_PUSHED,  /* push: uploaded */
    REG_PUSHED,       /* push: the manifest is uploaded (digest: the manifest's) */
};

struct registry_progress {
    void *ud;
    /* Bytes done so far of a blob (total: its size, 0 if unknown); may be NULL. */
    void (*transfer)(void *ud, const char *digest, int64_t done, int64_t total);
    /* A blob (or the whole push) finished; size in bytes. May be NULL. */
    void (*event)(void *ud, enum registry_event ev, const char *digest, int64_t size);
};

struct registry_opts {
    const char *creds;                        /* "USER:PASS" or NULL */
    const char *ca_file;                      /* PEM bundle to trust, or NULL for the system's */
    bool insecure;                            /* allow plain HTTP and unverified TLS */
    const char *platform;                     /* NULL: linux/amd64 */
    const struct registry_progress *progress; /* NULL: silent */
};

/* A reference: [HOST[:PORT]/]REPO[:TAG][@DIGEST]; Docker Hub when no host. */
struct reg_ref {
    char *host;   /* "registry-1.docker.io", "localhost:5000" */
    char *repo;   /* "library/busybox" */
    char *tag;    /* NULL when pulled by digest only */
    char *digest; /* NULL unless given */
};
int registry_parse_ref(const char *s, struct reg_ref *r, struct err **err);
void registry_ref_release(struct reg_ref *r);

/* Pull ref into the store and tag it with ref; *name (optional) gets the tag. */
int registry_pull(struct store *s, const char *ref, const struct registry_opts *o, char **name,
                  struct err **err);

/* Push the store's image `image` to ref (NULL: the image's own name). */
int registry_push(struct store *s, const char *image, const char *ref,
                  const struct registry_opts *o, struct err **err);

#endif
