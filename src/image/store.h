/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image store under isola's root (ROOT = --root, $ISOLA_ROOT or
 * /var/lib/isola). ROOT is itself an OCI image layout (image-spec
 * image-layout.md): `oci-layout`, `index.json` (one descriptor per tag, the
 * tag in the annotation org.opencontainers.image.ref.name) and
 * `blobs/sha256/<hex>`, so `skopeo inspect oci:ROOT:NAME` reads it. Next to it:
 *   layers/sha256/<hex>/  unpacked layer trees, keyed by the layer blob digest
 *   tmp/                  temporary files; renamed into place when complete
 *   lock, index.lock      flock(2) files: writers hold `lock` shared, prune and
 *                         check hold it exclusive; index.json updates hold
 *                         `index.lock`.
 * Every blob is written to tmp/, hashed while written, checked against the
 * expected digest and size, then renamed into blobs/: a crash leaves no
 * half-visible object. Reads check digest and size again.
 */
#ifndef ISOLA_IMAGE_STORE_H
#define ISOLA_IMAGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/digest.h"
#include "util/err.h"

#define STORE_DEFAULT_ROOT "/var/lib/isola"
#define ANNOT_REF_NAME     "org.opencontainers.image.ref.name"

struct store {
    char *root;
    int lockfd;
};

/* opt (--root, or $ISOLA_ROOT: the front end reads it) if given, else
 * /var/lib/isola. */
const char *store_default_root(const char *opt);

/* Open (creating if needed) the store at root; takes the shared writer lock. */
int store_open(const char *root, struct store **out, struct err **err);
void store_close(struct store *s);
static inline void store_closep(struct store **s)
{
    if (*s)
        store_close(*s);
    *s = NULL;
}
#define _cleanup_store_ __attribute__((cleanup(store_closep)))

/*
 * For front ends: on SIGINT, SIGTERM and SIGHUP remove this process's temporary
 * blob files in ROOT/tmp, then die of the signal (signals already ignored stay
 * ignored). Files of writers that died otherwise (SIGKILL) are removed by the next
 * store_open. Async-signal-safe part: store_tmp_unlink_all.
 */
int store_tmp_unlink_on_signals(struct err **err);

/* Upgrade to the exclusive lock (prune, check); waits for writers. */
int store_lock_exclusive(struct store *s, struct err **err);

/* A private temporary directory under ROOT/tmp (same filesystem as blobs). */
int store_mkdtemp(struct store *s, const char *what, char **path, struct err **err);

char *store_blob_path(struct store *s, const char *digest);
bool store_blob_exists(struct store *s, const char *digest);

/*
 * Copy fd (to its end) into the store. expect (may be NULL) and expect_size
 * (-1: unknown) are checked before the blob becomes visible. out gets the
 * digest; size (may be NULL) the byte count.
 */
int store_blob_put_fd(struct store *s, int fd, const char *what, const char *expect,
                      int64_t expect_size, char out[DIGEST_LEN + 1], int64_t *size,
                      struct err **err);
int store_blob_put_buf(struct store *s, const void *buf, size_t len, const char *expect,
                       char out[DIGEST_LEN + 1], struct err **err);

/*
 * A blob written piece by piece (network downloads): data goes to a temporary
 * file in ROOT/tmp, hashed on the way; commit checks digest and size and
 * renames it into place; abort (or a crash) leaves nothing visible.
 */
struct blob_writer;
int store_blob_writer_new(struct store *s, const char *what, struct blob_writer **w,
                          struct err **err);
int store_blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct err **err);
int64_t store_blob_writer_size(const struct blob_writer *w);
/* Drop what was written so far: the blob starts again from byte 0. */
int store_blob_writer_reset(struct blob_writer *w, struct err **err);
/* Always frees w. */
int store_blob_writer_commit(struct blob_writer *w, const char *expect, int64_t expect_size,
                             char out[DIGEST_LEN + 1], struct err **err);
void store_blob_writer_abort(struct blob_writer *w);

/* Open a blob after checking its digest and size (size -1: any); fd at 0. */
int store_blob_open(struct store *s, const char *digest, int64_t size, struct err **err);
int store_blob_read(struct store *s, const char *digest, int64_t size, char **buf, size_t *len,
                    struct err **err);
int store_blob_read_json(struct store *s, const char *digest, int64_t size, json_t **out,
                         struct err **err);

/* "name" -> "name:latest"; references with a tag or digest are kept. */
char *store_ref_normalize(const char *ref);

/* index.json (a copy the caller owns). */
int store_index_load(struct store *s, json_t **index, struct err **err);
/* Point ref at the manifest descriptor desc (replacing an earlier target). A
 * NULL ref adds an untagged image (once per digest). */
int store_tag(struct store *s, const char *ref, const json_t *desc, struct err **err);
/* Remove a tag, or every entry of an image given by ID/digest. */
int store_untag(struct store *s, const char *name, struct err **err);

/*
 * Find an image by reference, by full or abbreviated (>= 4 hex digits) image
 * ID (config digest) or manifest digest. *desc is the index entry (new ref).
 */
int store_resolve(struct store *s, const char *name, json_t **desc, struct err **err);

struct store_gc_stats {
    int blobs_removed;
    int layers_removed;
    int tmp_removed;
    int64_t bytes_freed;
};
/* Remove blobs and layers that no tag reaches, and leftovers in tmp/. */
int store_prune(struct store *s, struct store_gc_stats *st, struct err **err);

/* Verify the store: every blob's content matches its name, every tagged image
 * reaches only present, valid blobs, no incomplete layers. Problems are appended
 * to *problems (strv); returns their number, or -1 when the check itself fails. */
int store_check(struct store *s, char ***problems, struct err **err);

/* Every blob digest reachable from a manifest or index descriptor (for prune,
 * check, save). Adds "digest" -> size to the object `set`. */
int store_reach(struct store *s, const json_t *desc, json_t *set, struct err **err);

#endif
