/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/extract.h"

#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/cleanup.h"
#include "util/fs.h"

#define OUT_MAX (1ULL << 31) /* no kernel is 2 GiB uncompressed */

struct obuf {
    uint8_t *p;
    size_t len, cap;
};

static int obuf_room(struct obuf *o, size_t want, const char *what, struct err **err)
{
    if (o->cap - o->len >= want)
        return 0;
    size_t cap = o->cap ? o->cap : (16u << 20);
    while (cap - o->len < want)
        cap *= 2;
    if (cap > OUT_MAX)
        return err_val(err, EFBIG, "%s: decompressed kernel larger than 2 GiB", what);
    uint8_t *p = realloc(o->p, cap);
    if (p == NULL)
        return err_set(err, ENOMEM, "%s: decompress", what);
    o->p = p;
    o->cap = cap;
    return 0;
}

static int un_gzip(const uint8_t *in, size_t len, struct obuf *o, const char *what,
                   struct err **err)
{
    z_stream z = {0};
    int r;

    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return err_set(err, ENOMEM, "%s: zlib", what);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    do {
        if (obuf_room(o, 1 << 20, what, err) < 0) {
            inflateEnd(&z);
            return -1;
        }
        z.next_out = o->p + o->len;
        z.avail_out = (uInt)(o->cap - o->len);
        r = inflate(&z, Z_NO_FLUSH);
        o->len = o->cap - z.avail_out;
    } while (r == Z_OK);
    inflateEnd(&z);
    if (r != Z_STREAM_END)
        return err_val(err, EINVAL, "%s: gzip payload: %s", what, z.msg ? z.msg : "corrupt");
    return 0;
}

static int un_xz(const uint8_t *in, size_t len, struct obuf *o, const char *what, struct err **err)
{
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret r;

    if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
        return err_set(err, ENOMEM, "%s: liblzma", what);
    s.next_in = in;
    s.avail_in = len;
    do {
        if (obuf_room(o, 1 << 20, what, err) < 0) {
            lzma_end(&s);
            return -1;
        }
        s.next_out = o->p + o->len;
        s.avail_out = o->cap - o->len;
        r = lzma_code(&s, LZMA_FINISH);
        o->len = o->cap - s.avail_out;
    } while (r == LZMA_OK);
    lzma_end(&s);
    if (r != LZMA_STREAM_END)
        return err_val(err, EINVAL, "%s: xz payload: liblzma error %d", what, (int)r);
    return 0;
}

static int un_zstd(const uint8_t *in, size_t len, struct obuf *o, const char *what,
                   struct err **err)
{
    ZSTD_DStream *d = ZSTD_createDStream();
    ZSTD_inBuffer ib = {in, len, 0};
    size_t r;

    if (d == NULL)
        return err_set(err, ENOMEM, "%s: libzstd", what);
    ZSTD_initDStream(d);
    do {
        if (obuf_room(o, 1 << 20, what, err) < 0) {
            ZSTD_freeDStream(d);
            return -1;
        }
        ZSTD_outBuffer ob = {o->p, o->cap, o->len};
        r = ZSTD_decompressStream(d, &ob, &ib);
        o->len = ob.pos;
        if (ZSTD_isError(r)) {
            ZSTD_freeDStream(d);
            return err_val(err, EINVAL, "%s: zstd payload: %s", what, ZSTD_getErrorName(r));
        }
        /* r == 0: a frame is complete; the kernel's 4-byte size trailer follows. */
    } while (r != 0 && ib.pos < ib.size);
    ZSTD_freeDStream(d);
    if (r != 0)
        return err_val(err, EINVAL, "%s: zstd payload truncated", what);
    return 0;
}

/* extract_kernel on buffers; *elf is malloc()ed. */
static int extract_payload(const uint8_t *img, size_t len, const char *what, uint8_t **elf,
                           size_t *elf_len, struct err **err)
{
    struct obuf o = {0};
    uint32_t off, plen, magic;
    uint16_t version;
    size_t koff;
    const uint8_t *p;
    int r;

    if (len < 0x264 || memcmp(img + 0x202, "HdrS", 4) != 0)
        return err_val(err, ENOEXEC, "%s: not a bzImage (no HdrS header)", what);
    memcpy(&version, img + 0x206, 2);
    if (version < 0x0208)
        return err_val(err, ENOEXEC, "%s: boot protocol %x.%02x has no payload fields", what,
                       version >> 8, version & 0xff);
    koff = (size_t)((img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
    memcpy(&off, img + 0x248, 4);
    memcpy(&plen, img + 0x24c, 4);
    if (koff > len || off > len - koff || plen > len - koff - off || plen < 8)
        return err_val(err, ENOEXEC, "%s: payload outside the file", what);
    p = img + koff + off;
    memcpy(&magic, p, 4);
    if (p[0] == 0x1f && p[1] == 0x8b)
        r = un_gzip(p, plen, &o, what, err);
    else if (memcmp(p,
                    "\xfd"
                    "7zXZ",
                    6) == 0)
        r = un_xz(p, plen, &o, what, err);
    else if (magic == 0xfd2fb528)
        r = un_zstd(p, plen, &o, what, err);
    else
        r = err_val(err, ENOTSUP,
                    "%s: payload compression %02x %02x %02x %02x not supported (gzip, xz, zstd)",
                    what, p[0], p[1], p[2], p[3]);
    if (r == 0 && (o.len < 4 || memcmp(o.p,
                                       "\x7f"
                                       "ELF",
                                       4) != 0))
        r = err_val(err, ENOEXEC, "%s: decompressed payload is not an ELF file", what);
    if (r < 0) {
        free(o.p);
        return -1;
    }
    *elf = o.p;
    *elf_len = o.len;
    return 0;
}

int extract_kernel(const char *in, const char *out, struct err **err)
{
    _cleanup_free_ char *img = NULL;
    _cleanup_free_ uint8_t *elf = NULL;
    size_t len, elf_len = 0;

    if (fs_read_file(in, &img, &len, err) < 0)
        return err_wrap(err, "kernel");
    if (extract_payload((const uint8_t *)img, len, in, &elf, &elf_len, err) < 0)
        return -1;
    if (fs_write_atomic(out, elf, elf_len, 0644, err) < 0)
        return -1;
    return 0;
}
