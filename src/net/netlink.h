/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Links, addresses and routes through libnl-route-3 (docs/networks.md, "Why
 * libnl"): bridges, veth pairs whose far end goes into a network namespace,
 * and tap devices for VMs. Every function works in the calling process's
 * network namespace, except where a namespace fd is given.
 */
#ifndef ISOLA_NET_NETLINK_H
#define ISOLA_NET_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/cidr.h"
#include "util/err.h"

/* Linux's IFNAMSIZ - 1 */
#define NETLINK_IFNAME_MAX 15

/* Create bridge `name` (EEXIST when it exists) with address gw/prefix, up. */
int netlink_bridge_create(const char *name, const struct cidr *gw, struct err **err);
/* Delete link `name`; a missing link is success when `missing_ok`. */
int netlink_link_delete(const char *name, bool missing_ok, struct err **err);

/*
 * A veth pair: `host_name` enslaved to `bridge` and up in this namespace, its
 * peer created straight in the namespace of `netns_fd` as `ns_name` (so the
 * name never clashes here), with address addr/prefix, up, loopback up, and a
 * default route through `gateway` (none when 0).
 */
struct netlink_veth {
    const char *bridge, *host_name;
    int netns_fd;
    const char *ns_name;
    struct cidr addr;
    uint32_t gateway;
};
int netlink_veth_create(const struct netlink_veth *v, struct err **err);

/* A tap device for a VM: open /dev/net/tun as `name` (IFF_TAP | IFF_NO_PI,
 * plus IFF_VNET_HDR when vnet_hdr), enslave it to `bridge`, set it up. *fd
 * (O_CLOEXEC) is the queue; the device goes away when it is closed. */
int netlink_tap_create(const char *name, const char *bridge, bool vnet_hdr, int *fd,
                       struct err **err);

/* The destinations of this namespace's IPv4 routes (/proc/net/route), the
 * default route left out: what a new network's subnet must not overlap.
 * *out: caller frees. */
int netlink_routes_ipv4(struct cidr **out, size_t *n, struct err **err);

/* Write VALUE to /proc/sys/net/ipv4/conf/IFNAME/KEY (route_localnet) or, for a
 * NULL ifname, /proc/sys/net/ipv4/KEY (ip_forward), in this namespace. */
int netlink_sysctl_ipv4(const char *ifname, const char *key, const char *value, struct err **err);

#endif
