/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A VM's taps, addresses and leases on networks: see vm_net.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "engine/ctr_net.h"
#include "engine/network.h"
#include "engine/network_dns.h"
#include "engine/vm_net.h"
#include "net/cidr.h"
#include "net/netlink.h"
#include "util/cleanup.h"

int vm_net_begin(struct db *db, const char *name, struct vm_net *vn, struct err **err)
{
    struct db_container want = {
        .name = (char *)name,
        .config = "{}", /* not a container's: no annotations to undo */
        .labels = "{\"" VM_NET_LABEL "\":\"true\"}",
        .status = DB_STATUS_RUNNING,
        .isolation = DB_ISOLATION_VM,
        .monitor_pid = getpid(),
    };
    struct db_container *row = NULL;

    memset(vn, 0, sizeof(*vn));
    if (db_proc_start_time(getpid(), &want.monitor_start_time, err) < 0)
        return -1;
    want.started_ns = db_now_ns();
    if (db_container_insert(db, &want, &row, err) < 0)
        return err_wrap(err, "register the VM");
    snprintf(vn->row_id, sizeof(vn->row_id), "%s", row->id);
    vn->name = strdup(row->name);
    db_container_free(row);
    if (!vn->name) {
        db_container_delete(db, vn->row_id, NULL);
        vn->row_id[0] = 0;
        return err_set(err, ENOMEM, "register the VM");
    }
    return 0;
}

static bool mac_valid(const char *m)
{
    if (strlen(m) != 17)
        return false;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? m[i] != ':' : !strchr("0123456789abcdefABCDEF", m[i]))
            return false;
    return true;
}

static int spec_parse(const char *spec, char **network, char **ip, char **mac, struct err **err)
{
    _cleanup_free_ char *s = strdup(spec);
    char *save = NULL;

    if (!s)
        return err_set(err, ENOMEM, "--net");
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char **dst = strncmp(t, "network=", 8) == 0 ? network
                     : strncmp(t, "ip=", 3) == 0    ? ip
                     : strncmp(t, "mac=", 4) == 0   ? mac
                                                    : NULL;
        if (!dst)
            return err_val(err, EINVAL, "--net `%s`: unknown key `%s` (network=, ip=, mac=)", spec,
                           t);
        free(*dst);
        if (!(*dst = strdup(strchr(t, '=') + 1)))
            return err_set(err, ENOMEM, "--net");
    }
    if (!*network || !**network)
        return err_val(err, EINVAL, "--net `%s`: network=NAME is required", spec);
    if (*mac && !mac_valid(*mac))
        return err_val(err, EINVAL, "--net `%s`: mac `%s` is not XX:XX:XX:XX:XX:XX", spec, *mac);
    return 0;
}

static void link_undo(struct db *db, const char *run_root, const struct vm_net *vn,
                      struct vm_net_link *l)
{
    _cleanup_db_network_ struct db_network *n = NULL;
    struct err *e = NULL;

    if (l->tap[0] && netlink_link_delete(l->tap, true, &e) < 0)
        err_free(&e);
    if (network_dns_dhcp_host(run_root, l->net_id, vn->row_id, NULL, NULL, NULL, &e) < 0)
        err_free(&e);
    if (db_network_get(db, l->net_id, &n, &e) == 0) {
        if (db_network_ip_release(db, n, vn->row_id, NULL, &e) < 0)
            err_free(&e);
    }
    err_free(&e);
    if (network_dns_sync(db, run_root, l->net_id, &e) < 0)
        err_free(&e);
    free(l->network);
    memset(l, 0, sizeof(*l));
}

/* A persistent tap on the bridge: the monitor opens it by name. */
static int tap_make(const char *tap, const char *bridge, struct err **err)
{
    _cleanup_close_ int fd = -1;

    if (netlink_tap_create(tap, bridge, true, &fd, err) < 0)
        return -1;
    if (ioctl(fd, TUNSETPERSIST, 1) < 0)
        return err_sys(err, "make tap \"%s\" persistent (TUNSETPERSIST)", tap);
    return 0;
}

