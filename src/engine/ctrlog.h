/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A workload's log in the CRI / k8s-file format that Podman (conmon) and the
 * kubelet write: one record per line,
 *
 *   <RFC3339Nano time> <stdout|stderr> <F|P> <text>\n
 *
 * F ends a line of the program's output, P is a part of a longer line whose
 * rest follows in the next record(s) (a read that ended without a newline).
 * Time is UTC with nanoseconds ("2026-12-07T13:45:00.123456789Z").
 *
 * Rotated by size as Docker's json-file driver does: before a record would
 * take the file past max_size, PATH.(n-1) is dropped, PATH.i becomes
 * PATH.(i+1), PATH becomes PATH.1 and a new PATH starts, so at most max_file
 * files exist (max_file 1: PATH is emptied).
 *
 * The records of one chunk are written together (as many as the size limit
 * allows per write), and a write holds whole records only.
 *
 * Writing never stops the workload: what cannot be written (full disk, I/O
 * error) is counted, the half-written record removed, and once a write works
 * again one stderr record says how many lines and bytes were dropped and why.
 */
#ifndef ISOLA_ENGINE_CTRLOG_H
#define ISOLA_ENGINE_CTRLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"

struct ctrlog {
    char *path;
    int fd;
    uint64_t size;
    uint64_t max_size; /* 0: no rotation */
    unsigned max_file; /* files kept, current one included (>= 1) */
    uint64_t dropped_lines, dropped_bytes;
    int drop_errno;
};

#define CTRLOG_STDOUT "stdout"
#define CTRLOG_STDERR "stderr"

/* Open (append to) path. */
int ctrlog_open(struct ctrlog *l, const char *path, uint64_t max_size, unsigned max_file,
                struct err **err);
/* Log a chunk of a stream's output read at *now: one record per line, and a
 * P record for a trailing part without newline. Never fails (see above). */
void ctrlog_write(struct ctrlog *l, const char *stream, const char *buf, size_t len,
                  const struct timespec *now);
void ctrlog_close(struct ctrlog *l);

/* The record for one line (without its newline) into out, NUL-terminated;
 * returns its length, or the length needed when cap is too small. */
size_t ctrlog_format(char *out, size_t cap, const struct timespec *ts, const char *stream, char tag,
                     const char *line, size_t len);

#endif
