/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `isola build -` (build.h, build_stdin_context): the context from stdin. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/build.h"
#include "image/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* Docker's archive.DetectCompression and a tar header's magic. */
static bool looks_like_archive(const unsigned char *b, size_t n)
{
    static const struct {
        const char *magic;
        size_t len;
    } m[] = {{"\x1f\x8b\x08", 3},
             {"BZh", 3},
             {"\xfd"
              "7zXZ\x00",
              6},
             {"\x28\xb5\x2f\xfd", 4}};

    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (n >= m[i].len && memcmp(b, m[i].magic, m[i].len) == 0)
            return true;
    return n >= 262 && memcmp(b + 257, "ustar", 5) == 0;
}

int build_stdin_context(struct store *s, int fd, const char *dockerfile, char **dir, char **text,
                        struct err **err)
{
    _cleanup_close_ int spool = memfd_create("isola-build-stdin", MFD_CLOEXEC), dfd = -1;
    unsigned char head[512];
    char buf[65536];
    size_t nhead = 0;
    ssize_t n;

    *dir = NULL;
    *text = NULL;
    if (spool < 0)
        return err_sys(err, "build context from stdin: memfd_create");
    /* spooled whole: libarchive and the Dockerfile reader each read it once */
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(err, "build context from stdin: read");
        }
        if (nhead < sizeof(head)) {
            size_t k = (size_t)n < sizeof(head) - nhead ? (size_t)n : sizeof(head) - nhead;
            memcpy(head + nhead, buf, k);
            nhead += k;
        }
        if (fs_write_all(spool, buf, (size_t)n, "build context from stdin", err) < 0)
            return -1;
    }
    if (lseek(spool, 0, SEEK_SET) < 0)
        return err_sys(err, "build context from stdin: lseek");
    if (store_mkdtemp(s, "build-context", dir, err) < 0)
        return err_wrap(err, "build context from stdin");
    if (!looks_like_archive(head, nhead)) {
        /* a Dockerfile alone, and an empty context (Docker's `build - < Dockerfile`) */
        size_t len;
        if (dockerfile != NULL)
            return err_val(err, EINVAL,
                           "build: -f `%s` names a file in a context, but stdin holds a "
                           "Dockerfile, not a tar",
                           dockerfile);
        return fs_read_fd(spool, "the Dockerfile on stdin", text, &len, err);
    }
    struct layer_opts lo = {.flatten = true, .any_filter = true};
    dfd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return err_sys(err, "open `%s`", *dir);
    if (layer_extract_fd(spool, "the build context on stdin", dfd, &lo, err) < 0)
        return -1;
    /* the Dockerfile inside it, resolved in it: the tar's symlinks stay there */
    const char *name = dockerfile ? dockerfile : "Dockerfile";
    _cleanup_close_ int dff = fs_open_in_root(dfd, name, O_RDONLY, 0, err);
    size_t len;
    if (dff < 0)
        return err_wrap(err, "the build context on stdin has no `%s`", name);
    return fs_read_fd(dff, name, text, &len, err);
}
