/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DNS by name on user networks (docs/networks.md, "DNS"): one dnsmasq per
 * network, as libvirt runs, listening only on the network's gateway address
 * in the network namespace of the calling process. It runs while the network
 * has members (containers holding one of its addresses): the first one starts
 * it, the last one stops it. Its names are an --addn-hosts file, rewritten
 * atomically and re-read on SIGHUP whenever a member joins, leaves or is
 * renamed.
 *
 * Its files live in <run_root>/dns/<network id>/ (hosts, dnsmasq.pid); a
 * server is stopped only when its pid file names a live process whose command
 * line carries that pid file (pid AND identity), so a reused pid is never
 * signalled. The default network "bridge" gets none: Docker gives no DNS by
 * name there either; its server, there only while a VM holds a lease, is a
 * DHCP server alone.
 *
 * The same server leases VMs their IPAM address by DHCP: static leases only
 * (--dhcp-range=SUBNET,static, one --dhcp-host line per VM in <dir>/dhcp/).
 */
#ifndef ISOLA_ENGINE_NETWORK_DNS_H
#define ISOLA_ENGINE_NETWORK_DNS_H

#include "engine/db.h"
#include "util/err.h"

/* Bring network `ref`'s server in line with its members: none, stopped (and
 * its files removed); some, the names file rewritten and the server started
 * or told to re-read it. A network that is gone: its server stopped. */
int network_dns_sync(struct db *db, const char *run_root, const char *ref, struct err **err);
/* Write (mac != NULL) or remove owner_id's static DHCP lease "MAC,IP,NAME"
 * on network net_id; network_dns_sync() then makes the server see it. */
int network_dns_dhcp_host(const char *run_root, const char *net_id, const char *owner_id,
                          const char *mac, const char *ip, const char *name, struct err **err);
/* network_dns_sync() for every network that has a server or members (after a
 * rename, which changes names on every network of a container). */
int network_dns_sync_all(struct db *db, const char *run_root, struct err **err);
/* Stop the servers whose network is gone or has no member (after `network
 * rm`/`prune`, and what a killed command left running). */
int network_dns_gc(struct db *db, const char *run_root, struct err **err);

#endif
