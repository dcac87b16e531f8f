/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The IPAM in the database (src/engine/db_network.c): subnets from the pool,
 * overlaps, addresses as claims. No kernel object is made here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/db.h"
#include "engine/db_network.h"
#include "net/cidr.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char root[] = "/tmp/isola-test-engine-network-XXXXXX";

static struct db_network *insert(struct db *db, const char *name, const char *subnet,
                                 const char *gw, const char *range, size_t pool_start,
                                 struct err **e)
{
    struct db_network n = {.name = (char *)name,
                           .subnet = (char *)subnet,
                           .gateway = (char *)gw,
                           .ip_range = (char *)range};
    struct db_network *out = NULL;

    if (db_network_insert(db, &n, pool_start, NULL, 0, &out, e) < 0)
        return NULL;
    return out;
}

static char *ctr(struct db *db, const char *name)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    struct db_container n = {.name = (char *)name, .status = DB_STATUS_CREATED};

    if (db_container_insert(db, &n, &c, NULL) < 0)
        return NULL;
    return strdup(c->id);
}

int main(void)
{
    struct db *db = NULL;
    char buf[CIDR_STR_LEN];
    uint32_t a = 0;

    if (mkdtemp(root) == NULL || db_open(root, &db, NULL) < 0) {
        printf("Bail out! cannot open a database in %s\n", root);
        return 1;
    }
    struct db_network *n1 = insert(db, "n1", NULL, NULL, NULL, 1, NULL);
    ok(n1 && strcmp(n1->subnet, "172.18.0.0/16") == 0 && strcmp(n1->gateway, "172.18.0.1") == 0 &&
           n1->state == DB_NETWORK_CREATING && strncmp(n1->bridge, "isola-", 6) == 0 &&
           strlen(n1->bridge) == 15,
       "first pool subnet after the default's, gateway .1, state creating, bridge isola-<9>");
    struct db_network *n2 =
        insert(db, "n2", "172.19.0.0/24", "172.19.0.254", "172.19.0.128/25", 1, NULL);
    ok(n2 && strcmp(n2->gateway, "172.19.0.254") == 0 &&
           strcmp(n2->ip_range, "172.19.0.128/25") == 0,
       "explicit subnet, gateway and range");
    struct db_network *n3 = insert(db, "n3", NULL, NULL, NULL, 1, NULL);
    ok(n3 && strcmp(n3->subnet, "172.20.0.0/16") == 0, "the pool skips an overlapping subnet: %s",
       n3 ? n3->subnet : "-");
    {
        _cleanup_err_ struct err *e = NULL;
        ok(insert(db, "n4", "172.18.3.0/24", NULL, NULL, 1, &e) == NULL && e && e->code == EEXIST &&
               strstr(e->msg, "overlaps with network \"n1\""),
           "overlap refused, naming the other network: %s", e ? e->msg : "");
    }
    {
        _cleanup_err_ struct err *e = NULL;
        ok(insert(db, "n1", "10.0.0.0/8", NULL, NULL, 1, &e) == NULL && e && e->code == EEXIST &&
               strstr(e->msg, "network with name n1 already exists"),
           "taken name: %s", e ? e->msg : "");
    }
    {
        _cleanup_err_ struct err *e = NULL;
        ok(insert(db, "n5", "10.0.0.0/8", "11.0.0.1", NULL, 1, &e) == NULL && e &&
               e->code == EINVAL,
           "gateway outside the subnet: %s", e ? e->msg : "");
    }
    {
        struct cidr avoid;
        struct db_network *n6 = NULL, want = {.name = "n6"};
        cidr_parse("172.21.0.0/16", true, &avoid, NULL);
        ok(db_network_insert(db, &want, 1, &avoid, 1, &n6, NULL) == 0 &&
               strcmp(n6->subnet, "172.22.0.0/16") == 0,
           "the pool skips a host route: %s", n6 ? n6->subnet : "-");
        db_network_free(n6);
    }

    /* addresses */
    _cleanup_free_ char *c1 = ctr(db, "ctr-one"), *c2 = ctr(db, "ctr-two"),
                        *c3 = ctr(db, "ctr-three");
    ok(db_network_ip_claim(db, n1, c1, 0, &a, NULL) == 0 &&
           strcmp(cidr_addr_format(a, buf), "172.18.0.2") == 0,
       "first address after the gateway: %s", buf);
    ok(db_network_ip_claim(db, n1, c1, 0, &a, NULL) == 0 &&
           strcmp(cidr_addr_format(a, buf), "172.18.0.2") == 0,
       "the same container asking again gets the same address");
    ok(db_network_ip_claim(db, n1, c2, 0, &a, NULL) == 0 &&
           strcmp(cidr_addr_format(a, buf), "172.18.0.3") == 0,
       "the next container the next address: %s", buf);
    {
        _cleanup_err_ struct err *e = NULL;
        uint32_t want;
        cidr_addr_parse("172.18.0.3", &want, NULL);
        ok(db_network_ip_claim(db, n1, c3, want, &a, &e) < 0 && e && e->code == EEXIST &&
               strstr(e->msg, "172.18.0.3 is already in use"),
           "a taken address asked for: %s", e ? e->msg : "");
    }
    {
        _cleanup_err_ struct err *e = NULL;
        uint32_t want;
        cidr_addr_parse("172.18.0.1", &want, NULL);
        ok(db_network_ip_claim(db, n1, c3, want, &a, &e) < 0 && e && e->code == EINVAL,
           "the gateway is never given: %s", e ? e->msg : "");
    }
    ok(db_network_ip_claim(db, n2, c1, 0, &a, NULL) == 0 &&
           strcmp(cidr_addr_format(a, buf), "172.19.0.128") == 0,
       "--ip-range: from its start: %s", buf);
    {
        _cleanup_err_ struct err *e = NULL;
        ok(db_network_set_state(db, n1->id, DB_NETWORK_REMOVING, true, &e) < 0 && e &&
               e->code == EBUSY && strstr(e->msg, "network n1 is in use by container"),
           "in use: not removable: %s", e ? e->msg : "");
    }
    ok(db_network_ip_release(db, n1, c1, &a, NULL) == 0 &&
           strcmp(cidr_addr_format(a, buf), "172.18.0.2") == 0,
       "release gives back the address it held");
    ok(db_network_ip_claim(db, n1, c3, 0, &a, NULL) == 0 &&
           strcmp(cidr_addr_format(a, buf), "172.18.0.2") == 0,
       "a released address is given again: %s", buf);
    {
        struct db_network_ip *ips = NULL;
        size_t k = 0;
        ok(db_network_ips(db, n1, &ips, &k, NULL) == 0 && k == 2 &&
               strcmp(ips[0].container_name, "ctr-three") == 0 &&
               strcmp(ips[0].addr, "172.18.0.2") == 0,
           "the network's containers and addresses");
        db_network_ips_free(ips, k);
    }
    ok(db_container_delete(db, c2, NULL) == 0 && db_container_delete(db, c3, NULL) == 0 &&
           db_network_set_state(db, n1->id, DB_NETWORK_REMOVING, true, NULL) == 0,
       "a container's addresses go with its row: the network is no longer in use");
    {
        /* a /30 has two host addresses; the gateway takes one */
        struct db_network *n7 = insert(db, "n7", "10.99.0.0/30", NULL, NULL, 1, NULL);
        _cleanup_err_ struct err *e = NULL;
        ok(n7 && db_network_ip_claim(db, n7, c1, 0, &a, NULL) == 0 &&
               strcmp(cidr_addr_format(a, buf), "10.99.0.2") == 0,
           "/30: the one address left");
        _cleanup_free_ char *c4 = ctr(db, "ctr-four");
        ok(n7 && db_network_ip_claim(db, n7, c4, 0, &a, &e) < 0 && e && e->code == ENOSPC,
           "full: ENOSPC: %s", e ? e->msg : "");
        db_network_free(n7);
    }
    {
        struct db_network *g = NULL;
        _cleanup_err_ struct err *e = NULL;
        ok(db_network_get(db, n2->id, &g, NULL) == 0 && strcmp(g->name, "n2") == 0, "get by id");
        db_network_free(g);
        ok(db_network_get(db, "nope", &g, &e) < 0 && e->code == ENOENT &&
               strcmp(e->msg, "network nope not found") == 0,
           "unknown: %s", e ? e->msg : "");
    }
    ok(db_network_delete(db, n3->id, NULL) == 0, "delete a row");
    db_network_free(n1);
    db_network_free(n2);
    db_network_free(n3);
    db_close(db);
    if (fs_rm_rf(root, NULL) < 0)
        printf("# could not remove %s\n", root);
    return done_testing();
}
