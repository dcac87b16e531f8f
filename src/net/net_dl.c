/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "net/net_dl.h"

#define NET_DL_DEFINE_(s) DL_SYM_DEFINE(s);
NET_DL_NL_SYMS(NET_DL_DEFINE_)
NET_DL_ROUTE_SYMS(NET_DL_DEFINE_)
NET_DL_NFT_SYMS(NET_DL_DEFINE_)

#define NET_DL_ARG_(s) DL_SYM(s),
static const struct dl_sym nl_syms[] = {NET_DL_NL_SYMS(NET_DL_ARG_)};
static const struct dl_sym route_syms[] = {NET_DL_ROUTE_SYMS(NET_DL_ARG_)};
static const struct dl_sym nft_syms[] = {NET_DL_NFT_SYMS(NET_DL_ARG_)};

/* The sonames of Debian 12's libnl-3-200, libnl-route-3-200, libnftables1. */
static struct dl_lib nl_lib = DL_LIB("libnl-3.so.200", "libnl-3-200", nl_syms);
static struct dl_lib route_lib = DL_LIB("libnl-route-3.so.200", "libnl-route-3-200", route_syms);
static struct dl_lib nft_lib = DL_LIB("libnftables.so.1", "libnftables1", nft_syms);

int net_dl_load_nl(struct err **err)
{
    if (dl_load(&nl_lib, err) < 0 || dl_load(&route_lib, err) < 0)
        return -1;
    return 0;
}

int net_dl_load_nft(struct err **err)
{
    return dl_load(&nft_lib, err);
}
