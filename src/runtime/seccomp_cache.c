/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A compiled-filter cache: libseccomp spends milliseconds building the BPF
 * program of a docker-sized profile, for every container. The program depends
 * only on the profile, the libseccomp version and the kernel (libseccomp probes
 * which actions the kernel supports), so it is stored under a key of those.
 *
 * Entry file: "ISOLASC1", u32 flags, u32 notify, u32 instruction count, then
 * the sock_filter array (host byte order: the cache is per machine).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "runtime/seccomp_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"

#define MAGIC "ISOLASC1"

struct entry_hdr {
    char magic[8];
    uint32_t flags, notify, len;
};

size_t seccomp_filter_len(const struct seccomp_filter *f)
{
    return f ? f->len : 0;
}

static int cache_key(json_t *seccomp, char hex[65], struct err **err)
{
    const struct scmp_version *v = seccomp_version();
    struct utsname u;
    unsigned char md[32];
    unsigned int mdlen = 0;

    _cleanup_free_ char *canon = json_dumps(seccomp, JSON_SORT_KEYS | JSON_COMPACT);
    if (canon == NULL)
        return err_set(err, ENOMEM, "linux.seccomp: serialise for the cache key");
    uname(&u);
    _cleanup_free_ char *material = NULL;
    if (asprintf(&material, "%s\n%u.%u.%u\n%s %s %s", canon, v ? v->major : 0, v ? v->minor : 0,
                 v ? v->micro : 0, u.release, u.version, u.machine) < 0)
        return err_set(err, ENOMEM, "linux.seccomp: cache key");
    if (!EVP_Digest(material, strlen(material), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return err_set(err, EIO, "linux.seccomp: SHA-256 of the cache key");
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* The cache directory must be ours and private, or a local user could plant
 * a permissive filter. Returns false (and logs) when it must not be used. */
static bool cache_dir_ok(const char *dir)
{
    struct stat st;
    struct err *e = NULL;

    if (stat(dir, &st) < 0) {
        if (errno != ENOENT || fs_mkdir_p(dir, 0700, &e) < 0 || stat(dir, &st) < 0) {
            log_debug("seccomp cache `%s` unusable: %s", dir, e ? e->msg : strerror(errno));
            err_free(&e);
            return false;
        }
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        log_warn("seccomp cache `%s` is not a private directory of uid %u, not used", dir,
                 (unsigned)geteuid());
        return false;
    }
    return true;
}

static struct seccomp_filter *cache_load(const char *path, json_t *seccomp)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    struct entry_hdr h;
    struct err *e = NULL;
    uint32_t def;

    if (fs_read_file(path, &buf, &len, &e) < 0) {
        err_free(&e);
        return NULL;
    }
    if (len < sizeof(h))
        return NULL;
    memcpy(&h, buf, sizeof(h));
    if (memcmp(h.magic, MAGIC, 8) != 0 || h.len == 0 || h.len > 0xffff ||
        len != sizeof(h) + (size_t)h.len * sizeof(struct sock_filter))
        return NULL;
    struct seccomp_filter *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    /* Listener path and metadata are not in the entry: take them from the
     * profile (cheap; the rules are what is expensive). */
    if (seccomp_parse_top(seccomp, f, &def, &e) < 0 ||
        (f->prog = malloc(h.len * sizeof(struct sock_filter))) == NULL) {
        err_free(&e);
        seccomp_filter_free(f);
        return NULL;
    }
    memcpy(f->prog, buf + sizeof(h), h.len * sizeof(struct sock_filter));
    f->len = h.len;
    f->flags = h.flags;
    f->notify = h.notify != 0;
    return f;
}

static void cache_store(const char *path, const struct seccomp_filter *f)
{
    size_t size = sizeof(struct entry_hdr) + f->len * sizeof(struct sock_filter);
    _cleanup_free_ char *buf = malloc(size);
    struct entry_hdr h = {MAGIC, f->flags, f->notify, (uint32_t)f->len};
    struct err *e = NULL;

    if (buf == NULL)
        return;
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), f->prog, f->len * sizeof(struct sock_filter));
    if (fs_write_atomic(path, buf, size, 0600, &e) < 0) {
        log_debug("seccomp cache: %s", e->msg);
        err_free(&e);
    }
}

int seccomp_compile_cached(json_t *seccomp, const char *cache_dir, struct seccomp_filter **out,
                           struct err **err)
{
    char key[65], path[4096];

    *out = NULL;
    if (seccomp == NULL || json_is_null(seccomp))
        return 0;
    if (cache_dir == NULL || !json_is_object(seccomp) || !cache_dir_ok(cache_dir))
        return seccomp_compile(seccomp, out, err);
    if (cache_key(seccomp, key, err) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s.bpf", cache_dir, key);
    *out = cache_load(path, seccomp);
    if (*out != NULL)
        return 0;
    if (seccomp_compile(seccomp, out, err) < 0)
        return -1;
    cache_store(path, *out);
    return 0;
}
