/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container process (config.md "Process", config-linux.md "Sysctl",
 * "Personality"): run in the container's init or exec child, after the rootfs
 * is in place, up to execve. */
#ifndef ISOLA_RUNTIME_PROCESS_H
#define ISOLA_RUNTIME_PROCESS_H

#include <stdbool.h>

#include "runtime/seccomp.h"
#include "runtime/spec.h"

/* hostname, domainname, sysctl, personality (container-wide settings). */
int process_container_settings(const struct spec *s, struct err **err);
/* rlimits, oomScoreAdj, ioPriority, scheduler, umask. */
int process_limits(const struct spec_process *p, struct err **err);
/* chdir(cwd), then resolve args[0] with the PATH of p->env (*path: caller frees). */
int process_prepare_exec(const struct spec_process *p, char **path, struct err **err);
/* additionalGids, gid, uid (with capabilities kept), then the five capability sets. */
int process_switch_user(const struct spec_process *p, struct err **err);
/* A session of its own, without a controlling terminal. A process left in the
 * caller's session could use the caller's terminal as its own: push input into
 * it with TIOCSTI (while /proc/sys/dev/tty/legacy_tiocsti is 1), or take part
 * in its job control. runc does the same for every init and exec process. */
/* No signal blocked and none ignored, whatever the creator had (a monitor, a
 * shell's nohup, a foreground run's proxy): the workload starts as from a
 * fresh init, as with crun. Handlers need no reset: execve does that. */
void process_reset_signals(void);
int process_new_session(struct err **err);
/* Create a pty, send its master over console_sock (SCM_RIGHTS), make the slave
 * the controlling terminal and stdio; bind it at /dev/console if `console`. */
int process_terminal(int console_sock, const struct spec_process *p, bool console,
                     struct err **err);
/* Mark every fd >= 3 + preserve_fds close-on-exec. */
int process_cloexec_from(int first, struct err **err);
/* no_new_privs (when asked), then the seccomp filter, then execve. Returns only
 * on failure. The filter is installed whether or not no_new_privs is set. */
int process_exec(const struct spec_process *p, const char *path, const struct seccomp_filter *f,
                 int *notify_fd, struct err **err);
/* no_new_privs (if set_nnp and asked), then the filter; a notify fd goes to the
 * connected `listener` with the state (SCMP_ACT_NOTIFY), the message built
 * before the filter so that only sendmsg runs after it (the fd is CLOEXEC). */
int process_seccomp(const struct spec_process *p, const struct seccomp_filter *f, bool set_nnp,
                    int listener, const char *state_json, struct err **err);
int process_execve(const struct spec_process *p, const char *path, struct err **err);

#endif
