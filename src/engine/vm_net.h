/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM of `isola vm run` on a network (docs/networks.md, "VMs"): the VM is a
 * workload row (isolation "vm") so that its address is a claim of the IPAM
 * like a container's and its name is in the network's DNS; it gets a tap on
 * the network's bridge and a static DHCP lease of that address from the
 * network's dnsmasq (network_dns.h). vm_net_detach() undoes it all.
 */
#ifndef ISOLA_ENGINE_VM_NET_H
#define ISOLA_ENGINE_VM_NET_H

#include "engine/db.h"
#include "net/cidr.h"
#include "util/err.h"

#define VM_NET_MAX 4
/* The label of the rows vm_net_begin() makes. */
#define VM_NET_LABEL "io.isola.vm-run"

struct vm_net {
    char row_id[DB_ID_LEN + 1]; /* the VM's workload row ("" before vm_net_begin) */
    char *name;
    struct vm_net_link {
        char net_id[DB_ID_LEN + 1];
        char *network;
        char tap[16], mac[18], addr[CIDR_STR_LEN];
    } links[VM_NET_MAX];
    unsigned nlinks;
};

/* The VM's workload row, named `name` (NULL: a generated name), owned by
 * this process. */
int vm_net_begin(struct db *db, const char *name, struct vm_net *vn, struct err **err);
/* spec: network=NAME[,ip=IP][,mac=MAC]. Claim the address, make the tap on
 * the bridge (persistent: the monitor attaches to it by name), write the
 * static lease, bring the DNS/DHCP server up. *tap_spec: "tap=TAP,mac=MAC"
 * for the monitor's --net (free it). */
int vm_net_attach(struct db *db, const char *run_root, struct vm_net *vn, const char *spec,
                  char **tap_spec, struct err **err);
/* Remove taps, leases, addresses, DNS names and the row (what is gone is fine). */
void vm_net_end(struct db *db, const char *run_root, struct vm_net *vn);
/* vm_net_end() for the rows whose `isola vm run` died without it (kill -9):
 * their taps on every network, leases, addresses and the rows. */
int vm_net_gc(struct db *db, const char *run_root, struct err **err);

#endif
