/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Networks (docs/networks.md): a bridge with the gateway address, isola's
 * nftables rules for it, and an IPAM in the engine's database. Every call
 * works on the network namespace of the calling process.
 *
 * Crash safety: a network's row is written (state "creating") before its
 * bridge or rules exist, and deleted only after they are gone (state
 * "removing" meanwhile), so a CLI killed at any point leaves nothing the
 * database does not own; network_prune() finishes such rows.
 */
#ifndef ISOLA_ENGINE_NETWORK_H
#define ISOLA_ENGINE_NETWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/db.h"
#include "engine/db_network.h"
#include "util/err.h"

#define NETWORK_DEFAULT        "bridge"
#define NETWORK_DEFAULT_BRIDGE "isola0"

struct network_spec {
    const char *name;
    const char *subnet, *gateway, *ip_range; /* NULL: from the pool, .1, the subnet */
    bool internal;
    const char *labels; /* JSON object, NULL = {} */
};

/* Create the network: row, bridge, rules. On failure nothing stays. */
int network_create(struct db *db, const struct network_spec *s, struct db_network **out,
                   struct err **err);
/* The default network "bridge" (bridge isola0, the first free pool subnet,
 * 172.17.0.0/16 normally), created on first use. */
int network_default(struct db *db, struct db_network **out, struct err **err);
/* Remove a network; EBUSY while a container holds one of its addresses, EPERM
 * for the default network (Docker refuses it too). */
int network_remove(struct db *db, const char *ref, struct err **err);
/* Remove every network no container uses (not the default one), and finish
 * what a killed CLI left half created or half removed. *removed (optional,
 * strv_free) lists the names removed. */
int network_prune(struct db *db, char ***removed, struct err **err);

/*
 * Attach the network namespace nsfd to network `ref` for container ctr_id:
 * an address from the IPAM (`ip`, or the next free one), a veth pair whose
 * host end is on the bridge and whose other end is `ifname` in nsfd, with the
 * address and a default route through the gateway (none on --internal
 * networks). *addr is the address given.
 */
int network_connect_ns(struct db *db, const char *ref, const char *ctr_id, int nsfd,
                       const char *ifname, const char *ip, uint32_t *addr, struct err **err);
/* The same, with a default route through the gateway only when
 * default_route (`network connect` of a second network: the first one's
 * gateway stays the default, as Docker's). */
int network_attach_ns(struct db *db, const char *ref, const char *ctr_id, int nsfd,
                      const char *ifname, const char *ip, bool default_route, uint32_t *addr,
                      struct err **err);
/* Undo network_connect_ns(): delete the veth, release the address. */
int network_disconnect(struct db *db, const char *ref, const char *ctr_id, struct err **err);
/* The host end's name of ctr_id's veth on n: "iv" + 6 + 6 hex digits. */
void network_veth_name(const struct db_network *n, const char *ctr_id, char name[16]);

#endif
