/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's network, Podman's way (docs/networks.md, "Containers"): the
 * engine makes the network namespace itself, a bind-mounted nsfs file
 * <run_dir>/netns/<id>, connects it to the network (network_connect_ns)
 * before the monitor starts the workload, and the composer puts that path
 * in the spec. /etc/hosts, /etc/hostname and /etc/resolv.conf are written
 * into the container's run dir and bind-mounted read-only. rm undoes it all.
 */
#ifndef ISOLA_ENGINE_CTR_NET_H
#define ISOLA_ENGINE_CTR_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "engine/compose.h"
#include "engine/db.h"
#include "util/err.h"

/* Annotations of the composed config that record the wiring. */
#define CTR_ANN_NETWORK "io.isola.network"
#define CTR_ANN_IP      "io.isola.ipAddress"
#define CTR_ANN_GATEWAY "io.isola.gateway"
#define CTR_ANN_PORTS   "io.isola.ports" /* [{proto, hostIp, hostPort, ctrPort}] */
/* --network-alias on the first network: a JSON array of names */
#define CTR_ANN_ALIASES "io.isola.aliases"
/* networks joined by `network connect` (ctr_netconn.c):
 * {NAME: {"ip", "gateway", "ifname", "aliases": [...]}} */
#define CTR_ANN_NETWORKS "io.isola.networks"
/* --dns, --dns-search, --add-host: JSON arrays (ctr_net_opts.c) */
#define CTR_ANN_DNS        "io.isola.dns"
#define CTR_ANN_DNS_SEARCH "io.isola.dnsSearch"
#define CTR_ANN_ADD_HOSTS  "io.isola.extraHosts"

struct ctr_net_opts {
    const char *network;     /* none, host, bridge (NULL), or a network's name */
    const char *ip;          /* --ip */
    char *const *dns;        /* --dns */
    char *const *dns_search; /* --dns-search */
    char *const *add_host;   /* --add-host NAME:IP */
    char *const *publish;    /* -p [IP:][HOSTPORT:]CTRPORT[/tcp|udp] */
    bool publish_all;        /* -P: every ExposedPorts of the image, on a free port */
    char *const *aliases;    /* --network-alias (user networks only) */
};

struct ctr_net {
    bool host;                       /* --network host: no network namespace */
    bool none;                       /* --network none: its own namespace, lo only */
    char *network;                   /* the network's name (NULL: none/host) */
    char *netns;                     /* the nsfs file (NULL: none/host) */
    char *hosts, *hostname, *resolv; /* files in the run dir */
    char addr[16], gateway[16];
    json_t *ports;     /* published: [{proto, hostIp, hostPort, ctrPort}] */
    json_t *aliases;   /* --network-alias: [...] (NULL: none) */
    char *hostname_of; /* container:NAME: NAME's hostname, the joiner's too */
};

/* Make c's namespace, connect it and write its files; on failure nothing
 * stays. rundir is the container's run dir. */
int ctr_net_setup(struct db *db, const char *run_root, const char *rundir, const char *id,
                  const char *name, const char *hostname, const struct ctr_net_opts *o,
                  json_t *image_config, struct ctr_net *out, struct err **err);
/* Undo ctr_net_setup() (what is gone already is fine). network: the name
 * recorded (NULL: none); ports and ip: what was published, to the address. */
void ctr_net_teardown(struct db *db, const char *run_root, const char *id, const char *network,
                      json_t *ports, const char *ip);
/* ps's PORTS: "0.0.0.0:8080->80/tcp, ..." ("" when none). */
void ctr_net_ports_text(json_t *annotations, char *buf, size_t len);
/* The published ports recorded in the annotations (NULL: none; json_decref). */
json_t *ctr_net_ports_load(json_t *annotations);
void ctr_net_free(struct ctr_net *n);
/* The read-only binds of its /etc files, appended to m[*n] (3 at most). */
void ctr_net_mounts(const struct ctr_net *cn, struct compose_mount *m, size_t *n);
/* Record the wiring in spec's annotations (CTR_ANN_NETWORK, ...). */
int ctr_net_annotate(json_t *spec, const struct ctr_net *cn, struct err **err);
/* Whether the mount src -> dst is one of container id's /etc files. */
bool ctr_net_own_mount(const char *id, const char *src, const char *dst);
/* Record container id's aliases on network (none: forget them) in its run
 * dir, where every member's /etc/hosts takes them from. */
int ctr_net_aliases_set(const char *run_root, const char *id, const char *network,
                        char *const *aliases, struct err **err);
/* Print container id's aliases on network to f, each after a space. */
void ctr_net_aliases_print(FILE *f, const char *run_root, const char *id, const char *network);
/* Rewrite id's /etc/hosts and that of every other member of network. */
void ctr_net_hosts_update(struct db *db, const char *run_root, const char *id, const char *network);
/* Unpublish ports (the annotation's list) that went to address ip. */
void ctr_net_ports_release(struct db *db, json_t *ports, const char *ip);
/* Record o's --dns, --dns-search and --add-host in spec's annotations. */
int ctr_net_annotate_opts(json_t *spec, const struct ctr_net_opts *o, struct err **err);
/* One of those lists back from the annotations (NULL: none; strv_free). */
char **ctr_net_opts_load(json_t *annotations, const char *key);
/* A new, unconnected network namespace at c's nsfs file (lo only). */
int ctr_net_ns_pin(const char *run_root, const char *id, struct err **err);
/* Docker's NetworkSettings from the config's annotations. */
json_t *ctr_net_inspect(json_t *annotations);

#endif
