/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capabilities from the OCI config (`process.capabilities`, five sets). */
#ifndef ISOLA_RUNTIME_CAPS_H
#define ISOLA_RUNTIME_CAPS_H

#include <jansson.h>
#include <stdint.h>

#include "util/err.h"

struct caps {
    uint64_t bounding, effective, inheritable, permitted, ambient;
};

/* Parse process.capabilities (NULL: all sets empty), in the runtime, before
 * the container's child is created. Unknown names are an error
 * naming the set and index ("process.capabilities.bounding[2]: unknown capability
 * `CAP_FOO`"); names the running kernel lacks are dropped with a warning, as runc
 * does. */
int caps_parse(json_t *capabilities, struct caps *out, struct err **err);

/* Parse one name ("CAP_NET_ADMIN" or "NET_ADMIN", any case) to its number. */
int caps_from_name(const char *name, int *cap);
const char *caps_name(int cap);
/* Highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap). */
int caps_last_cap(void);

/* In the container's process, after the uid/gid switch was prepared with
 * PR_SET_KEEPCAPS (and after setuid/setgid, which clear the effective set):
 * drop the bounding set to `bounding`, set inheritable, permitted and
 * effective with capset(2), then clear and raise the ambient set. Before
 * seccomp_install() and execve. Allocation-free apart from the error path. */
int caps_apply(const struct caps *c, struct err **err);

#endif
