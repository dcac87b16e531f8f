/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "err.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Used when even the error cannot be allocated: the caller still sees a failure. */
static struct err oom_err = {ENOMEM, (char *)"out of memory while reporting an error"};

static int err_vset(struct err **err, int code, bool append, const char *fmt, va_list ap)
{
    char *msg = NULL, *full = NULL;

    if (err == NULL)
        return -1;
    if (*err != NULL) /* keep the first error; a second one is a bug in the caller */
        return -1;
    if (vasprintf(&msg, fmt, ap) < 0) {
        *err = &oom_err;
        return -1;
    }
    if (code != 0 && append) {
        if (asprintf(&full, "%s: %s", msg, strerror(code)) < 0) {
            free(msg);
            *err = &oom_err;
            return -1;
        }
        free(msg);
        msg = full;
    }
    struct err *e = malloc(sizeof(*e));
    if (e == NULL) {
        free(msg);
        *err = &oom_err;
        return -1;
    }
    e->code = code;
    e->msg = msg;
    *err = e;
    return -1;
}

int err_set(struct err **err, int code, const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = err_vset(err, code, true, fmt, ap);
    va_end(ap);
    return ret;
}

int err_sys(struct err **err, const char *fmt, ...)
{
    int code = errno;
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = err_vset(err, code, true, fmt, ap);
    va_end(ap);
    errno = code;
    return ret;
}

int err_val(struct err **err, int code, const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = err_vset(err, code, false, fmt, ap);
    va_end(ap);
    return ret;
}

int err_wrap(struct err **err, const char *fmt, ...)
{
    char *ctx = NULL, *full = NULL;
    va_list ap;

    if (err == NULL || *err == NULL || *err == &oom_err)
        return -1;
    va_start(ap, fmt);
    if (vasprintf(&ctx, fmt, ap) < 0) {
        va_end(ap);
        return -1;
    }
    va_end(ap);
    if (asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
        free((*err)->msg);
        (*err)->msg = full;
    }
    free(ctx);
    return -1;
}

void err_free(struct err **err)
{
    if (err == NULL || *err == NULL)
        return;
    if (*err != &oom_err) {
        free((*err)->msg);
        free(*err);
    }
    *err = NULL;
}

void err_print(const struct err *err, const char *prog, FILE *fp)
{
    if (err == NULL)
        return;
    if (prog != NULL)
        fprintf(fp, "%s: %s\n", prog, err->msg);
    else
        fprintf(fp, "%s\n", err->msg);
}
