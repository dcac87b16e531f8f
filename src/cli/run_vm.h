/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `isola run --isolation=vm` in the foreground (run_vm.c, docs/microvm.md). */
#ifndef ISOLA_CLI_RUN_VM_H
#define ISOLA_CLI_RUN_VM_H

#include <limits.h>

#include "util/err.h"

struct run_vm_paths {
    char kernel_dir[PATH_MAX], agent[PATH_MAX], vmm[PATH_MAX], cache_dir[PATH_MAX];
};

/* The guest kernel (--kernel DIR, else ${ISOLA_CACHE:-~/.cache/isola}/testhost/current),
 * the agent and monitor next to this program ($ISOLA_AGENT, $ISOLA_VMM) and
 * the cache (${ISOLA_CACHE:-~/.cache/isola}/microvm). */
int run_vm_resolve(const char *kernel_arg, struct run_vm_paths *p, struct err **err);

/* Run the bundle in a microVM until it ends; *status: its exit code
 * (128 + N when signal N killed it). */
int run_vm(const struct run_vm_paths *p, const char *state_root, const char *id, const char *bundle,
           const char *root_key, int *status, struct err **err);

#endif
