/* SPDX-License-Identifier: GPL-2.0-or-later */
/* network connect / disconnect: see ctr_netconn.h. */
#include "engine/ctr_netconn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/ctr_net.h"
#include "engine/network.h"
#include "net/cidr.h"
#include "util/cleanup.h"
#include "util/js.h"

/* The row's config and its annotations (made when missing). */
static int conn_load(struct db *db, const char *ref, struct db_container **row, json_t **cfg,
                     json_t **ann, struct err **err)
{
    if (db_container_get(db, ref, row, err) < 0)
        return -1;
    if (js_load_buf((*row)->config ? (*row)->config : "{}",
                    (*row)->config ? strlen((*row)->config) : 2, "config", cfg, err) < 0)
        return err_wrap(err, "container %s", (*row)->id);
    *ann = json_object_get(*cfg, "annotations");
    if (!*ann) {
        *ann = json_object();
        json_object_set_new(*cfg, "annotations", *ann);
    }
    return 0;
}

static json_t *conn_extra(json_t *ann)
{
    const char *text = json_string_value(json_object_get(ann, CTR_ANN_NETWORKS));
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;

    return json_is_object(j) ? j : (json_decref(j), json_object());
}

static int conn_save(struct db *db, const char *id, json_t *cfg, json_t *ann, json_t *extra,
                     struct err **err)
{
    _cleanup_free_ char *text = NULL, *et = NULL;

    if (json_object_size(extra)) {
        if (!(et = json_dumps(extra, JSON_COMPACT)))
            return err_set(err, ENOMEM, "container %s", id);
        json_object_set_new(ann, CTR_ANN_NETWORKS, json_string(et));
    } else {
        json_object_del(ann, CTR_ANN_NETWORKS);
    }
    if (!(text = js_dump(cfg)))
        return err_set(err, ENOMEM, "container %s", id);
    return db_container_set_config(db, id, text, err);
}

/* Docker's refusals for a container whose network mode is not a bridge's. */
static int conn_mode_check(const char *primary, const char *network, struct err **err)
{
    if (!primary || strcmp(primary, "host") == 0 || strcmp(network, "host") == 0)
        return err_val(err, EINVAL,
                       "container cannot be disconnected from host network or connected to host "
                       "network");
    if (strncmp(primary, "container:", 10) == 0)
        return err_val(err, EINVAL,
                       "container sharing network namespace with another container or host "
                       "cannot be connected to any other network");
    if (strcmp(primary, "none") == 0 || strcmp(network, "none") == 0)
        return err_val(err, EINVAL,
                       "container cannot be connected to multiple networks with one of the "
                       "networks in private (none) mode");
    return 0;
}

/* Attach id to n as ifname in its pinned namespace. */
static int conn_attach(struct db *db, const char *run_root, const char *id,
                       const struct db_network *n, const char *ifname, const char *ip,
                       bool default_route, uint32_t *addr, struct err **err)
{
    _cleanup_free_ char *ns = NULL;
    _cleanup_close_ int fd = -1;

    if (asprintf(&ns, "%s/netns/%s", run_root, id) < 0)
        return err_set(err, ENOMEM, "container %s", id);
    fd = open(ns, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err,
                       "container %s: its network namespace `%s` (after a reboot: `isola system "
                       "boot`)",
                       id, ns);
    return network_attach_ns(db, n->name, id, fd, ifname, ip, default_route, addr, err);
}

int ctr_netconn_connect(struct db *db, const char *run_root, const char *ref, const char *network,
                        const char *ip, char *const *aliases, struct err **err)
{
    _cleanup_db_container_ struct db_container *row = NULL;
    _cleanup_db_network_ struct db_network *n = NULL;
    _cleanup_json_ json_t *cfg = NULL, *extra = NULL;
    json_t *ann, *v, *al;
    const char *primary, *pip, *key;
    char ifname[16], addrs[CIDR_STR_LEN];
    uint32_t addr = 0;

    if (conn_load(db, ref, &row, &cfg, &ann, err) < 0)
        return -1;
    primary = json_string_value(json_object_get(ann, CTR_ANN_NETWORK));
    pip = json_string_value(json_object_get(ann, CTR_ANN_IP));
    if (conn_mode_check(primary, network, err) < 0)
        return -1;
    if (aliases && aliases[0] && strcmp(network, NETWORK_DEFAULT) == 0)
        return err_val(err, EINVAL,
                       "network-scoped alias is supported only for containers in user defined "
                       "networks");
    if (strcmp(network, NETWORK_DEFAULT) == 0 ? network_default(db, &n, err) < 0
                                              : db_network_get(db, network, &n, err) < 0)
        return -1;
    extra = conn_extra(ann);
    if ((pip && strcmp(primary, n->name) == 0) || json_object_get(extra, n->name))
        return err_val(err, EEXIST, "endpoint with name %s already exists in network %s", row->name,
                       n->name);
    /* the lowest ethN free in its namespace */
    for (int k = 0;; k++) {
        bool used = k == 0 && pip;
        snprintf(ifname, sizeof(ifname), "eth%d", k);
        json_object_foreach (extra, key, v)
            used =
                used || strcmp(json_string_value(json_object_get(v, "ifname")) ?: "", ifname) == 0;
        if (!used)
            break;
    }
    if (conn_attach(db, run_root, row->id, n, ifname, ip, !pip && json_object_size(extra) == 0,
                    &addr, err) < 0)
        return err_wrap(err, "connect container %s to network %s", row->name, n->name);
    al = json_array();
    for (size_t i = 0; aliases && aliases[i]; i++)
        json_array_append_new(al, json_string(aliases[i]));
    json_object_set_new(extra, n->name,
                        json_pack("{s:s, s:s, s:s, s:o}", "ip", cidr_addr_format(addr, addrs),
                                  "gateway", n->internal ? "" : n->gateway, "ifname", ifname,
                                  "aliases", al));
    if (conn_save(db, row->id, cfg, ann, extra, err) < 0 ||
        ctr_net_aliases_set(run_root, row->id, n->name, aliases, err) < 0) {
        struct err *e = NULL;
        if (network_disconnect(db, n->name, row->id, &e) < 0)
            err_free(&e);
        return err_wrap(err, "connect container %s to network %s", row->name, n->name);
    }
    ctr_net_hosts_update(db, run_root, row->id, n->name);
    return 0;
}

