/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for humans (text) and machines (JSON lines). The JSON form is runc's
 * --log-format json: {"level":"error","msg":"...","time":"2026-01-01T00:00:00Z"},
 * which containerd's shim and podman parse.
 */
#ifndef ISOLA_UTIL_LOG_H
#define ISOLA_UTIL_LOG_H

#include "err.h"

enum log_level { LOGL_ERROR = 0, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };
enum log_format { LOGF_TEXT = 0, LOGF_JSON };

/* Send log lines to path (appended; NULL: stderr) at level and above. */
int log_setup(const char *path, enum log_format fmt, enum log_level level, struct err **err);
int log_parse_format(const char *s, enum log_format *fmt, struct err **err);
void log_set_level(enum log_level level);
void log_set_prog(const char *prog);
/* The fd log lines go to (stderr when not set up). */
int log_fd(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log an error object at LOGL_ERROR. */
void log_err(const struct err *e);

#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)

#endif
