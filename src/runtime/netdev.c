/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "runtime/netdev.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/cleanup.h"

int netdev_lo_up(struct err **err)
{
    _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;

    if (fd < 0)
        return err_sys(err, "socket(AF_INET) to set up `lo`");
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return err_sys(err, "SIOCGIFFLAGS `lo`");
    if (ifr.ifr_flags & IFF_UP)
        return 0;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        return err_sys(err, "bring `lo` up (SIOCSIFFLAGS)");
    return 0;
}
