/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM monitor's control socket (isola-vmm run --control PATH; docs/vm.md,
 * "Control socket"): AF_UNIX SOCK_SEQPACKET, mode 0600, served by the main
 * loop between guest events. One request per connection, one reply:
 *
 *   pause        vCPUs parked, devices quiesced       ok paused
 *   resume                                             ok running
 *   state                                              ok running|paused
 *   powerbutton  the ACPI power button (a shutdown request)   ok
 *   snapshot [--leave-paused] DIR   pause, write a snapshot (snapshot.h),
 *                run again unless asked or paused before  ok running|paused
 *
 * An error is `error MESSAGE`. Requests that a snapshot will add take
 * arguments after a space (`snapshot DIR`), and run on the paused machine.
 */
#ifndef ISOLA_VM_CONTROL_H
#define ISOLA_VM_CONTROL_H

#include "vm/machine.h"

#define CONTROL_MSG_MAX 4096

/* Listen on path (a stale socket there is replaced) and register it with the
 * machine's watcher (util/reaper.h); m->ctl_fd, m->ctl_path. */
int control_listen(struct vm_machine *m, const char *path, struct err **err);
/* Serve the connections waiting on m->ctl_fd (main loop). */
void control_serve(struct vm_machine *m);
/* Close and remove the socket (machine_destroy). */
void control_close(struct vm_machine *m);

#endif
