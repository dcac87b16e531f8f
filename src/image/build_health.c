/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HEALTHCHECK (Dockerfile reference, "HEALTHCHECK"): the image config's
 * Healthcheck as Docker writes it, {"Test", "Interval", "Timeout",
 * "StartPeriod", "StartInterval", "Retries"}, durations in nanoseconds and
 * zero fields left out:
 *   HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D]
 *               [--start-interval=D] [--retries=N] CMD command   -> ["CMD-SHELL", "command"]
 *   HEALTHCHECK ... CMD ["exe", "arg"]                            -> ["CMD", "exe", "arg"]
 *   HEALTHCHECK NONE                                              -> ["NONE"]
 * The engine runs it (docs/engine.md, "Health checks").
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/build_priv.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/js.h"

static const struct {
    const char *flag, *key;
} build_health_durations[] = {
    {"interval", "Interval"},
    {"timeout", "Timeout"},
    {"start-period", "StartPeriod"},
    {"start-interval", "StartInterval"},
};

int build_healthcheck(struct ctx *ctx, struct stage *st, const struct df_insn *in, struct err **err)
{
    _cleanup_json_ json_t *hc = json_object();
    const char *rest = in->rest, *k;
    json_t *v;

    if (!hc)
        return err_set(err, ENOMEM, "HEALTHCHECK");
    size_t wl = strcspn(rest, " \t");
    if (wl == 4 && strncasecmp(rest, "NONE", 4) == 0) {
        if (rest[wl] != '\0' || json_object_size(in->flags) > 0)
            return err_val(err, EINVAL, "%s:%d:%d: HEALTHCHECK NONE takes no arguments", AT(in));
        json_object_set_new(hc, "Test", json_pack("[s]", "NONE"));
        goto done;
    }
    if (wl != 3 || strncasecmp(rest, "CMD", 3) != 0)
        return err_val(err, EINVAL, "%s:%d:%d: Unknown type \"%.*s\" in HEALTHCHECK (try CMD)",
                       AT(in), (int)wl, rest);
    const char *cmd = rest + wl + strspn(rest + wl, " \t");
    if (*cmd == '\0')
        return err_val(err, EINVAL, "%s:%d:%d: HEALTHCHECK CMD needs a command", AT(in));
    json_t *test = NULL;
    if (*cmd == '[') {
        /* the exec form; an invalid JSON array is the shell form, as for CMD */
        json_t *a = json_loads(cmd, JSON_REJECT_DUPLICATES, NULL);
        bool strings = json_is_array(a) && json_array_size(a) > 0;
        size_t i;
        json_array_foreach (a, i, v)
            strings = strings && json_is_string(v);
        if (strings) {
            test = json_pack("[s]", "CMD");
            json_array_extend(test, a);
        }
        json_decref(a);
    }
    if (!test)
        test = json_pack("[s,s]", "CMD-SHELL", cmd);
    json_object_set_new(hc, "Test", test);
    json_object_foreach (in->flags, k, v) {
        const char *val = json_string_value(v);
        size_t i;
        for (i = 0; i < sizeof(build_health_durations) / sizeof(build_health_durations[0]); i++)
            if (strcmp(k, build_health_durations[i].flag) == 0)
                break;
        if (i < sizeof(build_health_durations) / sizeof(build_health_durations[0])) {
            int64_t ns;
            if (duration_parse(val, &ns, err) < 0)
                return err_wrap(err, "%s:%d:%d: HEALTHCHECK --%s", AT(in), k);
            if (ns != 0 && ns < 1000000)
                return err_val(err, EINVAL,
                               "%s:%d:%d: HEALTHCHECK --%s: %s cannot be less than 1ms", AT(in), k,
                               val);
            if (ns)
                json_object_set_new(hc, build_health_durations[i].key, json_integer(ns));
        } else if (strcmp(k, "retries") == 0) {
            char *end;
            long n = strtol(val, &end, 10);
            if (*val == '\0' || *end || n < 0 || n > 1000000)
                return err_val(err, EINVAL,
                               "%s:%d:%d: HEALTHCHECK --retries `%s`: expected a number >= 0",
                               AT(in), val);
            if (n)
                json_object_set_new(hc, "Retries", json_integer(n));
        } else {
            return err_val(err, EINVAL, "%s:%d:%d: HEALTHCHECK: unknown flag --%s", AT(in), k);
        }
    }
done:;
    _cleanup_free_ char *text = js_dump(hc);
    _cleanup_free_ char *key = NULL;
    if (!text || asprintf(&key, "HEALTHCHECK %s", text) < 0)
        return err_set(err, ENOMEM, "HEALTHCHECK");
    json_object_set(build_cfg(st), "Healthcheck", hc);
    build_chain(st, key);
    build_history(st, key, true);
    return 0;
}
