/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The network options of `isola run` and `isola build`: see net_flags.h. */
#include "cli/net_flags.h"

#include <errno.h>
#include <stdlib.h>

const char net_flags_help[] =
    "  --network NET      bridge (default, or $ISOLA_DEFAULT_NETWORK), none (lo only),\n"
    "                     host, container:NAME (a running container's), or a network's\n"
    "                     name\n"
    "  --network-alias A  another name of it on NET (user networks)\n"
    "  --ip ADDR          the address on NET (claimed; taken: an error)\n"
    "  --dns IP           a nameserver for /etc/resolv.conf\n"
    "  --dns-search DOM   a search domain for /etc/resolv.conf\n"
    "  --add-host NAME:IP a line for /etc/hosts\n"
    "  -p, --publish [IP:][HOSTPORT:]CTRPORT[/tcp|udp]  publish a port or a range\n"
    "  -P, --publish-all  publish every port the image EXPOSEs, each on a free port\n";

const char *net_flags_default_network(void)
{
    const char *v = getenv("ISOLA_DEFAULT_NETWORK");

    return v && *v ? v : NULL;
}

int net_flags_init(struct net_flags *f, int argc, struct err **err)
{
    size_t n = (size_t)argc + 1;

    f->dns = calloc(n, sizeof(char *));
    f->dns_search = calloc(n, sizeof(char *));
    f->add_host = calloc(n, sizeof(char *));
    f->publish = calloc(n, sizeof(char *));
    f->aliases = calloc(n, sizeof(char *));
    if (!f->dns || !f->dns_search || !f->add_host || !f->publish || !f->aliases)
        return err_set(err, ENOMEM, "network options");
    return 0;
}

int net_flags_take(struct net_flags *f, int c, const char *arg)
{
    switch (c) {
    case NF_NETWORK:
        f->o.network = arg;
        return 1;
    case NF_IP:
        f->o.ip = arg;
        return 1;
    case NF_DNS:
        f->dns[f->n_dns++] = (char *)arg;
        return 1;
    case NF_DNS_SEARCH:
        f->dns_search[f->n_dns_search++] = (char *)arg;
        return 1;
    case NF_ADD_HOST:
        f->add_host[f->n_add_host++] = (char *)arg;
        return 1;
    case NF_NETWORK_ALIAS:
        f->aliases[f->n_aliases++] = (char *)arg;
        return 1;
    case 'p':
        f->publish[f->n_publish++] = (char *)arg;
        return 1;
    case 'P':
        f->o.publish_all = true;
        return 1;
    default:
        return 0;
    }
}

void net_flags_finish(struct net_flags *f)
{
    if (!f->o.network)
        f->o.network = net_flags_default_network();
    f->o.dns = f->dns;
    f->o.dns_search = f->dns_search;
    f->o.add_host = f->add_host;
    f->o.publish = f->publish;
    f->o.aliases = f->aliases;
}

void net_flags_release(struct net_flags *f)
{
    free(f->dns);
    free(f->dns_search);
    free(f->add_host);
    free(f->publish);
    free(f->aliases);
}
