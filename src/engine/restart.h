/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Restart policies with Docker's meaning: no, on-failure[:N] (a non-zero exit,
 * at most N restarts when N is given), always, unless-stopped (both restart
 * after any exit; a stop by the user ends either). The delay before a restart
 * is Docker's: 100 ms, doubled at each restart up to 1 minute, back to 100 ms
 * when the last run lasted at least 10 seconds.
 */
#ifndef ISOLA_ENGINE_RESTART_H
#define ISOLA_ENGINE_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum restart_mode {
    RESTART_NO = 0,
    RESTART_ON_FAILURE,
    RESTART_ALWAYS,
    RESTART_UNLESS_STOPPED,
};

struct restart_policy {
    enum restart_mode mode;
    unsigned max_retries; /* on-failure:N; 0: no limit */
};

#define RESTART_DELAY_MIN_MS   100ULL
#define RESTART_DELAY_MAX_MS   60000ULL
#define RESTART_RESET_AFTER_MS 10000ULL

/* The one encoding of a policy: "no", "on-failure", "on-failure:3", "always",
 * "unless-stopped" (the CLI's flag, the monitor's option); the mode's word
 * alone is the state's column (db.c). */
int restart_policy_parse(const char *s, struct restart_policy *p, struct err **err);
/* "on-failure:3" etc. into buf (len >= RESTART_POLICY_LEN). */
#define RESTART_POLICY_LEN 32
void restart_policy_format(const struct restart_policy *p, char *buf, size_t len);
/* The mode's word ("on-failure"), NULL for no mode; the mode of a word, -1
 * for an unknown one. */
const char *restart_mode_name(enum restart_mode m);
int restart_mode_parse(const char *s);
/* Start again after an exit with `code`, after `count` restarts so far;
 * `stopped`: the user stopped it (stop, kill through the engine). */
bool restart_wanted(const struct restart_policy *p, int code, unsigned count, bool stopped);
/* Delay before the next start: prev_ms is the delay used last time (0: none
 * yet), ran_ms how long the run that just ended lasted. */
uint64_t restart_delay_ms(uint64_t prev_ms, uint64_t ran_ms);

#endif
