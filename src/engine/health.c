/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Health checks: configuration and state machine (health.h). */
#include "engine/health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"
#include "util/duration.h"
#include "util/js.h"

int health_opts_take(struct health_opts *o, const char *flag, const char *value, struct err **err)
{
    int64_t ns;

    if (strcmp(flag, "no-healthcheck") == 0) {
        o->none = true;
        return 0;
    }
    if (strcmp(flag, "health-cmd") == 0) {
        o->cmd = value;
        return 0;
    }
    if (strcmp(flag, "health-retries") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*value == '\0' || *end || v > 1000000)
            return err_val(err, EINVAL, "--health-retries `%s`: expected a number", value);
        if (v < 0)
            return err_val(err, EINVAL, "--health-retries cannot be negative");
        o->retries = (int)v;
        return 0;
    }
    if (value[0] == '-')
        return err_val(err, EINVAL, "--%s cannot be negative", flag);
    if (duration_parse(value, &ns, err) < 0)
        return err_wrap(err, "--%s", flag);
    if (strcmp(flag, "health-interval") == 0)
        o->interval_ns = ns;
    else if (strcmp(flag, "health-timeout") == 0)
        o->timeout_ns = ns;
    else if (strcmp(flag, "health-start-period") == 0)
        o->start_period_ns = ns;
    else
        return err_val(err, EINVAL, "unknown health flag --%s", flag);
    return 0;
}

static bool health_opts_any(const struct health_opts *o)
{
    return o->cmd || o->interval_ns || o->timeout_ns || o->start_period_ns || o->retries;
}

int health_config_merge(json_t *image_hc, const struct health_opts *o, json_t **out,
                        struct err **err)
{
    static const char *const keys[] = {"Interval", "Timeout", "StartPeriod"};
    int64_t vals[] = {o->interval_ns, o->timeout_ns, o->start_period_ns};
    json_t *hc;

    *out = NULL;
    if (o->none && health_opts_any(o))
        return err_val(err, EINVAL, "--no-healthcheck conflicts with --health-* options");
    if (o->interval_ns && o->interval_ns < 1000000)
        return err_val(err, EINVAL, "Interval in Healthcheck cannot be less than 1ms");
    if (o->timeout_ns && o->timeout_ns < 1000000)
        return err_val(err, EINVAL, "Timeout in Healthcheck cannot be less than 1ms");
    if (o->none) {
        *out = json_pack("{s:[s]}", "Test", "NONE");
        return *out ? 0 : err_set(err, ENOMEM, "healthcheck");
    }
    if (!health_opts_any(o)) {
        *out = json_is_object(image_hc) ? json_deep_copy(image_hc) : NULL;
        return 0;
    }
    /* moby's merge (daemon/commit.go): the image's fields where the user
     * left one unset */
    hc = json_is_object(image_hc) ? json_deep_copy(image_hc) : json_object();
    if (!hc)
        return err_set(err, ENOMEM, "healthcheck");
    if (o->cmd)
        json_object_set_new(hc, "Test", json_pack("[s,s]", "CMD-SHELL", o->cmd));
    for (size_t i = 0; i < 3; i++)
        if (vals[i])
            json_object_set_new(hc, keys[i], json_integer(vals[i]));
    if (o->retries)
        json_object_set_new(hc, "Retries", json_integer(o->retries));
    *out = hc;
    return 0;
}

void health_config_release(struct health_config *c)
{
    for (size_t i = 0; c->args && c->args[i]; i++)
        free(c->args[i]);
    free(c->args);
    c->args = NULL;
}

static int64_t health_ns(json_t *hc, const char *key, int64_t dflt)
{
    json_int_t v = json_integer_value(json_object_get(hc, key));
    return v > 0 ? (int64_t)v : dflt;
}

