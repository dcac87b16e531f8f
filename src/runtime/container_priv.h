/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the lifecycle (container.c) and exec (exec.c); not for
 * front ends.
 */
#ifndef ISOLA_RUNTIME_CONTAINER_PRIV_H
#define ISOLA_RUNTIME_CONTAINER_PRIV_H

#include <jansson.h>

#include "runtime/seccomp.h"
#include "util/err.h"

/* The seccomp BPF cache below a state root (private, 0700); its name is
 * reserved: oci_state_check_id() refuses it as a container id. */
#define CONTAINER_SECCOMP_CACHE ".seccomp-cache"

/* linux.seccomp compiled through the cache at <root>/.seccomp-cache
 * (seccomp_compile_cached; NULL seccomp: *out = NULL). */
int container_seccomp_compile(const char *root, json_t *seccomp, struct seccomp_filter **out,
                              struct err **err);

/* A connected AF_UNIX stream socket to path (--console-socket, also
 * linux.seccomp.listenerPath), close-on-exec. */
int container_connect_console(const char *path, struct err **err);

#endif
