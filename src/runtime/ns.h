/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Namespaces (config-linux.md "Namespaces", "User namespace mappings"). */
#ifndef ISOLA_RUNTIME_NS_H
#define ISOLA_RUNTIME_NS_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/spec.h"

/* CLONE_NEW* flags of the namespaces the container gets new, without time and
 * cgroup (time is unshared before the clone, cgroup after the cgroup join). */
int ns_clone_flags(const struct spec *s);
/* Does creating the init need a helper process (joined namespaces, time ns)? */
bool ns_needs_helper(const struct spec *s);
/* In the helper: setns(2) into every namespace given by path (user first). */
int ns_join_paths(const struct spec *s, struct err **err);
/* In the helper: unshare the time namespace and set its offsets. */
int ns_unshare_time(const struct spec *s, struct err **err);
/* From the runtime: write /proc/PID/{uid,gid}_map. */
int ns_write_idmaps(pid_t pid, const struct spec *s, struct err **err);
/* `exec`: join every namespace of pid that differs from ours (user first). */
int ns_join_pid(pid_t pid, struct err **err);

#endif
