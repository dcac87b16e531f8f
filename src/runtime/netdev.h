/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network devices the runtime sets up itself in a new network namespace. */
#ifndef ISOLA_RUNTIME_NETDEV_H
#define ISOLA_RUNTIME_NETDEV_H

#include "util/err.h"

/* Bring the loopback device `lo` of the calling process's network namespace
 * up, as runc and crun do for a new one (ioctl SIOCSIFFLAGS; needs
 * CAP_NET_ADMIN over the namespace). */
int netdev_lo_up(struct err **err);

#endif
