/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the container process finds when it starts, beyond config.json's own
 * fields, as runc and crun give it: HOME, socket activation (LISTEN_FDS,
 * LISTEN_PID), a created cwd, stdio it owns. Runs in the process that execs,
 * inside the container's root (after pivot_root or setns). */
#ifndef ISOLA_RUNTIME_PROCENV_H
#define ISOLA_RUNTIME_PROCENV_H

#include <sys/types.h>

#include "runtime/spec.h"

/* Complete p->env: HOME from the container's /etc/passwd entry of p->uid (else
 * `/`) when env has none; with listen_fds > 0, LISTEN_FDS=listen_fds and
 * LISTEN_PID=getpid() (replacing any in env). */
int procenv_setup(struct spec_process *p, int listen_fds, struct err **err);
/* mkdir -p of process.cwd inside `/` (RESOLVE_IN_ROOT), mode 0755, owned by
 * the caller (the container's root), when it does not exist. */
int procenv_make_cwd(const char *cwd, struct err **err);
/* fchown stdin/stdout/stderr (pipes, sockets, files; not terminals or
 * devices) to uid:gid, so the process can reopen /proc/self/fd/N (crun's
 * behaviour). An fd that cannot be changed (EPERM, EINVAL, EROFS) is left. */
int procenv_chown_stdio(uid_t uid, gid_t gid, struct err **err);
/* The same from the runtime, before the process exists, for the container
 * user uid:gid of spec s: with a new user namespace the fds are given to the
 * host ids it maps to, which the process cannot do from inside (the runtime's
 * own stdio are the process's). */
int procenv_chown_stdio_host(const struct spec *s, uid_t uid, gid_t gid, struct err **err);

#endif
