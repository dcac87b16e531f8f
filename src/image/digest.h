/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Content digests (OCI image-spec, descriptor.md "Digests"): "sha256:" followed
 * by 64 lower-case hex digits. sha256 comes from OpenSSL's libcrypto (EVP).
 */
#ifndef ISOLA_IMAGE_DIGEST_H
#define ISOLA_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define DIGEST_LEN 71 /* "sha256:" + 64 hex digits */

struct digest_ctx;

struct digest_ctx *digest_new(void);
void digest_update(struct digest_ctx *c, const void *data, size_t len);
/* Finish into out ("sha256:..."), NUL-terminated; the context is freed. */
void digest_final(struct digest_ctx *c, char out[DIGEST_LEN + 1]);
void digest_free(struct digest_ctx *c);

void digest_buf(const void *data, size_t len, char out[DIGEST_LEN + 1]);

/* Read fd to its end; digest and byte count. */
int digest_fd(int fd, const char *what, char out[DIGEST_LEN + 1], int64_t *size, struct err **err);

/* Is s a sha256 digest we accept? Other algorithms are refused by name. */
bool digest_valid(const char *s);
int digest_check(const char *s, const char *where, struct err **err);
/* The hex part of a valid digest. */
static inline const char *digest_hex(const char *d)
{
    return d + 7;
}

#endif
