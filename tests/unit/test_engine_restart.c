/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "engine/restart.h"
#include "tap.h"

int main(void)
{
    struct err *e = NULL;
    struct restart_policy p;

    ok(restart_policy_parse("no", &p, &e) == 0 && p.mode == RESTART_NO, "no");
    ok(restart_policy_parse("always", &p, &e) == 0 && p.mode == RESTART_ALWAYS, "always");
    ok(restart_policy_parse("unless-stopped", &p, &e) == 0 && p.mode == RESTART_UNLESS_STOPPED,
       "unless-stopped");
    ok(restart_policy_parse("on-failure", &p, &e) == 0 && p.mode == RESTART_ON_FAILURE &&
           p.max_retries == 0,
       "on-failure without a count");
    ok(restart_policy_parse("on-failure:2", &p, &e) == 0 && p.max_retries == 2, "on-failure:2");
    ok(restart_policy_parse("on-failure:x", &p, &e) < 0, "on-failure:x refused");
    is_str(e ? e->msg : NULL, "restart policy `on-failure:x`: expected on-failure:N with N a count",
           "names the value");
    err_free(&e);
    ok(restart_policy_parse("sometimes", &p, &e) < 0, "unknown policy refused");
    err_free(&e);

    restart_policy_parse("on-failure:2", &p, &e);
    ok(restart_wanted(&p, 1, 0, false) && restart_wanted(&p, 1, 1, false), "2 restarts allowed");
    ok(!restart_wanted(&p, 1, 2, false), "not a third");
    ok(!restart_wanted(&p, 0, 0, false), "not after success");
    ok(!restart_wanted(&p, 137, 0, true), "not after a stop");
    restart_policy_parse("always", &p, &e);
    ok(restart_wanted(&p, 0, 1000, false), "always: after success too");
    restart_policy_parse("no", &p, &e);
    ok(!restart_wanted(&p, 1, 0, false), "no: never");

    /* Docker's backoff: 100 ms doubling to 1 min, reset after 10 s of running */
    uint64_t d = 0,
             want[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000};
    int good = 1;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        d = restart_delay_ms(d, 50);
        if (d != want[i])
            good = 0;
    }
    ok(good, "100 ms doubling, capped at 60000 ms");
    ok(restart_delay_ms(60000, 9999) == 60000, "a 9.999 s run keeps the delay");
    ok(restart_delay_ms(60000, 10000) == 100, "a 10 s run resets it");
    return done_testing();
}
