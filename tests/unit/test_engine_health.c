/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Health checks' durations, configuration merge and Docker's state machine. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "tap.h"
#include "util/duration.h"
#include "util/js.h"

static void dur(const char *s, int64_t want)
{
    struct err *e = NULL;
    int64_t v = -1;
    int r = duration_parse(s, &v, &e);

    ok(r == 0 && v == want, "`%s` = %lld ns (got %lld%s%s)", s, (long long)want, (long long)v,
       e ? ", " : "", e ? e->msg : "");
    err_free(&e);
}

static void dur_bad(const char *s)
{
    struct err *e = NULL;
    int64_t v = -1;

    ok(duration_parse(s, &v, &e) < 0 && e && v == -1, "`%s` is refused (%s)", s, e ? e->msg : "-");
    err_free(&e);
}

static void fmt(int64_t ns, const char *want)
{
    char b[64];
    duration_format(ns, b, sizeof(b));
    is_str(b, want, "%lld ns prints as Go's %s", (long long)ns, want);
}

static struct health_result res(int64_t start, int code)
{
    return (struct health_result){
        .start_ns = start, .end_ns = start + 1, .exit_code = code, .output = strdup("x")};
}

int main(void)
{
    dur("0", 0);
    dur("30s", 30000000000LL);
    dur("1m30s", 90000000000LL);
    dur("500ms", 500000000LL);
    dur("1.5h", 5400000000000LL);
    dur("2us", 2000);
    dur("7ns", 7);
    dur_bad("");
    dur_bad("5");
    dur_bad("-1s");
    dur_bad("1x");
    dur_bad("99999999999999h");
    fmt(300000000LL, "300ms");
    fmt(30000000000LL, "30s");
    fmt(90000000000LL, "1m30s");
    fmt(3600000000000LL, "1h0m0s");
    fmt(1500000000LL, "1.5s");
    fmt(0, "0s");

    /* merge: the flags over the image's fields */
    struct err *e = NULL;
    json_t *img = json_pack("{s:[s,s],s:I,s:i}", "Test", "CMD", "true", "Interval",
                            (json_int_t)5000000000LL, "Retries", 4);
    json_t *out = NULL;
    struct health_opts o = {.cmd = "echo hi", .timeout_ns = 2000000000LL};
    ok(health_config_merge(img, &o, &out, &e) == 0, "merge");
    char *t = out ? js_dump(out) : NULL;
    is_str(t ? t : "",
           "{\"Test\":[\"CMD-SHELL\",\"echo hi\"],\"Interval\":5000000000,\"Retries\":4,"
           "\"Timeout\":2000000000}",
           "the user's Test and Timeout, the image's Interval and Retries");
    free(t);
    json_decref(out);
    struct health_opts none = {.none = true, .retries = 2};
    ok(health_config_merge(img, &none, &out, &e) < 0 && e && e->code == EINVAL,
       "--no-healthcheck with another flag is refused");
    err_free(&e);
    json_decref(img);

    struct health_config c;
    ok(health_config_parse("{\"Test\":[\"CMD-SHELL\",\"a\",\"b\"]}", &c, &e) == 0 && c.args &&
           strcmp(c.args[0], "/bin/sh") == 0 && strcmp(c.args[2], "a b") == 0 &&
           c.interval_ns == HEALTH_DEFAULT_INTERVAL_NS && c.retries == 3,
       "CMD-SHELL runs /bin/sh -c, defaults applied");
    health_config_release(&c);
    ok(health_config_parse("{\"Test\":[\"NONE\"]}", &c, &e) == 0 && c.args == NULL,
       "NONE: no check");
    ok(health_config_parse("{\"Test\":[\"BOGUS\",\"x\"]}", &c, &e) < 0, "unknown kind refused");
    err_free(&e);

    /* Docker's state machine: 2 retries, a start period of 10 s */
    ok(health_config_parse("{\"Test\":[\"CMD\",\"x\"],\"Retries\":2,\"StartPeriod\":10}", &c, &e) ==
           0,
       "config");
    c.start_period_ns = 10;
    struct health_state s = {0};
    health_state_reset(&s);
    struct health_result r = res(5, 1);
    health_state_add(&s, &c, 0, &r);
    ok(s.status == HEALTH_STARTING && s.failing_streak == 0, "a failure in the start period");
    r = res(20, 1);
    health_state_add(&s, &c, 0, &r);
    ok(s.status == HEALTH_STARTING && s.failing_streak == 1, "after it, counted");
    r = res(21, 1);
    health_state_add(&s, &c, 0, &r);
    ok(s.status == HEALTH_UNHEALTHY && s.failing_streak == 2, "unhealthy at Retries");
    r = res(22, 0);
    health_state_add(&s, &c, 0, &r);
    ok(s.status == HEALTH_HEALTHY && s.failing_streak == 0, "one success: healthy");
    for (int i = 0; i < 6; i++) {
        r = res(30 + i, 1);
        health_state_add(&s, &c, 0, &r);
    }
    ok(s.n_log == HEALTH_LOG_MAX && s.log[0].start_ns == 31, "the last 5 results kept");
    json_t *j = health_state_json(&s);
    ok(j && strcmp(json_string_value(json_object_get(j, "Status")), "unhealthy") == 0 &&
           json_array_size(json_object_get(j, "Log")) == 5,
       "State.Health in Docker's shape");
    json_decref(j);
    char bad[] = "ok\xff\xc3";
    health_output_clean(bad, strlen(bad));
    is_str(bad, "ok??", "output made valid UTF-8");
    health_state_release(&s);
    health_config_release(&c);
    return done_testing();
}
