/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libnl-3, libnl-route-3 and libnftables, opened on first use (util/dl.h):
 * only the network commands need them, and libnftables pulls in libnftnl,
 * libmnl, libxtables and libgmp, which every other `isola` command would load
 * for nothing (docs/development.md, "Optional libraries and start-up cost").
 * netlink.c and nftables.c call net_dl_load_nl() / net_dl_load_nft() at their
 * entry points, then sym_*().
 */
#ifndef ISOLA_NET_NET_DL_H
#define ISOLA_NET_NET_DL_H

#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <nftables/libnftables.h>

#include "util/dl.h"
#include "util/err.h"

/* Every libnl-3 function isola calls, in one place. */
#define NET_DL_NL_SYMS(X) \
    X(nl_addr_parse)      \
    X(nl_addr_put)        \
    X(nl_connect)         \
    X(nl_geterror)        \
    X(nl_socket_alloc)    \
    X(nl_socket_free)     \
    X(nl_socket_get_fd)

/* ... libnl-route-3 ... */
#define NET_DL_ROUTE_SYMS(X)      \
    X(rtnl_addr_add)              \
    X(rtnl_addr_alloc)            \
    X(rtnl_addr_put)              \
    X(rtnl_addr_set_family)       \
    X(rtnl_addr_set_ifindex)      \
    X(rtnl_addr_set_local)        \
    X(rtnl_link_add)              \
    X(rtnl_link_alloc)            \
    X(rtnl_link_bridge_set_flags) \
    X(rtnl_link_change)           \
    X(rtnl_link_delete)           \
    X(rtnl_link_get_ifindex)      \
    X(rtnl_link_get_kernel)       \
    X(rtnl_link_put)              \
    X(rtnl_link_set_family)       \
    X(rtnl_link_set_flags)        \
    X(rtnl_link_set_ifindex)      \
    X(rtnl_link_set_master)       \
    X(rtnl_link_set_name)         \
    X(rtnl_link_set_ns_fd)        \
    X(rtnl_link_set_type)         \
    X(rtnl_link_veth_alloc)       \
    X(rtnl_link_veth_get_peer)    \
    X(rtnl_route_add)             \
    X(rtnl_route_add_nexthop)     \
    X(rtnl_route_alloc)           \
    X(rtnl_route_nh_alloc)        \
    X(rtnl_route_nh_free)         \
    X(rtnl_route_nh_set_gateway)  \
    X(rtnl_route_nh_set_ifindex)  \
    X(rtnl_route_put)             \
    X(rtnl_route_set_dst)         \
    X(rtnl_route_set_family)

/* ... and libnftables. */
#define NET_DL_NFT_SYMS(X)       \
    X(nft_ctx_buffer_error)      \
    X(nft_ctx_buffer_output)     \
    X(nft_ctx_free)              \
    X(nft_ctx_get_error_buffer)  \
    X(nft_ctx_get_output_buffer) \
    X(nft_ctx_new)               \
    X(nft_run_cmd_from_buffer)

#define NET_DL_PROTO_(s) DL_SYM_PROTOTYPE(s);
NET_DL_NL_SYMS(NET_DL_PROTO_)
NET_DL_ROUTE_SYMS(NET_DL_PROTO_)
NET_DL_NFT_SYMS(NET_DL_PROTO_)
#undef NET_DL_PROTO_

/* libnl-3 and libnl-route-3 */
int net_dl_load_nl(struct err **err);
int net_dl_load_nft(struct err **err);

#endif
