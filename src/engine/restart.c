/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "engine/restart.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int restart_policy_parse(const char *s, struct restart_policy *p, struct err **err)
{
    *p = (struct restart_policy){0};
    if (strcmp(s, "no") == 0)
        return 0;
    if (strcmp(s, "always") == 0) {
        p->mode = RESTART_ALWAYS;
        return 0;
    }
    if (strcmp(s, "unless-stopped") == 0) {
        p->mode = RESTART_UNLESS_STOPPED;
        return 0;
    }
    if (strncmp(s, "on-failure", 10) == 0 && (s[10] == '\0' || s[10] == ':')) {
        p->mode = RESTART_ON_FAILURE;
        if (s[10] == ':') {
            char *end;
            errno = 0;
            unsigned long n = strtoul(s + 11, &end, 10);
            if (s[11] < '0' || s[11] > '9' || *end != '\0' || errno != 0 || n > 1000000)
                return err_val(err, EINVAL,
                               "restart policy `%s`: expected on-failure:N with N a count", s);
            p->max_retries = (unsigned)n;
        }
        return 0;
    }
    return err_val(err, EINVAL,
                   "restart policy `%s`: expected no, on-failure[:N], always or unless-stopped", s);
}

bool restart_wanted(const struct restart_policy *p, int code, unsigned count, bool stopped)
{
    if (stopped)
        return false;
    switch (p->mode) {
    case RESTART_ON_FAILURE:
        return code != 0 && (p->max_retries == 0 || count < p->max_retries);
    case RESTART_ALWAYS:
    case RESTART_UNLESS_STOPPED:
        return true;
    default:
        return false;
    }
}

uint64_t restart_delay_ms(uint64_t prev_ms, uint64_t ran_ms)
{
    if (prev_ms == 0 || ran_ms >= RESTART_RESET_AFTER_MS)
        return RESTART_DELAY_MIN_MS;
    return prev_ms * 2 > RESTART_DELAY_MAX_MS ? RESTART_DELAY_MAX_MS : prev_ms * 2;
}
