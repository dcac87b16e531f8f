/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd_ = -1;
static enum log_format log_fmt = LOGF_TEXT;
static enum log_level log_lvl = LOGL_WARN;
static const char *log_prog = "isola";

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int log_setup(const char *path, enum log_format fmt, enum log_level level, struct err **err)
{
    if (path != NULL) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return err_sys(err, "open log file `%s`", path);
        if (log_fd_ >= 0)
            close(log_fd_);
        log_fd_ = fd;
    }
    log_fmt = fmt;
    log_lvl = level;
    return 0;
}

int log_parse_format(const char *s, enum log_format *fmt, struct err **err)
{
    if (strcmp(s, "text") == 0)
        *fmt = LOGF_TEXT;
    else if (strcmp(s, "json") == 0)
        *fmt = LOGF_JSON;
    else
        return err_val(err, EINVAL, "log format `%s`: expected `text` or `json`", s);
    return 0;
}

void log_set_level(enum log_level level)
{
    log_lvl = level;
}

void log_set_prog(const char *prog)
{
    log_prog = prog;
}

int log_fd(void)
{
    return log_fd_ >= 0 ? log_fd_ : STDERR_FILENO;
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
    char *msg = NULL, *line = NULL;
    int saved = errno;

    if (level > log_lvl || vasprintf(&msg, fmt, ap) < 0)
        goto out;
    if (log_fmt == LOGF_JSON) {
        char ts[64];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, sizeof(ts) - n, ".%09ldZ", now.tv_nsec);
        json_t *j =
            json_pack("{s:s, s:s, s:s}", "level", level_names[level], "msg", msg, "time", ts);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (s == NULL || asprintf(&line, "%s\n", s) < 0)
            line = NULL;
        free(s);
    } else if (level == LOGL_ERROR) {
        if (asprintf(&line, "%s: %s\n", log_prog, msg) < 0)
            line = NULL;
    } else if (asprintf(&line, "%s: %s: %s\n", log_prog, level_names[level], msg) < 0) {
        line = NULL;
    }
    if (line != NULL)
        (void)!write(log_fd(), line, strlen(line));
out:
    free(msg);
    free(line);
    errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

void log_err(const struct err *e)
{
    if (e != NULL)
        log_msg(LOGL_ERROR, "%s", e->msg);
}