int health_config_parse(const char *json, struct health_config *c, struct err **err)
{
    json_error_t je;
    _cleanup_json_ json_t *hc = json_loads(json, 0, &je);
    json_t *test;
    size_t n;

    *c = (struct health_config){0};
    if (!json_is_object(hc))
        return err_val(err, EINVAL, "healthcheck `%s`: %s", json,
                       hc ? "expected a JSON object" : je.text);
    test = json_object_get(hc, "Test");
    n = json_array_size(test);
    c->interval_ns = health_ns(hc, "Interval", HEALTH_DEFAULT_INTERVAL_NS);
    c->timeout_ns = health_ns(hc, "Timeout", HEALTH_DEFAULT_TIMEOUT_NS);
    c->start_period_ns = health_ns(hc, "StartPeriod", 0);
    c->retries = (unsigned)health_ns(hc, "Retries", HEALTH_DEFAULT_RETRIES);
    const char *kind = json_string_value(json_array_get(test, 0));
    if (n == 0 || !kind || strcmp(kind, "NONE") == 0)
        return 0;
    bool shell = strcmp(kind, "CMD-SHELL") == 0;
    if (!shell && strcmp(kind, "CMD") != 0)
        return err_val(err, EINVAL, "healthcheck: unknown test kind `%s` (CMD, CMD-SHELL, NONE)",
                       kind);
    if (n < 2)
        return err_val(err, EINVAL, "healthcheck: %s without a command", kind);
    c->args = calloc(n + 3, sizeof(char *));
    if (!c->args)
        return err_set(err, ENOMEM, "healthcheck");
    size_t k = 0;
    if (shell) {
        /* Docker joins the rest with spaces for /bin/sh -c */
        size_t len = 1;
        for (size_t i = 1; i < n; i++)
            len += strlen(json_string_value(json_array_get(test, i)) ?: "") + 1;
        char *cmd = calloc(1, len);
        if (!cmd)
            goto nomem;
        for (size_t i = 1; i < n; i++) {
            if (i > 1)
                strcat(cmd, " ");
            strcat(cmd, json_string_value(json_array_get(test, i)) ?: "");
        }
        c->args[k++] = strdup("/bin/sh");
        c->args[k++] = strdup("-c");
        c->args[k++] = cmd;
    } else {
        for (size_t i = 1; i < n; i++)
            c->args[k++] = strdup(json_string_value(json_array_get(test, i)) ?: "");
    }
    for (size_t i = 0; i < k; i++)
        if (!c->args[i])
            goto nomem;
    return 0;
nomem:
    health_config_release(c);
    return err_set(err, ENOMEM, "healthcheck");
}

const char *health_status_name(enum health_status s)
{
    switch (s) {
    case HEALTH_HEALTHY:
        return "healthy";
    case HEALTH_UNHEALTHY:
        return "unhealthy";
    case HEALTH_STARTING:
        break;
    }
    return "starting";
}

void health_state_reset(struct health_state *s)
{
    s->status = HEALTH_STARTING;
    s->failing_streak = 0;
}

void health_state_add(struct health_state *s, const struct health_config *c, int64_t started_ns,
                      struct health_result *r)
{
    if (r->exit_code == 0) {
        s->failing_streak = 0;
        s->status = HEALTH_HEALTHY;
    } else {
        /* a failure within the start period of a container never healthy
         * yet does not count (moby's handleProbeResult) */
        bool count =
            !(s->status == HEALTH_STARTING && r->start_ns - started_ns < c->start_period_ns);
        if (count && ++s->failing_streak >= c->retries)
            s->status = HEALTH_UNHEALTHY;
    }
    if (s->n_log == HEALTH_LOG_MAX) {
        free(s->log[0].output);
        memmove(&s->log[0], &s->log[1], sizeof(s->log[0]) * (HEALTH_LOG_MAX - 1));
        s->n_log--;
    }
    s->log[s->n_log++] = *r;
    r->output = NULL;
}

/* Go's RFC3339Nano in UTC, as Docker prints times. */
static void health_time(int64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / 1000000000LL);
    struct tm tm;
    char frac[16] = "";
    long f = (long)(ns % 1000000000LL);

    gmtime_r(&t, &tm);
    if (f) {
        snprintf(frac, sizeof(frac), ".%09ld", f);
        for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
            frac[n - 1] = '\0';
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

json_t *health_state_json(const struct health_state *s)
{
    json_t *log = json_array(), *doc;

    for (size_t i = 0; log && i < s->n_log; i++) {
        char a[48], b[48];
        health_time(s->log[i].start_ns, a, sizeof(a));
        health_time(s->log[i].end_ns, b, sizeof(b));
        json_array_append_new(log, json_pack("{s:s,s:s,s:i,s:s}", "Start", a, "End", b, "ExitCode",
                                             s->log[i].exit_code, "Output",
                                             s->log[i].output ? s->log[i].output : ""));
    }
    doc = json_pack("{s:s,s:i,s:o}", "Status", health_status_name(s->status), "FailingStreak",
                    (int)s->failing_streak, "Log", log ? log : json_null());
    return doc;
}

void health_state_release(struct health_state *s)
{
    for (size_t i = 0; i < s->n_log; i++)
        free(s->log[i].output);
    s->n_log = 0;
}

void health_output_clean(char *s, size_t len)
{
    /* JSON needs UTF-8: a byte that does not start a whole, valid sequence
     * becomes '?' (Go's json writes U+FFFD there) */
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        bool ok = n > 0 && i + n <= len && (n != 2 || c >= 0xc2);
        for (size_t k = 1; ok && k < n; k++)
            ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
        if (c == 0)
            ok = false;
        if (!ok) {
            s[i++] = '?';
            continue;
        }
        i += n;
    }
}
