/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Network rows and their address claims (docs/networks.md, "State"). The
 * subnet and address choices are made inside one write transaction each, so
 * concurrent CLIs never hand out one subnet or one address twice.
 */
#ifndef ISOLA_ENGINE_DB_NETWORK_H
#define ISOLA_ENGINE_DB_NETWORK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/db.h"
#include "net/cidr.h"
#include "util/err.h"

enum db_network_state {
    DB_NETWORK_CREATING,
    DB_NETWORK_READY,
    DB_NETWORK_REMOVING,
};

struct db_network {
    char id[DB_ID_LEN + 1];
    char *name;
    char *bridge;   /* "isola-" + 9 hex digits of the id when NULL on insert */
    char *subnet;   /* CIDR; picked from the pool when NULL on insert */
    char *gateway;  /* the subnet's first host address when NULL on insert */
    char *ip_range; /* "" = the whole subnet */
    bool internal;
    char *labels; /* JSON object, NULL = {} */
    int64_t created_ns;
    enum db_network_state state;
    pid_t owner_pid; /* the CLI creating or removing it */
    uint64_t owner_start_time;
};

/* An address of a network and the container holding it. */
struct db_network_ip {
    char container_id[DB_ID_LEN + 1];
    char *container_name;
    char *addr; /* "172.18.0.2" */
};

/*
 * Insert n in state "creating", owned by this process. Checks, in one
 * transaction: the name is free (EEXIST: `network with name NAME already
 * exists`), the subnet overlaps no other network's (EEXIST naming both), the
 * gateway and range are inside the subnet. A NULL subnet takes the first free
 * subnet of the pool from its pool_start-th entry (cidr_pool_nth) that
 * overlaps neither another network nor any of avoid[0..navoid) (the host's
 * routes).
 */
int db_network_insert(struct db *db, const struct db_network *n, size_t pool_start,
                      const struct cidr *avoid, size_t navoid, struct db_network **out,
                      struct err **err);
/* By name, full id, then unique id prefix. ENOENT: `network NAME not found`. */
int db_network_get(struct db *db, const char *ref, struct db_network **out, struct err **err);
int db_network_list(struct db *db, struct db_network ***out, size_t *n, struct err **err);
/* Set the state and make this process its owner. With `only_unused`, refuse
 * with EBUSY while a container holds an address of it: `network NAME is in
 * use by container "ID"`. */
int db_network_set_state(struct db *db, const char *id, enum db_network_state state,
                         bool only_unused, struct err **err);
int db_network_delete(struct db *db, const char *id, struct err **err);
/* Whether the process that owns a creating/removing row is gone. */
bool db_network_owner_dead(const struct db_network *n);

/*
 * Claim an address of network n for container ctr_id: `want` (0 = any), or
 * the lowest free one of the range that is not the gateway. A container
 * already holding an address of n gets that one back. EEXIST when `want` is
 * taken, ENOSPC when the range is full.
 */
int db_network_ip_claim(struct db *db, const struct db_network *n, const char *ctr_id,
                        uint32_t want, uint32_t *out, struct err **err);
/* Release ctr_id's address on n (none: success); *addr (optional) is it. */
int db_network_ip_release(struct db *db, const struct db_network *n, const char *ctr_id,
                          uint32_t *addr, struct err **err);
int db_network_ips(struct db *db, const struct db_network *n, struct db_network_ip **out,
                   size_t *count, struct err **err);
void db_network_ips_free(struct db_network_ip *v, size_t n);

const char *db_network_state_name(enum db_network_state s);
void db_network_free(struct db_network *n);
void db_network_list_free(struct db_network **v, size_t n);
static inline void db_network_freep(struct db_network **n)
{
    db_network_free(*n);
    *n = NULL;
}
#define _cleanup_db_network_ __attribute__((cleanup(db_network_freep)))

#endif
