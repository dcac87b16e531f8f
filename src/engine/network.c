/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Networks: bridge, nftables rules, addresses. See network.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/network.h"
#include "net/cidr.h"
#include "net/netlink.h"
#include "net/nftables.h"
#include "util/cleanup.h"

/* The kernel objects of n: bridge up with the gateway address, forwarding
 * on, 127.0.0.1 routable to the bridge (published ports on loopback), rules. */
static int kernel_create(const struct db_network *n, struct err **err)
{
    struct cidr sub, gw;

    if (cidr_parse(n->subnet, true, &sub, err) < 0 ||
        cidr_addr_parse(n->gateway, &gw.addr, err) < 0)
        return -1;
    gw.prefix = sub.prefix;
    if (netlink_bridge_create(n->bridge, &gw, err) < 0)
        return -1;
    if (netlink_sysctl_ipv4(n->bridge, "route_localnet", "1", err) < 0 ||
        (!n->internal && netlink_sysctl_ipv4(NULL, "ip_forward", "1", err) < 0))
        return -1;
    return nftables_network_add(n->bridge, &sub, n->internal, err);
}

/* Idempotent: what is already gone is success. */
static int kernel_remove(const struct db_network *n, struct err **err)
{
    _cleanup_err_ struct err *e = NULL;
    int r = nftables_network_remove(n->bridge, &e);

    if (netlink_link_delete(n->bridge, true, err) < 0)
        return -1;
    if (r < 0) {
        *err = steal_ptr(&e);
        return -1;
    }
    return 0;
}

static int create_row(struct db *db, const struct network_spec *s, const char *bridge,
                      size_t pool_start, struct db_network **out, struct err **err)
{
    _cleanup_db_network_ struct db_network *n = NULL;
    _cleanup_free_ struct cidr *routes = NULL;
    size_t nroutes = 0;
    struct db_network want = {
        .name = (char *)s->name,
        .bridge = (char *)bridge,
        .subnet = (char *)s->subnet,
        .gateway = (char *)s->gateway,
        .ip_range = (char *)s->ip_range,
        .internal = s->internal,
        .labels = (char *)s->labels,
    };

    /* a subnet from the pool must not hide a network this host already
     * reaches (Docker and Podman check the same) */
    if (s->subnet == NULL && netlink_routes_ipv4(&routes, &nroutes, err) < 0)
        return err_wrap(err, "create network %s", s->name);
    if (db_network_insert(db, &want, pool_start, routes, nroutes, &n, err) < 0)
        return -1;
    if (kernel_create(n, err) < 0 ||
        db_network_set_state(db, n->id, DB_NETWORK_READY, false, err) < 0) {
        _cleanup_err_ struct err *e2 = NULL;
        if (kernel_remove(n, &e2) == 0)
            db_network_delete(db, n->id, NULL);
        return err_wrap(err, "create network %s (bridge %s)", n->name, n->bridge);
    }
    n->state = DB_NETWORK_READY;
    *out = steal_ptr(&n);
    return 0;
}

int network_create(struct db *db, const struct network_spec *s, struct db_network **out,
                   struct err **err)
{
    if (s->name && strcmp(s->name, NETWORK_DEFAULT) == 0)
        return err_val(err, EEXIST, "network with name %s already exists (the default network)",
                       s->name);
    if (s->name && (strcmp(s->name, "host") == 0 || strcmp(s->name, "none") == 0))
        return err_val(err, EINVAL, "network name %s is reserved (run --network %s)", s->name,
                       s->name);
    /* pool entry 0 (172.17.0.0/16) is the default network's */
    return create_row(db, s, NULL, 1, out, err);
}

static int remove_row(struct db *db, struct db_network *n, bool only_unused, struct err **err)
{
    if (db_network_set_state(db, n->id, DB_NETWORK_REMOVING, only_unused, err) < 0 ||
        kernel_remove(n, err) < 0 || db_network_delete(db, n->id, err) < 0)
        return err_wrap(err, "remove network %s", n->name);
    return 0;
}

int network_default(struct db *db, struct db_network **out, struct err **err)
{
    struct network_spec s = {.name = NETWORK_DEFAULT};

    /* Several CLIs may need it first at once: one creates it, the others wait
     * for it (up to ~10 s), and a half-made one whose maker died is undone. */
    for (int tries = 0; tries < 100; tries++) {
        _cleanup_err_ struct err *e = NULL;
        struct db_network *n = NULL;

        if (db_network_get(db, NETWORK_DEFAULT, &n, &e) == 0) {
            if (n->state == DB_NETWORK_READY) {
                *out = n;
                return 0;
            }
            bool dead = db_network_owner_dead(n);
            int r = dead ? remove_row(db, n, false, err) : 0;
            db_network_free(n);
            if (r < 0)
                return -1;
            if (!dead)
                usleep(100 * 1000);
            continue;
        }
        if (e->code != ENOENT) {
            *err = steal_ptr(&e);
            return -1;
        }
        err_free(&e);
        if (create_row(db, &s, NETWORK_DEFAULT_BRIDGE, 0, out, &e) == 0)
            return 0;
        if (e->code != EEXIST || strstr(e->msg, "already exists") == NULL) {
            *err = steal_ptr(&e);
            return -1;
        }
        /* another CLI inserted it meanwhile: wait for it */
    }
    return err_val(err, EAGAIN,
                   "the default network is still being created by another "
                   "command: try again");
}

