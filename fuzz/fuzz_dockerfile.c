/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the Dockerfile parser, variable expansion and word splitting. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/dockerfile.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct dockerfile df;
    struct err *e = NULL;
    json_t *vars = json_pack("{s:s, s:s}", "A", "x", "EMPTY", "");

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (dockerfile_parse("Dockerfile", text, &df, &e) == 0) {
        for (size_t i = 0; i < df.n; i++) {
            char *out = NULL, **w = NULL;
            if (dockerfile_expand(df.insns[i].rest, vars, &out, "fuzz", &e) < 0)
                err_free(&e);
            if (dockerfile_words(out ? out : df.insns[i].rest, &w, &e) < 0)
                err_free(&e);
            strv_free(w);
            free(out);
        }
        dockerfile_release(&df);
    }
    err_free(&e);
    json_decref(vars);
    free(text);
    return 0;
}
