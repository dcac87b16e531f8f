/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the linux.seccomp compiler (untrusted config.json input). */
#include <stddef.h>
#include <stdint.h>

#include "runtime/seccomp.h"
#include "util/js.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL;
    struct err *e = NULL;
    struct seccomp_filter *f = NULL;

    log_set_level(LOGL_ERROR);
    if (js_load_buf((const char *)data, size, "fuzz", &j, &e) < 0) {
        err_free(&e);
        return 0;
    }
    if (seccomp_compile(j, &f, &e) < 0)
        err_free(&e);
    seccomp_filter_free(f);
    json_decref(j);
    return 0;
}