int ctr_netconn_disconnect(struct db *db, const char *run_root, const char *ref,
                           const char *network, bool force, struct err **err)
{
    _cleanup_db_container_ struct db_container *row = NULL;
    _cleanup_db_network_ struct db_network *n = NULL;
    _cleanup_json_ json_t *cfg = NULL, *extra = NULL;
    json_t *ann;
    const char *primary, *pip;

    if (conn_load(db, ref, &row, &cfg, &ann, err) < 0)
        return -1;
    primary = json_string_value(json_object_get(ann, CTR_ANN_NETWORK));
    pip = json_string_value(json_object_get(ann, CTR_ANN_IP));
    if (strcmp(network, "host") == 0 || strcmp(network, "none") == 0 ||
        (primary && (strcmp(primary, "host") == 0 || strcmp(primary, "none") == 0 ||
                     strncmp(primary, "container:", 10) == 0)))
        return conn_mode_check(primary, network, err);
    if (db_network_get(db, network, &n, err) < 0)
        return -1;
    extra = conn_extra(ann);
    if (pip && primary && strcmp(primary, n->name) == 0) {
        /* its first network: the ports published to that address go too */
        _cleanup_json_ json_t *ports = ctr_net_ports_load(ann);
        ctr_net_ports_release(db, ports, pip);
        json_object_del(ann, CTR_ANN_IP);
        json_object_del(ann, CTR_ANN_GATEWAY);
        json_object_del(ann, CTR_ANN_PORTS);
        json_object_del(ann, CTR_ANN_ALIASES);
    } else if (json_object_get(extra, n->name)) {
        json_object_del(extra, n->name);
    } else if (!force) {
        return err_val(err, EINVAL, "container %s is not connected to network %s", row->name,
                       n->name);
    }
    if (network_disconnect(db, n->name, row->id, err) < 0 ||
        conn_save(db, row->id, cfg, ann, extra, err) < 0 ||
        ctr_net_aliases_set(run_root, row->id, n->name, NULL, err) < 0)
        return err_wrap(err, "disconnect container %s from network %s", row->name, n->name);
    ctr_net_hosts_update(db, run_root, row->id, n->name);
    return 0;
}

int ctr_netconn_restore(struct db *db, const char *run_root, const struct db_container *c,
                        struct err **err)
{
    _cleanup_json_ json_t *cfg = NULL, *extra = NULL, *primary_al = NULL;
    json_t *ann, *v, *a;
    const char *key, *primary, *pip;
    size_t i;

    if (!c->config || js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) < 0)
        return 0;
    ann = json_object_get(cfg, "annotations");
    primary = json_string_value(json_object_get(ann, CTR_ANN_NETWORK));
    pip = json_string_value(json_object_get(ann, CTR_ANN_IP));
    extra = conn_extra(ann);
    const char *al_text = json_string_value(json_object_get(ann, CTR_ANN_ALIASES));
    if (primary && pip && al_text && (primary_al = json_loads(al_text, 0, NULL))) {
        _cleanup_strv_ char **names = calloc(json_array_size(primary_al) + 1, sizeof(char *));
        json_array_foreach (primary_al, i, a)
            if (names)
                names[i] = strdup(json_string_value(a) ?: "");
        if (!names || ctr_net_aliases_set(run_root, c->id, primary, names, err) < 0)
            return err_set(err, ENOMEM, "container %s: aliases", c->id);
    }
    json_object_foreach (extra, key, v) {
        _cleanup_db_network_ struct db_network *n = NULL;
        uint32_t addr = 0;
        json_t *al = json_object_get(v, "aliases");
        _cleanup_strv_ char **names = calloc(json_array_size(al) + 1, sizeof(char *));
        if (!names)
            return err_set(err, ENOMEM, "container %s", c->id);
        json_array_foreach (al, i, a)
            names[i] = strdup(json_string_value(a) ?: "");
        if (db_network_get(db, key, &n, err) < 0 ||
            conn_attach(db, run_root, c->id, n,
                        json_string_value(json_object_get(v, "ifname")) ?: "eth1",
                        json_string_value(json_object_get(v, "ip")), !pip, &addr, err) < 0 ||
            ctr_net_aliases_set(run_root, c->id, n->name, names, err) < 0)
            return err_wrap(err, "container %s: connect it again to network %s", c->id, key);
        pip = pip ? pip : "";
        ctr_net_hosts_update(db, run_root, c->id, n->name);
    }
    return 0;
}
