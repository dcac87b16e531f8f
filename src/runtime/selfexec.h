/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CVE-2019-5736: a container process that can open /proc/PID/exe of the runtime
 * (while the runtime joins its namespaces) could overwrite the runtime binary on
 * the host. Before entering a container the runtime re-executes itself from a
 * sealed memfd: /proc/PID/exe then names an anonymous, unwritable copy.
 */
#ifndef ISOLA_RUNTIME_SELFEXEC_H
#define ISOLA_RUNTIME_SELFEXEC_H

#include "util/err.h"

/* Returns 0 when already running from a sealed memfd; otherwise does not return
 * on success (fexecve with the same argv and environ). */
int selfexec_ensure_sealed(char **argv, struct err **err);

#endif
