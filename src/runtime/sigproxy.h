/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A foreground run's signal proxy (docker run's sig-proxy): the signals a user
 * sends to the runtime (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) go
 * to the container's init instead of ending the runtime.
 */
#ifndef ISOLA_RUNTIME_SIGPROXY_H
#define ISOLA_RUNTIME_SIGPROXY_H

#include <signal.h>
#include <sys/types.h>

#include "util/err.h"

#include <stdbool.h>

struct sigproxy_mask {
    bool blocked;
    sigset_t old;
};

/* Block the forwarded signals in the calling thread; the old mask comes back
 * with sigproxy_restore() (or a _cleanup_sigproxy_ variable going out of scope). */
void sigproxy_block(struct sigproxy_mask *m);
void sigproxy_restore(struct sigproxy_mask *m);
#define _cleanup_sigproxy_ __attribute__((cleanup(sigproxy_restore)))

/* Forward the (blocked) signals to `pid` until it exits; reap it, *ws is its
 * wait status. The caller restores the mask afterwards. */
int sigproxy_wait(pid_t pid, int *ws, struct err **err);

#endif