int network_remove(struct db *db, const char *ref, struct err **err)
{
    _cleanup_db_network_ struct db_network *n = NULL;

    if (db_network_get(db, ref, &n, err) < 0)
        return -1;
    if (strcmp(n->name, NETWORK_DEFAULT) == 0)
        return err_val(err, EPERM, "bridge is a pre-defined network and cannot be removed");
    if (n->state != DB_NETWORK_READY && !db_network_owner_dead(n))
        return err_val(err, EBUSY, "network %s is being %s by process %d", n->name,
                       n->state == DB_NETWORK_CREATING ? "created" : "removed", n->owner_pid);
    return remove_row(db, n, n->state == DB_NETWORK_READY, err);
}

static int strv_push(char ***v, size_t *k, const char *s)
{
    char **nv = realloc(*v, (*k + 2) * sizeof(char *));

    if (nv == NULL)
        return -1;
    *v = nv;
    if ((nv[*k] = strdup(s)) == NULL)
        return -1;
    nv[++*k] = NULL;
    return 0;
}

int network_prune(struct db *db, char ***removed, struct err **err)
{
    struct db_network **v = NULL;
    char **names = NULL;
    size_t n = 0, k = 0;
    int rc = 0;

    if (db_network_list(db, &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct db_network *net = v[i];
        _cleanup_err_ struct err *e = NULL;
        bool leftover = net->state != DB_NETWORK_READY;
        if (leftover && !db_network_owner_dead(net))
            continue; /* another CLI is at work on it */
        if (!leftover && strcmp(net->name, NETWORK_DEFAULT) == 0)
            continue;
        if (remove_row(db, net, !leftover, &e) < 0) {
            if (e->code == EBUSY)
                continue; /* in use: kept */
            *err = steal_ptr(&e);
            rc = -1;
            break;
        }
        /* Docker lists only user-visible networks; a half-created default
         * network is recreated on its next use */
        if (strv_push(&names, &k, net->name) < 0)
            rc = err_set(err, ENOMEM, "network prune");
    }
    db_network_list_free(v, n);
    if (rc == 0 && removed)
        *removed = steal_ptr(&names);
    strv_free(names);
    return rc;
}

void network_veth_name(const struct db_network *n, const char *ctr_id, char name[16])
{
    snprintf(name, 16, "iv%.6s%.6s", ctr_id, n->id);
}

int network_connect_ns(struct db *db, const char *ref, const char *ctr_id, int nsfd,
                       const char *ifname, const char *ip, uint32_t *addr, struct err **err)
{
    return network_attach_ns(db, ref, ctr_id, nsfd, ifname, ip, true, addr, err);
}

int network_attach_ns(struct db *db, const char *ref, const char *ctr_id, int nsfd,
                      const char *ifname, const char *ip, bool default_route, uint32_t *addr,
                      struct err **err)
{
    _cleanup_db_network_ struct db_network *n = NULL;
    struct netlink_veth v = {.netns_fd = nsfd, .ns_name = ifname};
    char host[16];
    struct cidr sub;
    uint32_t want = 0, gw;

    if (strcmp(ref, NETWORK_DEFAULT) == 0 ? network_default(db, &n, err) < 0
                                          : db_network_get(db, ref, &n, err) < 0)
        return -1;
    if (n->state != DB_NETWORK_READY)
        return err_val(err, EAGAIN, "network %s is being %s", n->name,
                       n->state == DB_NETWORK_CREATING ? "created" : "removed");
    if (ip && cidr_addr_parse(ip, &want, err) < 0)
        return err_wrap(err, "--ip");
    if (cidr_parse(n->subnet, true, &sub, err) < 0 || cidr_addr_parse(n->gateway, &gw, err) < 0)
        return err_wrap(err, "network %s", n->name);
    if (db_network_ip_claim(db, n, ctr_id, want, addr, err) < 0)
        return -1;
    network_veth_name(n, ctr_id, host);
    v.bridge = n->bridge;
    v.host_name = host;
    v.addr = (struct cidr){*addr, sub.prefix};
    v.gateway = n->internal || !default_route ? 0 : gw;
    if (netlink_veth_create(&v, err) < 0) {
        db_network_ip_release(db, n, ctr_id, NULL, NULL);
        return err_wrap(err, "connect container %s to network %s", ctr_id, n->name);
    }
    return 0;
}

int network_disconnect(struct db *db, const char *ref, const char *ctr_id, struct err **err)
{
    _cleanup_db_network_ struct db_network *n = NULL;
    char host[16];

    if (db_network_get(db, ref, &n, err) < 0)
        return -1;
    network_veth_name(n, ctr_id, host);
    if (netlink_link_delete(host, true, err) < 0 ||
        db_network_ip_release(db, n, ctr_id, NULL, err) < 0)
        return err_wrap(err, "disconnect container %s from network %s", ctr_id, n->name);
    return 0;
}
