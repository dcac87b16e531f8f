/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola's nftables table, through libnftables (docs/networks.md, "The nft
 * table"): `table ip isola` and nothing else; every change is one atomic
 * transaction. Per network (keyed by its bridge name): masquerade of what
 * leaves the bridge for another interface (none for --internal), forward
 * accept rules, hairpin masquerade. Published ports: two DNAT maps shared by
 * the prerouting (other machines) and output (this host, 127.0.0.1 included)
 * hooks.
 */
#ifndef ISOLA_NET_NFTABLES_H
#define ISOLA_NET_NFTABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "net/cidr.h"
#include "util/err.h"

#define NFTABLES_FAMILY "ip"
#define NFTABLES_TABLE  "isola"

/* Create the table, its maps and base chains when missing (idempotent). */
int nftables_setup(struct err **err);
/* Add (or replace) a network's rules; idempotent. */
int nftables_network_add(const char *bridge, const struct cidr *subnet, bool internal,
                         struct err **err);
/* Remove a network's rules; a network without rules is success. */
int nftables_network_remove(const char *bridge, struct err **err);

/* A published port: proto "tcp" or "udp"; host_ip 0 for every local
 * address. port_remove: ENOENT when no such mapping. */
struct nftables_port {
    const char *proto;
    uint32_t host_ip;
    uint16_t host_port;
    uint32_t ctr_ip;
    uint16_t ctr_port;
};
int nftables_port_add(const struct nftables_port *p, struct err **err);
int nftables_port_remove(const struct nftables_port *p, struct err **err);

/* Run an nft script in one transaction (exposed for tests and `list`):
 * *out (optional, caller frees) is nft's output. */
int nftables_run(const char *script, char **out, struct err **err);

#endif
