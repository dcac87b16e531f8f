/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: image manifests, indexes and configs (untrusted registry / archive input). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/compose.h"
#include "image/manifest.h"
#include "util/js.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char root[] = "/tmp/isola-fuzz-rootfs-XXXXXX";
    static bool made;
    json_t *j = NULL, *sel = NULL, *spec = NULL;
    struct err *e = NULL;
    struct manifest m;
    char *const args[] = {NULL};
    struct compose_opts o = {.args = args};

    log_set_level(LOGL_ERROR);
    if (!made)
        made = mkdtemp(root) != NULL;
    if (js_load_buf((const char *)data, size, "fuzz", &j, &e) < 0) {
        err_free(&e);
        return 0;
    }
    if (manifest_parse(j, "fuzz", &m, &e) == 0)
        manifest_release(&m);
    err_free(&e);
    if (index_select(j, "fuzz", NULL, &sel, &e) < 0)
        err_free(&e);
    /* The same document as an image config turned into a runtime spec. */
    if (compose_spec(j, "fuzz", root, &o, &spec, &e) < 0)
        err_free(&e);
    json_decref(spec);
    json_decref(j);
    return 0;
}
