/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network options of `isola run` (foreground) and `isola build`
 * (docs/networks.md): parsed here into ctr_net_opts (engine/ctr_net.h). The
 * default network when --network is not given: $ISOLA_DEFAULT_NETWORK
 * (Podman's containers.conf default_network; `none` is dockerd's
 * --bridge=none), else `bridge`.
 */
#ifndef ISOLA_CLI_NET_FLAGS_H
#define ISOLA_CLI_NET_FLAGS_H

#include <getopt.h>
#include <stddef.h>

#include "engine/ctr_net.h"
#include "util/err.h"

enum {
    NF_NETWORK = 3000,
    NF_IP,
    NF_DNS,
    NF_DNS_SEARCH,
    NF_ADD_HOST,
    NF_NETWORK_ALIAS,
};

/* getopt_long entries: -p and -P are the short forms of --publish and
 * --publish-all (NET_FLAGS_SHORT). */
#define NET_FLAGS_LONGOPTS                                                                    \
    {"network", required_argument, NULL, NF_NETWORK},                                         \
        {"net", required_argument, NULL, NF_NETWORK}, {"ip", required_argument, NULL, NF_IP}, \
        {"dns", required_argument, NULL, NF_DNS},                                             \
        {"dns-search", required_argument, NULL, NF_DNS_SEARCH},                               \
        {"add-host", required_argument, NULL, NF_ADD_HOST},                                   \
        {"network-alias", required_argument, NULL, NF_NETWORK_ALIAS},                         \
        {"publish", required_argument, NULL, 'p'},                                            \
    {                                                                                         \
        "publish-all", no_argument, NULL, 'P'                                                 \
    }
#define NET_FLAGS_SHORT "p:P"

struct net_flags {
    struct ctr_net_opts o;
    char **dns, **dns_search, **add_host, **publish, **aliases; /* borrowed strings */
    size_t n_dns, n_dns_search, n_add_host, n_publish, n_aliases;
};

/* Room for argc arguments' worth of each list. */
int net_flags_init(struct net_flags *f, int argc, struct err **err);
/* Take option c (1: taken, 0: not a network option). */
int net_flags_take(struct net_flags *f, int c, const char *arg);
/* The default network when none was given; f->o is then complete. */
void net_flags_finish(struct net_flags *f);
void net_flags_release(struct net_flags *f);
/* The default network ($ISOLA_DEFAULT_NETWORK; NULL: bridge). */
const char *net_flags_default_network(void);

extern const char net_flags_help[];

#endif
