/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: linux.resources parsing and the eBPF device program builder
 * (cgroup_validate writes nothing). */
#include <stddef.h>
#include <stdint.h>

#include "runtime/cgroup.h"
#include "util/js.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL;
    struct err *e = NULL;

    log_set_level(LOGL_ERROR);
    if (js_load_buf((const char *)data, size, "fuzz", &j, &e) < 0) {
        err_free(&e);
        return 0;
    }
    if (cgroup_validate(j, &e) < 0)
        err_free(&e);
    json_decref(j);
    return 0;
}
