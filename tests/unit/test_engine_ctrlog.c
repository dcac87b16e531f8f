/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/ctrlog.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char *slurp(const char *path)
{
    char *buf = NULL;
    size_t len;
    struct err *e = NULL;

    if (fs_read_file(path, &buf, &len, &e) < 0) {
        err_free(&e);
        return NULL;
    }
    return buf;
}

int main(void)
{
    struct err *e = NULL;
    char dir[] = "/tmp/isola-test-ctrlog-XXXXXX", path[PATH_MAX], p1[PATH_MAX + 8],
         p2[PATH_MAX + 8], p3[PATH_MAX + 8];
    struct timespec ts = {.tv_sec = 1796651100, .tv_nsec = 1234}; /* 2026-12-07T13:45:00 */
    char rec[256];
    struct ctrlog l;

    ok(mkdtemp(dir) != NULL, "temp dir");
    snprintf(path, sizeof(path), "%s/ctr.log", dir);
    snprintf(p1, sizeof(p1), "%s.1", path);
    snprintf(p2, sizeof(p2), "%s.2", path);
    snprintf(p3, sizeof(p3), "%s.3", path);

    size_t n = ctrlog_format(rec, sizeof(rec), &ts, "stdout", 'F', "hi", 2);
    is_str(rec, "2026-12-07T13:45:00.000001234Z stdout F hi\n", "record format");
    ok(n == strlen(rec), "length returned");
    ok(ctrlog_format(rec, 10, &ts, "stdout", 'F', "hi", 2) == n, "too small: the length needed");

    /* lines, a partial line, an empty line */
    ok(ctrlog_open(&l, path, 0, 1, &e) == 0, "open");
    ctrlog_write(&l, CTRLOG_STDOUT, "a\nbb\npart", 9, &ts);
    ctrlog_write(&l, CTRLOG_STDERR, "ial\n\n", 5, &ts);
    ctrlog_close(&l);
    _cleanup_free_ char *got = slurp(path);
    is_str(got,
           "2026-12-07T13:45:00.000001234Z stdout F a\n"
           "2026-12-07T13:45:00.000001234Z stdout F bb\n"
           "2026-12-07T13:45:00.000001234Z stdout P part\n"
           "2026-12-07T13:45:00.000001234Z stderr F ial\n"
           "2026-12-07T13:45:00.000001234Z stderr F \n",
           "F per line, P for a part, empty lines kept");
    unlink(path);

    /* rotation: "P lN" (44 bytes) and "F " (42) fill a file of 100 bytes */
    ok(ctrlog_open(&l, path, 100, 3, &e) == 0, "open with rotation");
    for (int i = 0; i < 9; i++) {
        char line[8];
        snprintf(line, sizeof(line), "l%d", i);
        ctrlog_write(&l, CTRLOG_STDOUT, line, strlen(line), &ts);
        ctrlog_write(&l, CTRLOG_STDOUT, "\n", 1, &ts); /* P then an empty F */
    }
    ctrlog_close(&l);
    ok(fs_exists(path) && fs_exists(p1) && fs_exists(p2), "3 files");
    ok(!fs_exists(p3), "no 4th file");
    _cleanup_free_ char *cur = slurp(path);
    _cleanup_free_ char *old = slurp(p2);
    ok(cur && strstr(cur, "P l8\n") != NULL, "newest record in the current file");
    ok(old && strstr(old, "P l6\n") != NULL && strstr(old, "P l5\n") == NULL,
       "oldest kept file: l6; l5 and before are gone");
    ok(cur && strlen(cur) <= 100 && old && strlen(old) <= 100, "no file above max size");
    unlink(path);
    unlink(p1);
    unlink(p2);

    /* the same in one chunk: the records of a chunk are batched, still
     * never past max_size */
    ok(ctrlog_open(&l, path, 100, 3, &e) == 0, "open with rotation");
    ctrlog_write(&l, CTRLOG_STDOUT, "l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n", 27, &ts);
    ctrlog_close(&l);
    _cleanup_free_ char *c0 = slurp(path);
    _cleanup_free_ char *c1 = slurp(p1);
    _cleanup_free_ char *c2 = slurp(p2);
    ok(c0 && c1 && c2 && strlen(c0) <= 100 && strlen(c1) <= 100 && strlen(c2) <= 100,
       "batched: no file above max size");
    ok(c0 && strstr(c0, "F l8\n") != NULL && c2 && strstr(c2, "F l4\n") != NULL &&
           strstr(c2, "F l3\n") == NULL,
       "batched: 2 records per file, the last 6 kept");
    ok(!fs_exists(p3), "batched: no 4th file");
    unlink(path);
    unlink(p1);
    unlink(p2);

    /* a line longer than the batch buffer is one record */
    _cleanup_free_ char *huge = malloc(70001);
    memset(huge, 'z', 70000);
    huge[70000] = '\n';
    ok(ctrlog_open(&l, path, 0, 1, &e) == 0, "open");
    ctrlog_write(&l, CTRLOG_STDOUT, "a\n", 2, &ts);
    ctrlog_write(&l, CTRLOG_STDOUT, huge, 70001, &ts);
    ctrlog_close(&l);
    _cleanup_free_ char *h = slurp(path);
    ok(h && strlen(h) == 42 + 40 + 70000 + 1 && strncmp(h + 42 + 30, " stdout F zzz", 13) == 0,
       "a 70000-byte line: one F record");
    unlink(path);

    /* max_file 1: the file is emptied */
    ok(ctrlog_open(&l, path, 60, 1, &e) == 0, "open, 1 file");
    ctrlog_write(&l, CTRLOG_STDOUT, "one\ntwo\n", 8, &ts);
    ctrlog_close(&l);
    _cleanup_free_ char *one = slurp(path);
    is_str(one, "2026-12-07T13:45:00.000001234Z stdout F two\n", "only the last record");
    ok(!fs_exists(p1), "no .1");
    unlink(path);

    /* full disk: /dev/full fails every write with ENOSPC; the drops are
     * counted and reported once writing works again */
    ok(ctrlog_open(&l, path, 0, 1, &e) == 0, "open");
    int saved = l.fd;
    l.fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ctrlog_write(&l, CTRLOG_STDOUT, "lost1\nlost2\n", 12, &ts);
    ok(l.dropped_lines == 2 && l.dropped_bytes == 10, "2 records (10 bytes) dropped");
    close(l.fd);
    l.fd = saved;
    ctrlog_write(&l, CTRLOG_STDOUT, "back\n", 5, &ts);
    ctrlog_close(&l);
    _cleanup_free_ char *full = slurp(path);
    is_str(full,
           "2026-12-07T13:45:00.000001234Z stderr F [isola-monitor] dropped 2 log records (10 "
           "bytes) of output: No space left on device\n"
           "2026-12-07T13:45:00.000001234Z stdout F back\n",
           "the drop is recorded before the next line");
    unlink(path);
    rmdir(dir);
    return done_testing();
}
