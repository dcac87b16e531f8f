/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "engine/restart.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {
    [RESTART_NO] = "no",
    [RESTART_ON_FAILURE] = "on-failure",
    [RESTART_ALWAYS] = "always",
    [RESTART_UNLESS_STOPPED] = "unless-stopped",
};

const char *restart_mode_name(enum restart_mode m)
{
    return (unsigned)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : NULL;
}

int restart_mode_parse(const char *s)
{
    for (size_t i = 0; s != NULL && i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
        if (strcmp(mode_names[i], s) == 0)
            return (int)i;
    return -1;
}

void restart_policy_format(const struct restart_policy *p, char *buf, size_t len)
{
    const char *name = restart_mode_name(p->mode);

    if (p->mode == RESTART_ON_FAILURE && p->max_retries > 0)
        snprintf(buf, len, "%s:%u", name, p->max_retries);
    else
        snprintf(buf, len, "%s", name ? name : "no");
}

int restart_policy_parse(const char *s, struct restart_policy *p, struct err **err)
{
    *p = (struct restart_policy){0};
    int m = restart_mode_parse(s);
    if (m >= 0) {
        p->mode = (enum restart_mode)m;
        return 0;
    }
    if (strncmp(s, "on-failure:", 11) == 0) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(s + 11, &end, 10);
        if (s[11] < '0' || s[11] > '9' || *end != '\0' || errno != 0 || n > 1000000)
            return err_val(err, EINVAL, "restart policy `%s`: expected on-failure:N with N a count",
                           s);
        p->mode = RESTART_ON_FAILURE;
        p->max_retries = (unsigned)n;
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
