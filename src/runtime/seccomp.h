/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seccomp from the OCI config (`linux.seccomp`, runtime-spec config-linux.md
 * "Seccomp"), built with libseccomp in two steps so the container's child
 * process does no allocation or parsing: compile in the runtime (all errors name
 * the field: "linux.seccomp.syscalls[3].action: unknown action `SCMP_ACT_FOO`"),
 * then install the finished BPF program with seccomp(2) as the last step before
 * exec. Syscall names this libseccomp does not know are skipped (as runc does:
 * profiles list syscalls of newer kernels); unknown actions, operators, flags
 * and architectures are errors.
 *
 * Which process: seccomp_compile*() in the runtime before clone (or before the
 * child is released); seccomp_install() in the container's child, after
 * capabilities and the uid switch, immediately before execve (so the filter
 * does not have to allow the runtime's own setup syscalls). Without
 * CAP_SYS_ADMIN the child must set PR_SET_NO_NEW_PRIVS first (the kernel
 * requires it; process.noNewPrivileges usually does it).
 */
#ifndef ISOLA_RUNTIME_SECCOMP_H
#define ISOLA_RUNTIME_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

struct seccomp_filter;

/* Compile linux.seccomp (NULL: no filter, *out = NULL). All actions (incl.
 * SCMP_ACT_ERRNO with errnoRet, SCMP_ACT_LOG, SCMP_ACT_NOTIFY, KILL_PROCESS,
 * TRACE), argument filters, architectures, flags. */
int seccomp_compile(json_t *seccomp, struct seccomp_filter **out, struct err **err);

/* Does the filter use SCMP_ACT_NOTIFY (so install returns a listener fd)? */
bool seccomp_needs_notify(const struct seccomp_filter *f);
/* listenerPath / listenerMetadata from the config, or NULL. */
const char *seccomp_listener_path(const struct seccomp_filter *f);
const char *seccomp_listener_metadata(const struct seccomp_filter *f);

/* Install in the calling process (after no_new_privs or with CAP_SYS_ADMIN).
 * Async-signal-safe apart from the error path. *notify_fd gets the listener fd
 * when the filter notifies (else -1). */
int seccomp_install(const struct seccomp_filter *f, int *notify_fd, struct err **err);

/*
 * seccomp_compile() through a cache: the BPF program is stored under
 * `cache_dir` (created 0700 if missing) in a file named after the SHA-256 of
 * the canonical JSON (keys sorted), the libseccomp version and the kernel
 * release, so the ~ms of libseccomp work is paid once per profile. A missing,
 * unreadable or corrupt cache entry falls back to compiling (and rewrites it).
 * cache_dir NULL: plain seccomp_compile().
 */
int seccomp_compile_cached(json_t *seccomp, const char *cache_dir, struct seccomp_filter **out,
                           struct err **err);

/* Number of BPF instructions (tests, benchmarks). */
size_t seccomp_filter_len(const struct seccomp_filter *f);

void seccomp_filter_free(struct seccomp_filter *f);

#endif
