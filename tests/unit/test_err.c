/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/err.h"

static int open_missing(struct err **err)
{
    if (open("/nonexistent/isola-test", O_RDONLY) < 0)
        return err_sys(err, "open `%s`", "/nonexistent/isola-test");
    return 0;
}

static int load_config(struct err **err)
{
    if (open_missing(err) < 0)
        return err_wrap(err, "load config of container `%s`", "c1");
    return 0;
}

int main(void)
{
    struct err *e = NULL;

    ok(err_set(&e, ENOENT, "open `%s`", "x") == -1, "err_set returns -1");
    ok(e != NULL && e->code == ENOENT, "code is kept");
    is_str(e ? e->msg : NULL, "open `x`: No such file or directory", "errno text appended");
    err_free(&e);
    ok(e == NULL, "err_free resets the pointer");

    ok(err_set(&e, 0, "bad value %d", 7) == -1 && e->code == 0, "code 0 allowed");
    is_str(e->msg, "bad value 7", "no errno text for code 0");
    /* A second error does not overwrite the first. */
    err_set(&e, EPERM, "second");
    is_str(e->msg, "bad value 7", "first error wins");
    err_free(&e);

    ok(load_config(&e) < 0, "wrapped call fails");
    is_str(e->msg,
           "load config of container `c1`: open `/nonexistent/isola-test`: No such file or "
           "directory",
           "context is prefixed, outermost first");
    ok(e->code == ENOENT, "wrapping keeps the code");
    err_free(&e);

    ok(err_wrap(&e, "nothing") == -1 && e == NULL, "wrapping no error is harmless");

    {
        _cleanup_err_ struct err *scoped = NULL;
        err_set(&scoped, EIO, "scoped");
        ok(scoped != NULL, "cleanup attribute frees (checked by ASan)");
    }

    errno = EACCES;
    err_sys(&e, "x");
    ok(errno == EACCES && e->code == EACCES, "err_sys preserves errno");
    err_free(&e);
    return done_testing();
}
