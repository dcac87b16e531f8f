/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: image references (user input and names inside loaded archives). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/ref.h"
#include "image/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct err *e = NULL;
    struct reg_ref r;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (ref_domain_len(s) > strlen(s))
        abort();
    if (ref_check(s, &e) < 0)
        err_free(&e);
    if (ref_check_tag(s, &e) < 0)
        err_free(&e);
    if (registry_parse_ref(s, &r, &e) == 0)
        registry_ref_release(&r);
    err_free(&e);
    free(s);
    return 0;
}
