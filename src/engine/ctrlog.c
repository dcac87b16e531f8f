/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "engine/ctrlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

size_t ctrlog_format(char *out, size_t cap, const struct timespec *ts, const char *stream, char tag,
                     const char *line, size_t len)
{
    struct tm tm;
    char head[96];
    time_t sec = ts->tv_sec;

    gmtime_r(&sec, &tm);
    int h = snprintf(head, sizeof(head), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %c ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts->tv_nsec, stream, tag);
    size_t need = (size_t)h + len + 1;
    if (need + 1 > cap)
        return need;
    memcpy(out, head, (size_t)h);
    memcpy(out + h, line, len);
    out[need - 1] = '\n';
    out[need] = '\0';
    return need;
}

static int open_log(struct ctrlog *l)
{
    struct stat st;

    l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (l->fd < 0)
        return -1;
    l->size = fstat(l->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

int ctrlog_open(struct ctrlog *l, const char *path, uint64_t max_size, unsigned max_file,
                struct err **err)
{
    *l = (struct ctrlog){.fd = -1, .max_size = max_size, .max_file = max_file ? max_file : 1};
    l->path = strdup(path);
    if (l->path == NULL)
        return err_set(err, ENOMEM, "log `%s`", path);
    if (open_log(l) < 0) {
        err_sys(err, "open the log `%s`", path);
        free(l->path);
        l->path = NULL;
        return -1;
    }
    return 0;
}

static void rotate(struct ctrlog *l)
{
    char from[PATH_MAX], to[PATH_MAX];

    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    if (l->max_file <= 1) {
        truncate(l->path, 0);
    } else {
        for (unsigned i = l->max_file - 1; i >= 1; i--) {
            if (i == 1)
                snprintf(from, sizeof(from), "%s", l->path);
            else
                snprintf(from, sizeof(from), "%s.%u", l->path, i - 1);
            snprintf(to, sizeof(to), "%s.%u", l->path, i);
            rename(from, to); /* a missing older file is fine */
        }
    }
    open_log(l);
}

/* Write one record; 0, or -1 with errno when it could not be written whole. */
static int emit(struct ctrlog *l, const char *rec, size_t n)
{
    if (l->max_size > 0 && l->size > 0 && l->size + n > l->max_size)
        rotate(l);
    if (l->fd < 0 && open_log(l) < 0)
        return -1;
    ssize_t w = write(l->fd, rec, n);
    if (w == (ssize_t)n) {
        l->size += n;
        return 0;
    }
    int e = w < 0 ? errno : ENOSPC;
    if (w > 0) /* no half records: cut back what went in */
        ftruncate(l->fd, (off_t)l->size);
    errno = e;
    return -1;
}

/* The records of one chunk go out in as few writes as the size limit allows;
 * a write holds whole records only, so all of them land or none. */
struct batch {
    size_t len;
    uint64_t lines, bytes; /* records and text bytes in buf */
    char buf[65536];
};

static void batch_done(struct ctrlog *l, struct batch *b, int r)
{
    if (r == 0) {
        l->dropped_lines = l->dropped_bytes = 0; /* the note went out first */
    } else {
        l->drop_errno = errno;
        l->dropped_lines += b->lines;
        l->dropped_bytes += b->bytes;
    }
    b->len = b->lines = b->bytes = 0;
}

static void flush(struct ctrlog *l, struct batch *b)
{
    if (b->len > 0)
        batch_done(l, b, emit(l, b->buf, b->len));
}

/* The note about dropped records, at the start of a batch. */
static size_t note(struct ctrlog *l, char *out, size_t cap, const struct timespec *now)
{
    char msg[200];

    if (l->dropped_lines == 0)
        return 0;
    int m = snprintf(msg, sizeof(msg),
                     "[isola-monitor] dropped %llu log records (%llu bytes) of output: %s",
                     (unsigned long long)l->dropped_lines, (unsigned long long)l->dropped_bytes,
                     strerror(l->drop_errno));
    return ctrlog_format(out, cap, now, CTRLOG_STDERR, 'F', msg, (size_t)m);
}

static void record(struct ctrlog *l, struct batch *b, const char *stream, char tag,
                   const char *line, size_t len, const struct timespec *now)
{
    size_t n = ctrlog_format(NULL, 0, now, stream, tag, line, len);

    /* a file never grows past max_size because of batching */
    if (b->len > 0 && (b->len + n + 1 > sizeof(b->buf) ||
                       (l->max_size > 0 && l->size + b->len + n > l->max_size)))
        flush(l, b);
    if (b->len == 0)
        b->len = note(l, b->buf, sizeof(b->buf), now);
    if (b->len + n + 1 <= sizeof(b->buf)) {
        ctrlog_format(b->buf + b->len, n + 1, now, stream, tag, line, len);
        b->len += n;
        b->lines++;
        b->bytes += len;
        return;
    }
    /* a record longer than the buffer: alone, with the note if any */
    _cleanup_free_ char *big = malloc(b->len + n + 1);
    if (big == NULL) {
        errno = ENOMEM;
        b->lines++;
        b->bytes += len;
        batch_done(l, b, -1);
        return;
    }
    memcpy(big, b->buf, b->len);
    ctrlog_format(big + b->len, n + 1, now, stream, tag, line, len);
    b->lines++;
    b->bytes += len;
    batch_done(l, b, emit(l, big, b->len + n));
}

void ctrlog_write(struct ctrlog *l, const char *stream, const char *buf, size_t len,
                  const struct timespec *now)
{
    struct batch b;

    b.len = b.lines = b.bytes = 0;
    while (len > 0) {
        const char *nl = memchr(buf, '\n', len);
        size_t n = nl ? (size_t)(nl - buf) : len;
        record(l, &b, stream, nl ? 'F' : 'P', buf, n, now);
        if (nl == NULL)
            break;
        buf += n + 1;
        len -= n + 1;
    }
    flush(l, &b);
}

void ctrlog_close(struct ctrlog *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    free(l->path);
    l->path = NULL;
}
