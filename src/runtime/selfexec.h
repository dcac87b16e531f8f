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

/* Remember argv (main's) so the library can re-execute when it finds it must:
 * a container whose init shares or joins a pid namespace can see the runtime's
 * process before exec. With a new pid namespace nothing else runs in it until
 * the init has exec'd the container's program (and `exec` is refused before
 * start), so create/run skip the copy. */
void selfexec_init(char **argv);
/* selfexec_ensure_sealed() with the remembered argv; an error if there is none. */
int selfexec_reexec(struct err **err);

#endif
