/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `run` of a terminal container without --console-socket: the runtime receives
 * the pty master itself and relays it to its own stdin/stdout (runc does the same). */
#ifndef ISOLA_RUNTIME_TERMINAL_H
#define ISOLA_RUNTIME_TERMINAL_H

#include "util/err.h"

/* Receive one fd sent with SCM_RIGHTS on sock. */
int terminal_recv_fd(int sock, int *fd, struct err **err);
/* Copy stdin to master and master to stdout until the container side closes.
 * A terminal on stdin is put in raw mode meanwhile and its size copied. */
int terminal_relay(int master, struct err **err);

#endif
