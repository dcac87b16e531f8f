/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IPv4 addresses and subnets, and the address arithmetic of isola's IPAM
 * (docs/networks.md, "IPAM"): parse "172.18.0.0/16", pick a free subnet from
 * the pool, pick the next free address in a subnet. Pure functions; the
 * engine persists what they choose (src/engine/network.c).
 */
#ifndef ISOLA_NET_CIDR_H
#define ISOLA_NET_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* "255.255.255.255/32" plus NUL */
#define CIDR_STR_LEN 19

struct cidr {
    uint32_t addr; /* host byte order */
    unsigned prefix;
};

/* "A.B.C.D" (exactly four decimal parts, no leading "+", no spaces). */
int cidr_addr_parse(const char *s, uint32_t *out, struct err **err);
/* "A.B.C.D/N", 0 <= N <= 32. With `strict`, host bits must be zero (a
 * network's --subnet); otherwise they are kept (an address with its prefix). */
int cidr_parse(const char *s, bool strict, struct cidr *out, struct err **err);
const char *cidr_addr_format(uint32_t addr, char buf[CIDR_STR_LEN]);
const char *cidr_format(const struct cidr *c, char buf[CIDR_STR_LEN]);

uint32_t cidr_mask(unsigned prefix);
uint32_t cidr_network(const struct cidr *c);
uint32_t cidr_broadcast(const struct cidr *c);
bool cidr_contains(const struct cidr *c, uint32_t addr);
/* a inside b (equal included) */
bool cidr_within(const struct cidr *a, const struct cidr *b);
bool cidr_overlap(const struct cidr *a, const struct cidr *b);

/*
 * The default pool (Docker's): 172.17.0.0/16 ... 172.31.0.0/16, then
 * 192.168.0.0/20 ... 192.168.240.0/20. The i-th subnet of the pool, false past
 * its end.
 */
bool cidr_pool_nth(size_t i, struct cidr *out);
/* The first subnet of the pool overlapping none of used[0..n); ENOSPC when the
 * pool is exhausted. */
int cidr_pool_pick(const struct cidr *used, size_t n, struct cidr *out, struct err **err);

/*
 * The first address of `range` (inside `subnet`) that is a host address of
 * subnet (not its network or broadcast address, except in /31 and /32), is
 * not `gateway`, and for which taken(addr, ctx) is false. ENOSPC when none.
 */
int cidr_addr_pick(const struct cidr *subnet, const struct cidr *range, uint32_t gateway,
                   bool (*taken)(uint32_t addr, void *ctx), void *ctx, uint32_t *out,
                   struct err **err);

#endif
