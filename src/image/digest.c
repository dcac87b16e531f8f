/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image/digest.h"

struct digest_ctx {
    EVP_MD_CTX *md;
};

struct digest_ctx *digest_new(void)
{
    struct digest_ctx *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
        digest_free(c);
        return NULL;
    }
    return c;
}

void digest_update(struct digest_ctx *c, const void *data, size_t len)
{
    EVP_DigestUpdate(c->md, data, len);
}

void digest_final(struct digest_ctx *c, char out[DIGEST_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_DigestFinal_ex(c->md, md, &n);
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    out[DIGEST_LEN] = '\0';
    digest_free(c);
}

void digest_free(struct digest_ctx *c)
{
    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->md);
    free(c);
}

void digest_buf(const void *data, size_t len, char out[DIGEST_LEN + 1])
{
    struct digest_ctx *c = digest_new();

    if (c == NULL) {
        out[0] = '\0';
        return;
    }
    digest_update(c, data, len);
    digest_final(c, out);
}

int digest_fd(int fd, const char *what, char out[DIGEST_LEN + 1], int64_t *size, struct err **err)
{
    struct digest_ctx *c = digest_new();
    char buf[65536];
    int64_t total = 0;

    if (c == NULL)
        return err_set(err, ENOMEM, "digest `%s`", what);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            digest_free(c);
            return err_sys(err, "read `%s`", what);
        }
        if (n == 0)
            break;
        digest_update(c, buf, (size_t)n);
        total += n;
    }
    digest_final(c, out);
    if (size)
        *size = total;
    return 0;
}

bool digest_valid(const char *s)
{
    if (s == NULL || strncmp(s, "sha256:", 7) != 0 || strlen(s) != DIGEST_LEN)
        return false;
    for (const char *p = s + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int digest_check(const char *s, const char *where, struct err **err)
{
    if (digest_valid(s))
        return 0;
    if (s != NULL && strchr(s, ':') != NULL && strncmp(s, "sha256:", 7) != 0)
        return err_val(err, ENOTSUP, "%s: digest algorithm of `%s` is not supported (only sha256)",
                       where, s);
    return err_val(err, EINVAL, "%s: `%s` is not a valid sha256 digest", where, s ? s : "(null)");
}
