/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CIDR parsing and the IPAM arithmetic (src/net/cidr.c). */
#include <errno.h>
#include <stdlib.h>

#include "net/cidr.h"
#include "tap.h"
#include "util/cleanup.h"

static bool taken_set(uint32_t addr, void *ctx)
{
    const uint32_t *v = ctx;

    for (; *v; v++)
        if (*v == addr)
            return true;
    return false;
}

int main(void)
{
    struct cidr c, d, p;
    uint32_t a;
    char buf[CIDR_STR_LEN];

    ok(cidr_parse("172.18.0.0/16", true, &c, NULL) == 0 && c.prefix == 16 && c.addr == 0xac120000,
       "parse 172.18.0.0/16");
    is_str(cidr_format(&c, buf), "172.18.0.0/16", "format it back");
    {
        static const char *const bad[] = {"172.18.0.0",  "172.18.0.0/33",
                                          "172.18.0/16", "256.1.1.1/8",
                                          "1.2.3.4/",    "1.2.3.4/-1",
                                          "a.b.c.d/8",   "1.2.3.4/8x",
                                          "1.2.3.4.5/8", " 1.2.3.4/8",
                                          "1..2.3/8",    "1.2.3.0004/8",
                                          "1.2.3.4/ 8",  ""};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
            _cleanup_err_ struct err *e = NULL;
            ok(cidr_parse(bad[i], false, &c, &e) < 0 && e && e->code == EINVAL &&
                   strstr(e->msg, bad[i]),
               "refuse \"%s\" naming it: %s", bad[i], e ? e->msg : "(accepted)");
        }
    }
    {
        _cleanup_err_ struct err *e = NULL;
        ok(cidr_parse("10.1.2.3/8", true, &c, &e) < 0 && strstr(e->msg, "10.0.0.0/8"),
           "strict: host bits set, the subnet named: %s", e ? e->msg : "(accepted)");
        ok(cidr_parse("10.1.2.3/8", false, &c, NULL) == 0 && c.addr == 0x0a010203,
           "not strict: an address with its prefix");
    }
    ok(cidr_parse("0.0.0.0/0", true, &c, NULL) == 0 && cidr_mask(0) == 0, "/0");
    cidr_parse("10.0.0.0/8", true, &c, NULL);
    cidr_parse("10.2.0.0/16", true, &d, NULL);
    ok(cidr_overlap(&c, &d) && cidr_overlap(&d, &c) && cidr_within(&d, &c) && !cidr_within(&c, &d),
       "10.2.0.0/16 inside 10.0.0.0/8");
    cidr_parse("11.0.0.0/8", true, &d, NULL);
    ok(!cidr_overlap(&c, &d), "10/8 and 11/8 do not overlap");

    /* the pool */
    ok(cidr_pool_pick(NULL, 0, &p, NULL) == 0 && strcmp(cidr_format(&p, buf), "172.17.0.0/16") == 0,
       "first pool subnet: 172.17.0.0/16");
    {
        struct cidr used[2];
        cidr_parse("172.17.0.0/16", true, &used[0], NULL);
        cidr_parse("172.18.5.0/24", true, &used[1], NULL);
        ok(cidr_pool_pick(used, 2, &p, NULL) == 0 &&
               strcmp(cidr_format(&p, buf), "172.19.0.0/16") == 0,
           "skips used and overlapping subnets: %s", buf);
        cidr_parse("172.16.0.0/12", true, &used[0], NULL);
        ok(cidr_pool_pick(used, 1, &p, NULL) == 0 &&
               strcmp(cidr_format(&p, buf), "192.168.0.0/20") == 0,
           "then 192.168.0.0/20: %s", buf);
        cidr_parse("0.0.0.0/0", true, &used[0], NULL);
        _cleanup_err_ struct err *e = NULL;
        ok(cidr_pool_pick(used, 1, &p, &e) < 0 && e->code == ENOSPC, "exhausted: ENOSPC");
    }
    ok(!cidr_pool_nth(31, &p), "31 subnets in the pool");

    /* addresses: network, gateway and broadcast are never given */
    cidr_parse("10.9.0.0/29", true, &c, NULL);
    {
        uint32_t taken[] = {0x0a090002, 0x0a090003, 0};
        ok(cidr_addr_pick(&c, &c, 0x0a090001, taken_set, taken, &a, NULL) == 0 && a == 0x0a090004,
           "skips the gateway and taken addresses: %s", cidr_addr_format(a, buf));
        uint32_t all[] = {0x0a090002, 0x0a090003, 0x0a090004, 0x0a090005, 0x0a090006, 0};
        _cleanup_err_ struct err *e = NULL;
        ok(cidr_addr_pick(&c, &c, 0x0a090001, taken_set, all, &a, &e) < 0 && e->code == ENOSPC &&
               strstr(e->msg, "10.9.0.0/29"),
           "full subnet: ENOSPC naming it (broadcast .7 not given)");
    }
    cidr_parse("10.9.0.0/16", true, &c, NULL);
    cidr_parse("10.9.8.0/24", true, &d, NULL);
    ok(cidr_addr_pick(&c, &d, 0x0a090001, NULL, NULL, &a, NULL) == 0 && a == 0x0a090800,
       "--ip-range inside a larger subnet starts at the range: %s", cidr_addr_format(a, buf));
    ok(cidr_addr_parse("1.2.3.4", &a, NULL) == 0 && a == 0x01020304, "address");

    return done_testing();
}
