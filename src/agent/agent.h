/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola-agent: PID 1 of a microVM guest (docs/microvm.md). agent_boot.c makes
 * the guest ready (file systems, modules, the container's root); agent.c
 * serves the host over vsock and runs the container with src/runtime.
 */
#ifndef ISOLA_AGENT_AGENT_H
#define ISOLA_AGENT_AGENT_H

#include "util/err.h"

#define AGENT_ROOT_SERIAL "isola-root" /* virtio-blk serial of the root image */
#define AGENT_ROOT        "/run/root"  /* the container's root: overlay, tmpfs upper */
#define AGENT_BUNDLE      "/run/bundle"
#define AGENT_STATE       "/run/oci"

/* /proc, /sys, /dev, /run, cgroup2; the modules of /etc/modules.load. */
int agent_boot_base(struct err **err);
/* The disk with serial AGENT_ROOT_SERIAL, read-only, below a tmpfs upper at
 * AGENT_ROOT. */
int agent_boot_root(struct err **err);
/* Log a line on the console. */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
