/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container engine's defaults (`isola run`), one owner for each: Docker's
 * default capability set, podman's mounts and their flags, masked and
 * read-only paths, RLIMIT_NOFILE, and the built-in default seccomp profile.
 * docs/security.md lists them beside podman's. spec_default() (spec.c) stays
 * the `runc spec`-like template of `isola-oci spec`.
 */
#ifndef ISOLA_RUNTIME_SPEC_DEFAULTS_H
#define ISOLA_RUNTIME_SPEC_DEFAULTS_H

#include <jansson.h>
#include <stdint.h>

#include "util/err.h"

/* Docker's default capability set (NULL-terminated). */
extern const char *const spec_defaults_caps[];

/* spec_defaults_caps as a JSON array of strings (NULL on ENOMEM). */
json_t *spec_defaults_caps_json(void);

/* Give `spec` (a config.json object with process, mounts and linux) the
 * engine's defaults: capabilities, mounts, masked/read-only paths,
 * RLIMIT_NOFILE soft = hard = `nofile` (0: leave the rlimits alone), and the
 * default seccomp profile for those capabilities unless linux.seccomp is set. */
int spec_defaults_engine(json_t *spec, uint64_t nofile, struct err **err);

#endif
