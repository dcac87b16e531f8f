/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `--pull missing|always|never` of run and create, as Docker's: pull an image
 * that is not in the store (the default), pull it every time (a newer image
 * under the same reference replaces the local one), or never pull.
 */
#ifndef ISOLA_CLI_PULL_POLICY_H
#define ISOLA_CLI_PULL_POLICY_H

#include "image/store.h"
#include "util/err.h"

enum pull_policy {
    PULL_MISSING = 0,
    PULL_ALWAYS,
    PULL_NEVER,
};

/* The policy of a flag value; -1 for an unknown one. */
int pull_policy_parse(const char *s);

/* Make sure `image` is in s under policy p (the caller prefixes errors with
 * its name). */
int pull_policy_ensure(struct store *s, const char *image, enum pull_policy p, struct err **err);

#endif
