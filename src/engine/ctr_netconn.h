/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `isola network connect|disconnect` (docs/networks.md, "Connect and
 * disconnect"): a running or stopped container joins or leaves a network
 * live, in the network namespace the engine pinned for it (ctr_net.h): a
 * veth `ethN` with an address from the IPAM, no default route (the first
 * network's gateway stays the default, as Docker's). What it joined is kept
 * in its config's CTR_ANN_NETWORKS annotation, so rm releases it and
 * `system boot` wires it again; the /etc/hosts of every member is rewritten.
 */
#ifndef ISOLA_ENGINE_CTR_NETCONN_H
#define ISOLA_ENGINE_CTR_NETCONN_H

#include <stdbool.h>

#include "engine/db.h"
#include "util/err.h"

/* Docker's errors: an unknown network or container, already connected
 * (EEXIST), an address taken (EEXIST), a container on none, host or another
 * container's network (EINVAL). */
int ctr_netconn_connect(struct db *db, const char *run_root, const char *ref, const char *network,
                        const char *ip, char *const *aliases, struct err **err);
/* EINVAL when it is not connected to network (with force: success, and
 * whatever it holds there goes). */
int ctr_netconn_disconnect(struct db *db, const char *run_root, const char *ref,
                           const char *network, bool force, struct err **err);
/* After its first network is wired again (system boot): the networks it
 * joined later, at their recorded addresses, and the aliases of all. */
int ctr_netconn_restore(struct db *db, const char *run_root, const struct db_container *c,
                        struct err **err);

#endif
