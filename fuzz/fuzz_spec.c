/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the config.json parser (spec.c), the runtime's widest untrusted
 * input (runtime-spec config.md, config-linux.md). The bundle is "/" so a
 * relative root.path resolves without any file of the fuzzer's. */
#include <stddef.h>
#include <stdint.h>

#include "runtime/spec.h"
#include "util/js.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL;
    struct err *e = NULL;
    struct spec *s = NULL;

    log_set_level(LOGL_ERROR);
    if (js_load_buf((const char *)data, size, "fuzz", &j, &e) < 0) {
        err_free(&e);
        return 0;
    }
    if (spec_parse(j, "/", &s, &e) < 0)
        err_free(&e);
    spec_free(s);
    json_decref(j);
    return 0;
}