int vm_net_attach(struct db *db, const char *run_root, struct vm_net *vn, const char *spec,
                  char **tap_spec, struct err **err)
{
    _cleanup_free_ char *network = NULL, *ip = NULL, *mac = NULL;
    _cleanup_db_network_ struct db_network *n = NULL;
    struct vm_net_link *l;
    uint32_t want = 0, addr = 0;

    if (vn->nlinks >= VM_NET_MAX)
        return err_val(err, E2BIG, "--net `%s`: at most %d networks", spec, VM_NET_MAX);
    if (spec_parse(spec, &network, &ip, &mac, err) < 0)
        return -1;
    if (ip && cidr_addr_parse(ip, &want, err) < 0)
        return err_wrap(err, "--net `%s`", spec);
    if (strcmp(network, NETWORK_DEFAULT) == 0 ? network_default(db, &n, err) < 0
                                              : db_network_get(db, network, &n, err) < 0)
        return -1;
    if (n->state != DB_NETWORK_READY)
        return err_val(err, EAGAIN, "network %s is being %s", n->name,
                       n->state == DB_NETWORK_CREATING ? "created" : "removed");
    l = &vn->links[vn->nlinks];
    snprintf(l->net_id, sizeof(l->net_id), "%s", n->id);
    if (!(l->network = strdup(n->name)))
        return err_set(err, ENOMEM, "--net");
    vn->nlinks++;
    if (db_network_ip_claim(db, n, vn->row_id, want, &addr, err) < 0)
        goto fail;
    cidr_addr_format(addr, l->addr);
    if (mac)
        snprintf(l->mac, sizeof(l->mac), "%s", mac);
    else /* Docker's scheme: 02:42 and the address */
        snprintf(l->mac, sizeof(l->mac), "02:42:%02x:%02x:%02x:%02x", addr >> 24,
                 (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
    char tap[16];
    snprintf(tap, sizeof(tap), "it%.6s%.6s", vn->row_id, n->id);
    memcpy(l->tap, tap, sizeof(tap));
    if (tap_make(l->tap, n->bridge, err) < 0) {
        l->tap[0] = 0; /* not ours to delete: it may be another's */
        goto fail;
    }
    if (network_dns_dhcp_host(run_root, n->id, vn->row_id, l->mac, l->addr, vn->name, err) < 0 ||
        network_dns_sync(db, run_root, n->id, err) < 0)
        goto fail;
    if (asprintf(tap_spec, "tap=%s,mac=%s", l->tap, l->mac) < 0) {
        err_set(err, ENOMEM, "--net");
        goto fail;
    }
    return 0;
fail:
    link_undo(db, run_root, vn, l);
    vn->nlinks--;
    return err_wrap(err, "connect the VM %s to network %s", vn->name, network);
}

void vm_net_end(struct db *db, const char *run_root, struct vm_net *vn)
{
    struct err *e = NULL;

    while (vn->nlinks > 0)
        link_undo(db, run_root, vn, &vn->links[--vn->nlinks]);
    if (vn->row_id[0] && db_container_delete(db, vn->row_id, &e) < 0)
        err_free(&e);
    free(vn->name);
    memset(vn, 0, sizeof(*vn));
}

int vm_net_gc(struct db *db, const char *run_root, struct err **err)
{
    struct db_container **v = NULL;
    struct db_network **nets = NULL;
    size_t n = 0, nn = 0;

    if (db_container_list(db, true, &v, &n, err) < 0)
        return -1;
    if (db_network_list(db, &nets, &nn, err) < 0) {
        db_container_list_free(v, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct db_container *c = v[i];
        if (c->isolation != DB_ISOLATION_VM || !c->labels ||
            !strstr(c->labels, "\"" VM_NET_LABEL "\"") || db_container_monitor_alive(c))
            continue;
        /* its `isola vm run` is gone without undoing: the same undo */
        for (size_t k = 0; k < nn; k++) {
            char tap[16];
            struct err *e = NULL;
            snprintf(tap, sizeof(tap), "it%.6s%.6s", c->id, nets[k]->id);
            if (netlink_link_delete(tap, true, &e) < 0)
                err_free(&e);
            if (network_dns_dhcp_host(run_root, nets[k]->id, c->id, NULL, NULL, NULL, &e) < 0)
                err_free(&e);
        }
        struct err *e = NULL;
        if (db_container_delete(db, c->id, &e) < 0)
            err_free(&e);
        for (size_t k = 0; k < nn; k++)
            if (network_dns_sync(db, run_root, nets[k]->id, &e) < 0)
                err_free(&e);
    }
    db_network_list_free(nets, nn);
    db_container_list_free(v, n);
    return 0;
}
