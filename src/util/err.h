/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The error contract (docs/development.md, after crun's libcrun_error_t):
 * a function that can fail takes `struct err **err` as its last argument,
 * returns a negative value on failure and fills *err with {errno, message};
 * on success it leaves *err alone. Callers add context with err_wrap() and
 * either pass the error up or release it. Only front ends print errors.
 */
#ifndef ISOLA_UTIL_ERR_H
#define ISOLA_UTIL_ERR_H

#include <stdio.h>

struct err {
    int code;  /* errno value, 0 when the failure has no errno */
    char *msg; /* full message, context first: "open `x`: No such file" */
};

/* Set *err (which must be NULL) and return -1. If code != 0, ": strerror(code)"
 * is appended to the message. */
int err_set(struct err **err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* err_set() with code = errno. */
int err_sys(struct err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A bad value rather than a failed call: the message is used as given (no
 * strerror text), code is kept for callers that branch on it (EINVAL, ERANGE). */
int err_val(struct err **err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix *err's message with context ("ctx: old message"); returns -1.
 * Does nothing to a NULL error (still returns -1). */
int err_wrap(struct err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void err_free(struct err **err);

/* Print "prog: message" to fp. */
void err_print(const struct err *err, const char *prog, FILE *fp);

static inline void err_cleanup(struct err **err)
{
    err_free(err);
}
#define _cleanup_err_ __attribute__((cleanup(err_cleanup)))

#endif
