/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Leftovers of killed commands: see ctr_netgc.h. */
#include "engine/ctr_netgc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "engine/ctr_net.h"
#include "engine/db_network.h"
#include "engine/network.h"
#include "net/cidr.h"
#include "net/netlink.h"
#include "net/nftables.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* The names of this namespace's links that look like a container veth's host
 * end: "iv" + 12 hex digits (network_veth_name). /proc/net/dev is the calling
 * process's namespace's (/sys/class/net is the one sysfs was mounted in). */
static char **gc_veths(void)
{
    FILE *f = fopen("/proc/net/dev", "re");
    char line[512], **v = NULL;
    size_t n = 0;

    if (!f)
        return NULL;
    while (fgets(line, sizeof(line), f)) {
        char name[32];
        if (sscanf(line, " %31[^:]:", name) != 1 || strncmp(name, "iv", 2) != 0 ||
            strlen(name) != 14 || strspn(name + 2, "0123456789abcdef") != 12)
            continue;
        char **nv = realloc(v, (n + 2) * sizeof(char *));
        if (!nv)
            break;
        v = nv;
        if (!(v[n] = strdup(name)))
            break;
        v[++n] = NULL;
    }
    fclose(f);
    return v;
}

/* Whether the veth host end `name` belongs to an address claim. */
static bool gc_veth_owned(struct db_network **nets, size_t nnets, struct db *db, const char *name)
{
    for (size_t k = 0; k < nnets; k++) {
        struct db_network_ip *ips = NULL;
        size_t nips = 0;
        bool owned = false;
        if (strncmp(name + 8, nets[k]->id, 6) != 0 ||
            db_network_ips(db, nets[k], &ips, &nips, NULL) < 0)
            continue;
        for (size_t i = 0; i < nips && !owned; i++) {
            char want[16];
            network_veth_name(nets[k], ips[i].container_id, want);
            owned = strcmp(want, name) == 0;
        }
        db_network_ips_free(ips, nips);
        if (owned)
            return true;
    }
    return false;
}

static void gc_links(struct db *db, char **veths)
{
    struct db_network **nets = NULL;
    size_t nnets = 0;
    struct err *e = NULL;

    if (!veths || db_network_list(db, &nets, &nnets, &e) < 0) {
        err_free(&e);
        return;
    }
    for (size_t i = 0; veths[i]; i++)
        if (!gc_veth_owned(nets, nnets, db, veths[i]) &&
            netlink_link_delete(veths[i], true, &e) < 0)
            err_free(&e);
    db_network_list_free(nets, nnets);
}

/* The elements of a ports map, as nft lists them ("tcp . 8080 : 172.17.0.2 .
 * 80", with the host address first in ports_ip), one string each. */
static char **gc_elements(const char *map)
{
    _cleanup_free_ char *script = NULL, *out = NULL;
    struct err *e = NULL;
    char **v = NULL, *p, *end;
    size_t n = 0;

    if (asprintf(&script, "list map " NFTABLES_FAMILY " " NFTABLES_TABLE " %s\n", map) < 0)
        return NULL;
    if (nftables_run(script, &out, &e) < 0) {
        err_free(&e); /* no table, no map: nothing published */
        return NULL;
    }
    if (!(p = strstr(out, "elements = {")) || !(end = strchr(p, '}')))
        return NULL;
    *end = 0;
    p += strlen("elements = {");
    for (char *save = NULL, *t = strtok_r(p, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\n' || *t == '\t')
            t++;
        char **nv = realloc(v, (n + 2) * sizeof(char *));
        if (!nv)
            break;
        v = nv;
        if (!(v[n] = strdup(t)))
            break;
        v[++n] = NULL;
    }
    return v;
}

/* Unpublish the elements of map whose port claim is gone. */
static void gc_ports(struct db *db, char **elems, bool with_ip)
{
    for (size_t i = 0; elems && elems[i]; i++) {
        char ip[64] = "0.0.0.0", proto[8], key[96];
        unsigned port = 0;
        _cleanup_free_ char *owner = NULL;
        struct err *e = NULL;
        int k = with_ip ? sscanf(elems[i], "%63s . %7s . %u", ip, proto, &port)
                        : sscanf(elems[i], "%7s . %u", proto, &port);
        struct nftables_port np = {.proto = proto, .host_port = (uint16_t)port};
        if (k != (with_ip ? 3 : 2) || port == 0 || port > 65535 ||
            cidr_addr_parse(ip, &np.host_ip, NULL) < 0)
            continue;
        snprintf(key, sizeof(key), "%s/%s/%u", proto, ip, port);
        if (db_claim_owner(db, "port", key, &owner, &e) < 0) {
            err_free(&e);
            continue;
        }
        if (!owner && nftables_port_remove(&np, &e) < 0)
            err_free(&e);
    }
}

static void strv_release(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Entries of dir (64-hex names) whose container row is gone: netns files
 * (unmounted first) or run dirs. */
static void gc_files(struct db *db, const char *dir, bool netns)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;

    while (d && (de = readdir(d)) != NULL) {
        _cleanup_free_ char *p = NULL;
        _cleanup_db_container_ struct db_container *c = NULL;
        struct err *e = NULL;
        if (strlen(de->d_name) != DB_ID_LEN || strspn(de->d_name, "0123456789abcdef") != DB_ID_LEN)
            continue;
        if (db_container_get(db, de->d_name, &c, &e) == 0 || e->code != ENOENT) {
            err_free(&e);
            continue;
        }
        err_free(&e);
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            continue;
        if (netns) {
            if (umount2(p, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                continue;
            unlink(p);
        } else if (fs_rm_rf(p, &e) < 0) {
            err_free(&e);
        }
    }
}

/* Every member's /etc/hosts from the state (a killed rm may have left a
 * name there). */
static void gc_hosts(struct db *db, const char *run_root)
{
    struct db_network **nets = NULL;
    size_t n = 0;
    struct err *e = NULL;

    if (db_network_list(db, &nets, &n, &e) < 0) {
        err_free(&e);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        struct db_network_ip *ips = NULL;
        size_t nips = 0;
        if (strcmp(nets[k]->name, NETWORK_DEFAULT) == 0 ||
            db_network_ips(db, nets[k], &ips, &nips, NULL) < 0)
            continue;
        if (nips)
            ctr_net_hosts_update(db, run_root, ips[0].container_id, nets[k]->name);
        db_network_ips_free(ips, nips);
    }
    db_network_list_free(nets, n);
}

void ctr_netgc_collect(struct db *db, const char *run_root)
{
    _cleanup_free_ char *nsdir = NULL, *cdir = NULL;
    /* the kernel's objects first, then the state (ctr_netgc.h) */
    char **veths = gc_veths(), **ports = gc_elements("ports"), **ports_ip = gc_elements("ports_ip");

    gc_links(db, veths);
    gc_ports(db, ports, false);
    gc_ports(db, ports_ip, true);
    strv_release(veths);
    strv_release(ports);
    strv_release(ports_ip);
    if (asprintf(&nsdir, "%s/netns", run_root) >= 0)
        gc_files(db, nsdir, true);
    if (asprintf(&cdir, "%s/c", run_root) >= 0)
        gc_files(db, cdir, false);
    gc_hosts(db, run_root);
}
