/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI hooks (config.md "POSIX-platform Hooks"): the state JSON on stdin, with timeouts. */
#ifndef ISOLA_RUNTIME_HOOKS_H
#define ISOLA_RUNTIME_HOOKS_H

#include <jansson.h>

#include "runtime/spec.h"

/* Run every hook of one kind in order; the first failure stops ("hooks.prestart[0]
 * `/bin/x`: timed out after 2 s"). */
int hooks_run(const struct spec_hooks *h, enum spec_hook_kind kind, const char *state_json,
              struct err **err);
/* Run hooks from their JSON form (the copy kept in the state for poststop). */
int hooks_run_json(json_t *hooks, enum spec_hook_kind kind, const char *state_json,
                   struct err **err);

#endif
