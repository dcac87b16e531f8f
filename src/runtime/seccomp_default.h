/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The default seccomp profile of the container engine (`isola run`): the
 * profile podman and CRI-O apply (containers-common's seccomp.json, Docker's
 * format), built in (seccomp_default_table.c), so nothing has to be installed
 * at run time. Turned into an OCI `linux.seccomp` object the way podman does:
 * rules whose includes/excludes do not match the native arch, the container's
 * bounding capabilities or the running kernel are left out. One deliberate
 * difference, Docker's: add_key, keyctl and request_key fail with EPERM
 * without CAP_SYS_ADMIN (containers-common allows keyctl).
 */
#ifndef ISOLA_RUNTIME_SECCOMP_DEFAULT_H
#define ISOLA_RUNTIME_SECCOMP_DEFAULT_H

#include <jansson.h>

#include "util/err.h"

/* linux.seccomp for a container whose process.capabilities.bounding is
 * `bounding` (a JSON array of CAP_* names, or NULL for none). */
int seccomp_default_spec(json_t *bounding, json_t **out, struct err **err);

#endif
