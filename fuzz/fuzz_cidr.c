/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cidr_parse() and the IPAM arithmetic on arbitrary text (--subnet,
 * --ip-range, --gateway, the database's subnet column, later CNI configs):
 * no crash, and what parses formats back to a string that parses to the same
 * value. Run: build-fuzz/fuzz/fuzz-cidr fuzz/corpus/cidr
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool odd(uint32_t addr, void *ctx)
{
    (void)ctx;
    return addr & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char buf[CIDR_STR_LEN];
    struct cidr c, back;
    struct err *e = NULL;
    uint32_t a;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    for (int strict = 0; strict < 2; strict++) {
        if (cidr_parse(s, strict, &c, &e) < 0) {
            err_free(&e);
            continue;
        }
        if (cidr_parse(cidr_format(&c, buf), strict, &back, NULL) < 0 || back.addr != c.addr ||
            back.prefix != c.prefix)
            abort();
        /* bounded: a /0 would walk 2^32 addresses */
        if (c.prefix >= 20 && cidr_addr_pick(&c, &c, cidr_network(&c) + 1, odd, NULL, &a, &e) < 0)
            err_free(&e);
    }
    if (cidr_addr_parse(s, &a, &e) < 0)
        err_free(&e);
    free(s);
    return 0;
}
