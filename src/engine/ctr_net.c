/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A container's network namespace and /etc files: see ctr_net.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/ctr_net.h"
#include "engine/network.h"
#include "engine/network_dns.h"
#include "net/cidr.h"
#include "net/nftables.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static char *ctr_net_ns_path(const char *run_root, const char *id)
{
    char *p = NULL;

    if (asprintf(&p, "%s/netns/%s", run_root, id) < 0)
        return NULL;
    return p;
}

/* A new network namespace pinned by a bind mount on path (as `ip netns
 * add`): a child unshares it and mounts its own nsfs file there. */
static int ctr_net_ns_make(const char *path, struct err **err)
{
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int st;
    pid_t pid;

    if (fd < 0)
        return err_sys(err, "create network namespace file `%s`", path);
    close(fd);
    pid = fork();
    if (pid < 0) {
        unlink(path);
        return err_sys(err, "fork");
    }
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) < 0)
            _exit(1);
        if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
            _exit(2);
        _exit(0);
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        unlink(path);
        return err_val(err, EPERM, "create network namespace `%s`: %s failed", path,
                       WIFEXITED(st) && WEXITSTATUS(st) == 2 ? "bind mount" : "unshare");
    }
    return 0;
}

static void ctr_net_ns_remove(const char *path)
{
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return; /* keep the file: unlinking a mount point fails anyway */
    unlink(path);
}

static char *join_path(const char *dir, const char *name)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

/* Rewrite in place: the file is bind-mounted, a rename would not be seen. */
static int write_in_place(const char *path, const char *text, struct err **err)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        return err_sys(err, "write `%s`", path);
    return fs_write_all(fd, text, strlen(text), path, err);
}

/* Docker's /etc/resolv.conf: --dns, or the network's DNS server (dns_gw, on
 * user networks: network_dns.h), or the host's nameservers, except the
 * ones on 127.0.0.0/8 (systemd-resolved, dnsmasq: unreachable from the
 * container), then 8.8.8.8 and 8.8.4.4 as Docker's fallback. The host's
 * search and options lines are kept in the last two cases. */
static int resolv_text(const struct ctr_net_opts *o, const char *dns_gw, char **out)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int ns = 0;

    if (!f)
        return -1;
    if (o->dns_search && o->dns_search[0]) {
        fputs("search", f);
        for (size_t i = 0; o->dns_search[i]; i++)
            fprintf(f, " %s", o->dns_search[i]);
        fputc('\n', f);
    }
    if (o->dns && o->dns[0]) {
        for (size_t i = 0; o->dns[i]; i++, ns++)
            fprintf(f, "nameserver %s\n", o->dns[i]);
    } else {
        FILE *h = fopen("/etc/resolv.conf", "re");
        char line[512];
        while (h && fgets(line, sizeof(line), h)) {
            char a[256];
            if (sscanf(line, "nameserver %255s", a) == 1) {
                if (dns_gw || strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0)
                    continue;
                fprintf(f, "nameserver %s\n", a);
                ns++;
            } else if (!(o->dns_search && o->dns_search[0]) &&
                       (strncmp(line, "search ", 7) == 0 || strncmp(line, "options ", 8) == 0)) {
                fputs(line, f);
            }
        }
        if (h)
            fclose(h);
        if (dns_gw) {
            fprintf(f, "nameserver %s\n", dns_gw);
            ns++;
        }
        if (ns == 0)
            fputs("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", f);
    }
    if (fclose(f) != 0)
        return -1;
    *out = steal_ptr(&buf);
    return 0;
}

/* hosts.base: localhost, this container's own names, --add-host. */
static int hosts_base_text(const char *addr, const char *id, const char *name, const char *hostname,
                           bool host, const struct ctr_net_opts *o, char **out, struct err **err)
{
    _cleanup_free_ char *buf = NULL, *hosts = NULL;
    size_t len = 0, hlen = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return err_set(err, ENOMEM, "/etc/hosts");
    /* --network host: the host's /etc/hosts, as Docker's */
    if (host && fs_read_file("/etc/hosts", &hosts, &hlen, NULL) == 0 && hlen > 0)
        fprintf(f, "%s%s", hosts, hosts[hlen - 1] == '\n' ? "" : "\n");
    else
        fputs("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", f);
    for (size_t i = 0; o->add_host && o->add_host[i]; i++) {
        const char *c = strchr(o->add_host[i], ':');
        if (!c || c == o->add_host[i] || !c[1]) {
            fclose(f);
            return err_val(err, EINVAL, "--add-host `%s`: expected NAME:IP", o->add_host[i]);
        }
        fprintf(f, "%s\t%.*s\n", c + 1, (int)(c - o->add_host[i]), o->add_host[i]);
    }
    if (addr[0]) {
        fprintf(f, "%s\t%s", addr, hostname);
        if (name && strcmp(name, hostname) != 0)
            fprintf(f, " %s", name);
        fprintf(f, " %.12s\n", id);
    }
    if (fclose(f) != 0)
        return err_set(err, ENOMEM, "/etc/hosts");
    *out = steal_ptr(&buf);
    return 0;
}

/* <run_root>/c/<id>/aliases: "NETWORK ALIAS..." lines, the --network-alias
 * and `network connect --alias` names of container id on each network (from
 * its config's annotations, written where its other run files are). */
void ctr_net_aliases_print(FILE *f, const char *run_root, const char *id, const char *network)
{
    _cleanup_free_ char *p = NULL, *text = NULL;
    size_t len = 0, nl = strlen(network);

    if (asprintf(&p, "%s/c/%s/aliases", run_root, id) < 0 || fs_read_file(p, &text, &len, NULL) < 0)
        return;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (strncmp(line, network, nl) == 0 && line[nl] == ' ')
            fprintf(f, " %s", line + nl + 1);
    }
}

int ctr_net_aliases_set(const char *run_root, const char *id, const char *network,
                        char *const *aliases, struct err **err)
{
    _cleanup_free_ char *p = NULL, *text = NULL, *buf = NULL;
    size_t len = 0, blen = 0, nl = strlen(network);
    FILE *f;

    if (asprintf(&p, "%s/c/%s/aliases", run_root, id) < 0)
        return err_set(err, ENOMEM, "aliases of %s", id);
    if (fs_exists(p) && fs_read_file(p, &text, &len, err) < 0)
        return -1;
    if (!(f = open_memstream(&buf, &blen)))
        return err_set(err, ENOMEM, "aliases of %s", id);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (!(strncmp(line, network, nl) == 0 && line[nl] == ' '))
            fprintf(f, "%s\n", line);
    }
    if (aliases && aliases[0]) {
        fputs(network, f);
        for (size_t i = 0; aliases[i]; i++)
            fprintf(f, " %s", aliases[i]);
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        return err_set(err, ENOMEM, "aliases of %s", id);
    return fs_write_atomic(p, buf, strlen(buf), 0644, err);
}

/* <run_root>/c/<id>/hosts = hosts.base + the other members of every user
 * network id is on (not the default network, as Docker's embedded DNS), by
 * name, aliases and short id. */
static int hosts_refresh(struct db *db, const char *run_root, const char *id, struct err **err)
{
    _cleanup_free_ char *basep = NULL, *hostsp = NULL;
    _cleanup_free_ char *base = NULL, *buf = NULL;
    struct db_network **nets = NULL;
    size_t nnets = 0, len = 0, blen = 0;
    FILE *f;

    if (asprintf(&basep, "%s/c/%s/hosts.base", run_root, id) < 0 ||
        asprintf(&hostsp, "%s/c/%s/hosts", run_root, id) < 0)
        return err_set(err, ENOMEM, "/etc/hosts");
    if (fs_read_file(basep, &base, &blen, err) < 0)
        return -1;
    f = open_memstream(&buf, &len);
    if (!f)
        return err_set(err, ENOMEM, "/etc/hosts");
    fputs(base, f);
    if (db_network_list(db, &nets, &nnets, NULL) < 0)
        nnets = 0;
    for (size_t k = 0; k < nnets; k++) {
        struct db_network_ip *ips = NULL;
        size_t nips = 0;
        bool member = false;
        if (strcmp(nets[k]->name, NETWORK_DEFAULT) == 0 ||
            db_network_ips(db, nets[k], &ips, &nips, NULL) < 0)
            continue;
        for (size_t i = 0; i < nips; i++)
            member = member || strcmp(ips[i].container_id, id) == 0;
        for (size_t i = 0; member && i < nips; i++) {
            if (strcmp(ips[i].container_id, id) == 0)
                continue;
            fprintf(f, "%s\t%s", ips[i].addr, ips[i].container_name ?: "");
            ctr_net_aliases_print(f, run_root, ips[i].container_id, nets[k]->name);
            fprintf(f, " %.12s\n", ips[i].container_id);
        }
        db_network_ips_free(ips, nips);
    }
    db_network_list_free(nets, nnets);
    if (fclose(f) != 0)
        return err_set(err, ENOMEM, "/etc/hosts");
    return write_in_place(hostsp, buf, err);
}

/* Every other member's /etc/hosts, after one joined or left. */
static void hosts_refresh_peers(struct db *db, const char *network, const char *run_root,
                                const char *id)
{
    _cleanup_db_network_ struct db_network *n = NULL;
    struct db_network_ip *ips = NULL;
    size_t nips = 0;

    if (!network || strcmp(network, NETWORK_DEFAULT) == 0 ||
        db_network_get(db, network, &n, NULL) < 0 || db_network_ips(db, n, &ips, &nips, NULL) < 0)
        return;
    for (size_t i = 0; i < nips; i++) {
        struct err *e = NULL;
        if (strcmp(ips[i].container_id, id) == 0)
            continue;
        if (hosts_refresh(db, run_root, ips[i].container_id, &e) < 0)
            err_free(&e);
    }
    db_network_ips_free(ips, nips);
}

/* ---- published ports ---- */

struct ctr_port {
    char proto[4];
    uint32_t host_ip;
    uint16_t host_port, ctr_port;
};

/* -p [IP:][HOSTPORT[-END]:]CTRPORT[-END][/tcp|udp]; *count: the ports of
 * the range (the host range, when given, is as long as the container's). */
static int port_parse(const char *arg, struct ctr_port *p, unsigned *count, struct err **err)
{
    _cleanup_free_ char *s = strdup(arg);
    char *proto, *f[3];
    int n = 0;

    if (!s)
        return err_set(err, ENOMEM, "-p");
    *p = (struct ctr_port){.proto = "tcp"};
    if ((proto = strchr(s, '/'))) {
        *proto++ = 0;
        if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
            return err_val(err, EINVAL, "-p `%s`: the protocol is tcp or udp", arg);
        snprintf(p->proto, sizeof(p->proto), "%s", proto);
    }
    for (char *t = s, *c; n < 3; t = c + 1) {
        f[n++] = t;
        if (!(c = strchr(t, ':')))
            break;
        *c = 0;
    }
    if (strchr(f[n - 1], ':'))
        return err_val(err, EINVAL, "-p `%s`: expected [IP:][HOSTPORT:]CTRPORT[/PROTO]", arg);
    long v[2] = {0, 0}, last[2] = {0, 0};
    const char *ps[2] = {n >= 2 ? f[n - 2] : "", f[n - 1]};
    for (int i = 0; i < 2; i++) {
        char *end;
        if (!ps[i][0] && i == 0)
            continue;
        v[i] = last[i] = strtol(ps[i], &end, 10);
        if (*end == '-')
            last[i] = strtol(end + 1, &end, 10);
        if (*end || v[i] < 1 || last[i] > 65535 || last[i] < v[i])
            return err_val(err, EINVAL, "-p `%s`: `%s` is not a port or a range (1-65535)", arg,
                           ps[i]);
    }
    if (v[0] && last[0] - v[0] != last[1] - v[1])
        return err_val(err, EINVAL, "-p `%s`: the host and container ranges differ in length", arg);
    if (n == 3 && f[0][0] && cidr_addr_parse(f[0], &p->host_ip, err) < 0)
        return err_wrap(err, "-p `%s`", arg);
    p->host_port = (uint16_t)v[0];
    p->ctr_port = (uint16_t)v[1];
    *count = (unsigned)(last[1] - v[1] + 1);
    return 0;
}

/* The host port must be free on the host: bind() it (0: the kernel picks
 * one, as Docker's random ports). */
static int port_probe(struct ctr_port *p, struct err **err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(p->host_port),
                             .sin_addr.s_addr = htonl(p->host_ip)};
    socklen_t len = sizeof(sa);
    char ip[CIDR_STR_LEN];
    _cleanup_close_ int fd = socket(
        AF_INET, (strcmp(p->proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return err_sys(err, "socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return err_sys(err, "publish port %s:%u/%s: cannot bind it on the host",
                       cidr_addr_format(p->host_ip, ip), p->host_port, p->proto);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        return err_sys(err, "getsockname");
    p->host_port = ntohs(sa.sin_port);
    return 0;
}

static void port_key(const struct ctr_port *p, char *buf, size_t len)
{
    char ip[CIDR_STR_LEN];

    snprintf(buf, len, "%s/%s/%u", p->proto, cidr_addr_format(p->host_ip, ip), p->host_port);
}

static int port_json_get(json_t *j, struct ctr_port *p)
{
    const char *proto = json_string_value(json_object_get(j, "proto"));
    const char *ip = json_string_value(json_object_get(j, "hostIp"));

    if (!proto || !ip || cidr_addr_parse(ip, &p->host_ip, NULL) < 0)
        return -1;
    snprintf(p->proto, sizeof(p->proto), "%s", proto);
    p->host_port = (uint16_t)json_integer_value(json_object_get(j, "hostPort"));
    p->ctr_port = (uint16_t)json_integer_value(json_object_get(j, "ctrPort"));
    return 0;
}

static void ports_remove(struct db *db, json_t *ports, uint32_t ctr_ip)
{
    size_t i;
    json_t *j;

    json_array_foreach (ports, i, j) {
        struct ctr_port p;
        struct err *e = NULL;
        char key[64];
        if (port_json_get(j, &p) < 0)
            continue;
        struct nftables_port np = {p.proto, p.host_ip, p.host_port, ctr_ip, p.ctr_port};
        if (nftables_port_remove(&np, &e) < 0)
            err_free(&e);
        port_key(&p, key, sizeof(key));
        if (db_claim_release(db, "port", key, &e) < 0)
            err_free(&e);
    }
}

/* Claim, check and map every -p; *out: [{proto, hostIp, hostPort, ctrPort}]. */
static int ports_add(struct db *db, const char *id, char *const *publish, uint32_t ctr_ip,
                     json_t **out, struct err **err)
{
    json_t *ports = json_array();

    for (size_t i = 0; publish && publish[i]; i++) {
        struct ctr_port first;
        unsigned count = 0;
        if (port_parse(publish[i], &first, &count, err) < 0)
            goto fail;
        for (unsigned r = 0; r < count; r++) {
            struct ctr_port p = first;
            char key[64], ip[CIDR_STR_LEN];
            p.ctr_port = (uint16_t)(first.ctr_port + r);
            if (first.host_port)
                p.host_port = (uint16_t)(first.host_port + r);
            if (port_probe(&p, err) < 0)
                goto fail;
            port_key(&p, key, sizeof(key));
            if (db_claim_add(db, "port", key, id, err) < 0)
                goto fail;
            struct nftables_port np = {p.proto, p.host_ip, p.host_port, ctr_ip, p.ctr_port};
            if (nftables_port_add(&np, err) < 0) {
                db_claim_release(db, "port", key, NULL);
                goto fail;
            }
            json_array_append_new(ports,
                                  json_pack("{s:s, s:s, s:i, s:i}", "proto", p.proto, "hostIp",
                                            cidr_addr_format(p.host_ip, ip), "hostPort",
                                            (int)p.host_port, "ctrPort", (int)p.ctr_port));
        }
    }
    *out = ports;
    return 0;
fail:
    ports_remove(db, ports, ctr_ip);
    json_decref(ports);
    return -1;
}

void ctr_net_free(struct ctr_net *n)
{
    free(n->network);
    free(n->netns);
    free(n->hosts);
    free(n->hostname);
    free(n->resolv);
    json_decref(n->ports);
    json_decref(n->aliases);
    free(n->hostname_of);
    *n = (struct ctr_net){0};
}

/* -p's and, with -P, the image's ExposedPorts ("80/tcp": a free host port). */
static char **publish_list(const struct ctr_net_opts *o, json_t *image_config)
{
    json_t *exp = json_object_get(json_object_get(image_config, "config"), "ExposedPorts");
    size_t n = 0, k = 0;
    const char *key;
    json_t *v;

    while (o->publish && o->publish[n])
        n++;
    char **l = calloc(n + json_object_size(exp) + 1, sizeof(char *));
    if (!l)
        return NULL;
    for (; k < n; k++)
        l[k] = (char *)o->publish[k];
    if (o->publish_all)
        json_object_foreach (exp, key, v)
            l[k++] = (char *)key;
    return l;
}

/* Docker's checks of --dns, --dns-search, --add-host and --network-alias
 * (opts/opts.go, runconfig/errors.go), and of what cannot go with
 * --network container:NAME. */
static bool ip_valid(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool domain_valid(const char *s)
{
    size_t n = strlen(s);

    if (strcmp(s, ".") == 0)
        return true;
    if (n && s[n - 1] == '.')
        n--;
    if (n == 0 || n > 255)
        return false;
    /* labels of letters, digits and inner '-' */
    for (size_t i = 0, start = 0; i <= n; i++) {
        char ch = i < n ? s[i] : '.';
        if (ch == '.') {
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            start = i + 1;
        } else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-')) {
            return false;
        }
    }
    return true;
}

static int ctr_net_opts_check(const char *net, const struct ctr_net_opts *o, struct err **err)
{
    bool joined = strncmp(net, "container:", 10) == 0;

    for (size_t i = 0; o->dns && o->dns[i]; i++)
        if (!ip_valid(o->dns[i]))
            return err_val(err, EINVAL,
                           "invalid argument \"%s\" for \"--dns\" flag: %s is not an ip address",
                           o->dns[i], o->dns[i]);
    for (size_t i = 0; o->dns_search && o->dns_search[i]; i++)
        if (!domain_valid(o->dns_search[i]))
            return err_val(
                err, EINVAL,
                "invalid argument \"%s\" for \"--dns-search\" flag: %s is not a valid domain",
                o->dns_search[i], o->dns_search[i]);
    for (size_t i = 0; o->add_host && o->add_host[i]; i++) {
        const char *c = strchr(o->add_host[i], ':');
        if (!c || c == o->add_host[i] || !ip_valid(c + 1))
            return err_val(err, EINVAL,
                           "invalid argument \"%s\" for \"--add-host\" flag: expected NAME:IP "
                           "with an IP address",
                           o->add_host[i]);
    }
    if (o->aliases && o->aliases[0] &&
        (joined || strcmp(net, "none") == 0 || strcmp(net, "host") == 0 ||
         strcmp(net, NETWORK_DEFAULT) == 0))
        return err_val(err, EINVAL,
                       "network-scoped alias is supported only for containers in user defined "
                       "networks (not --network %s)",
                       net);
    if (joined) {
        const char *what = o->ip                                             ? "--ip"
                           : (o->publish && o->publish[0]) || o->publish_all ? "port publishing"
                           : o->dns && o->dns[0]                             ? "dns"
                           : o->dns_search && o->dns_search[0]               ? "dns-search"
                           : o->add_host && o->add_host[0] ? "custom host-to-IP mapping"
                                                           : NULL;
        if (what)
            return err_val(err, EINVAL, "conflicting options: %s and the network mode %s", what,
                           net);
    }
    return 0;
}

/* --network container:REF: REF's network namespace (the path its spec
 * gives, or the host's) and its /etc files. REF must run, as Docker's. */
static int ctr_net_join(struct db *db, const char *run_root, const char *id, const char *ref,
                        const struct ctr_net_opts *o, struct ctr_net *out, struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_json_ json_t *cfg = NULL;
    struct ctr_net r = {0};
    const char *path = NULL;
    bool netns = false;
    json_t *ns;
    size_t i;

    (void)o;
    if (db_container_get(db, ref, &c, err) < 0)
        return err_wrap(err, "--network container:%s", ref);
    if (strcmp(c->id, id) == 0)
        return err_val(err, EINVAL, "cannot join own network");
    if ((c->status != DB_STATUS_RUNNING && c->status != DB_STATUS_PAUSED &&
         c->status != DB_STATUS_RESTARTING) ||
        !db_container_monitor_alive(c))
        return err_val(err, EINVAL, "cannot join network of a non running container: %s", ref);
    if (!c->config || js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) < 0)
        return err_val(err, EIO, "container %s: its config is unreadable", ref);
    json_array_foreach (json_object_get(json_object_get(cfg, "linux"), "namespaces"), i, ns)
        if (strcmp(json_string_value(json_object_get(ns, "type")) ?: "", "network") == 0) {
            netns = true;
            path = json_string_value(json_object_get(ns, "path"));
        }
    r.host = !netns; /* REF shares the host's */
    /* Docker's: the joiner takes REF's hostname too */
    const char *hn = json_string_value(json_object_get(cfg, "hostname"));
    if (hn && !(r.hostname_of = strdup(hn))) {
        ctr_net_free(&r);
        return err_set(err, ENOMEM, "--network container:%s", ref);
    }
    if (asprintf(&r.network, "container:%s", c->id) < 0 ||
        (netns && (path ? asprintf(&r.netns, "%s", path)
                        : asprintf(&r.netns, "/proc/%d/ns/net", (int)c->pid)) < 0) ||
        asprintf(&r.hosts, "%s/c/%s/hosts", run_root, c->id) < 0 ||
        asprintf(&r.hostname, "%s/c/%s/hostname", run_root, c->id) < 0 ||
        asprintf(&r.resolv, "%s/c/%s/resolv.conf", run_root, c->id) < 0) {
        ctr_net_free(&r);
        return err_set(err, ENOMEM, "--network container:%s", ref);
    }
    if (netns && !path && c->pid <= 0) {
        ctr_net_free(&r);
        return err_val(err, EINVAL, "cannot join network of container %s: no process", ref);
    }
    char **files[] = {&r.hosts, &r.hostname, &r.resolv};
    for (size_t k = 0; k < ARRAY_SIZE(files); k++)
        if (!fs_exists(*files[k])) {
            free(*files[k]);
            *files[k] = NULL;
        }
    *out = r;
    return 0;
}

int ctr_net_setup(struct db *db, const char *run_root, const char *rundir, const char *id,
                  const char *name, const char *hostname, const struct ctr_net_opts *o,
                  json_t *image_config, struct ctr_net *out, struct err **err)
{
    const char *net = o->network ? o->network : NETWORK_DEFAULT;
    _cleanup_free_ char *nsdir = join_path(run_root, "netns"), *base = NULL, *resolv = NULL,
                        *basep = NULL, *hn = NULL;
    _cleanup_db_network_ struct db_network *n = NULL;
    _cleanup_close_ int nsfd = -1;
    struct ctr_net r = {0};
    uint32_t addr = 0;

    if (!nsdir)
        return err_set(err, ENOMEM, "network of container %s", id);
    if (ctr_net_opts_check(net, o, err) < 0)
        return -1;
    if (strncmp(net, "container:", 10) == 0)
        return ctr_net_join(db, run_root, id, net + 10, o, out, err);
    if (strcmp(net, "host") == 0 || strcmp(net, "none") == 0) {
        if (o->ip)
            return err_val(err, EINVAL, "--ip: needs a user network or bridge, not --network %s",
                           net);
        r.host = strcmp(net, "host") == 0;
        r.none = !r.host;
    }
    if (fs_mkdir_p(rundir, 0700, err) < 0)
        return -1;
    r.hosts = join_path(rundir, "hosts");
    r.hostname = join_path(rundir, "hostname");
    r.resolv = join_path(rundir, "resolv.conf");
    basep = join_path(rundir, "hosts.base");
    if (!r.hosts || !r.hostname || !r.resolv || !basep || asprintf(&hn, "%s\n", hostname) < 0) {
        ctr_net_free(&r);
        return err_set(err, ENOMEM, "network of container %s", id);
    }
    if (!r.host && !r.none) {
        if ((r.netns = ctr_net_ns_path(run_root, id)) == NULL ||
            (r.network = strdup(net)) == NULL) {
            ctr_net_free(&r);
            return err_set(err, ENOMEM, "network of container %s", id);
        }
        if (fs_mkdir_p(nsdir, 0700, err) < 0 || ctr_net_ns_make(r.netns, err) < 0) {
            ctr_net_free(&r);
            return -1;
        }
        nsfd = open(r.netns, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0) {
            err_sys(err, "open `%s`", r.netns);
            goto fail_ns;
        }
        if (network_connect_ns(db, net, id, nsfd, "eth0", o->ip, &addr, err) < 0)
            goto fail_ns;
        snprintf(r.addr, sizeof(r.addr), "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
                 (addr >> 8) & 255, addr & 255);
        if (db_network_get(db, net, &n, err) < 0)
            goto fail_conn;
        snprintf(r.gateway, sizeof(r.gateway), "%s", n->internal ? "" : n->gateway);
        _cleanup_free_ char **pub = publish_list(o, image_config);
        if (!pub) {
            err_set(err, ENOMEM, "-p");
            goto fail_conn;
        }
        if (ports_add(db, id, pub, addr, &r.ports, err) < 0)
            goto fail_conn;
        if (o->aliases && o->aliases[0]) {
            r.aliases = json_array();
            for (size_t i = 0; o->aliases[i]; i++)
                json_array_append_new(r.aliases, json_string(o->aliases[i]));
            if (ctr_net_aliases_set(run_root, id, n->name, o->aliases, err) < 0)
                goto fail_conn;
        }
    } else if ((o->publish && o->publish[0]) || o->publish_all) {
        ctr_net_free(&r);
        return err_val(err, EINVAL, "-p: needs a network (not --network %s)", net);
    }
    if (hosts_base_text(r.addr, id, name, hostname, r.host, o, &base, err) < 0 ||
        fs_write_replace(basep, base, strlen(base), 0644, err) < 0 ||
        hosts_refresh(db, run_root, id, err) < 0 || write_in_place(r.hostname, hn, err) < 0)
        goto fail_conn;
    /* a user network's names are answered by its server on the gateway */
    const char *dns_gw = n && strcmp(n->name, NETWORK_DEFAULT) != 0 ? n->gateway : NULL;
    if (dns_gw && network_dns_sync(db, run_root, n->id, err) < 0)
        goto fail_conn;
    if (resolv_text(o, dns_gw, &resolv) < 0) {
        err_set(err, ENOMEM, "/etc/resolv.conf");
        goto fail_conn;
    }
    if (write_in_place(r.resolv, resolv, err) < 0)
        goto fail_conn;
    if (r.network)
        hosts_refresh_peers(db, r.network, run_root, id);
    *out = r;
    return 0;
fail_conn:
    if (r.ports)
        ports_remove(db, r.ports, addr);
    if (r.network) {
        struct err *e = NULL;
        if (network_disconnect(db, net, id, &e) < 0)
            err_free(&e);
        if (network_dns_sync(db, run_root, net, &e) < 0)
            err_free(&e);
    }
fail_ns:
    if (r.netns)
        ctr_net_ns_remove(r.netns);
    ctr_net_free(&r);
    return err_wrap(err, "connect container %s to network %s", id, net);
}

/* Disconnect id from every network where it holds an address. */
static void ctr_net_release_all(struct db *db, const char *run_root, const char *id)
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
        bool member = false;
        if (db_network_ips(db, nets[k], &ips, &nips, NULL) < 0)
            continue;
        for (size_t i = 0; i < nips; i++)
            member = member || strcmp(ips[i].container_id, id) == 0;
        db_network_ips_free(ips, nips);
        if (!member)
            continue;
        if (network_disconnect(db, nets[k]->name, id, &e) < 0)
            err_free(&e);
        hosts_refresh_peers(db, nets[k]->name, run_root, id);
        if (network_dns_sync(db, run_root, nets[k]->id, &e) < 0)
            err_free(&e);
    }
    db_network_list_free(nets, n);
}

void ctr_net_teardown(struct db *db, const char *run_root, const char *id, const char *network,
                      json_t *ports, const char *ip)
{
    _cleanup_free_ char *ns = ctr_net_ns_path(run_root, id);
    struct err *e = NULL;
    uint32_t addr = 0;

    if (ports && ip && cidr_addr_parse(ip, &addr, NULL) == 0)
        ports_remove(db, ports, addr);

    if (network && (strcmp(network, "none") == 0 || strcmp(network, "host") == 0 ||
                    strncmp(network, "container:", 10) == 0))
        network = NULL;
    if (network && network_disconnect(db, network, id, &e) < 0)
        err_free(&e);
    /* networks joined later (network connect), or not recorded yet */
    ctr_net_release_all(db, run_root, id);
    if (ns && fs_exists(ns))
        ctr_net_ns_remove(ns);
    if (network) {
        hosts_refresh_peers(db, network, run_root, id);
        if (network_dns_sync(db, run_root, network, &e) < 0)
            err_free(&e);
    }
}

void ctr_net_hosts_update(struct db *db, const char *run_root, const char *id, const char *network)
{
    struct err *e = NULL;

    if (hosts_refresh(db, run_root, id, &e) < 0)
        err_free(&e);
    hosts_refresh_peers(db, network, run_root, id);
    /* its names (and aliases) on that network's DNS server, or none */
    if (network_dns_sync(db, run_root, network, &e) < 0)
        err_free(&e);
}

void ctr_net_ports_release(struct db *db, json_t *ports, const char *ip)
{
    uint32_t addr = 0;

    if (ports && ip && cidr_addr_parse(ip, &addr, NULL) == 0)
        ports_remove(db, ports, addr);
}

json_t *ctr_net_ports_load(json_t *ann)
{
    const char *text = json_string_value(json_object_get(ann, CTR_ANN_PORTS));

    return text ? json_loads(text, 0, NULL) : NULL;
}

void ctr_net_ports_text(json_t *ann, char *buf, size_t len)
{
    json_t *ports = ctr_net_ports_load(ann), *j;
    size_t i, l = 0;

    buf[0] = 0;
    json_array_foreach (ports, i, j) {
        int k = snprintf(buf + l, len - l, "%s%s:%d->%d/%s", i ? ", " : "",
                         json_string_value(json_object_get(j, "hostIp")) ?: "",
                         (int)json_integer_value(json_object_get(j, "hostPort")),
                         (int)json_integer_value(json_object_get(j, "ctrPort")),
                         json_string_value(json_object_get(j, "proto")) ?: "tcp");
        if (k < 0 || (size_t)k >= len - l)
            break;
        l += (size_t)k;
    }
    json_decref(ports);
}

/* Docker's {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]} */
static json_t *ctr_net_ports_docker(json_t *ann)
{
    json_t *ports = ctr_net_ports_load(ann), *out = json_object(), *j;
    size_t i;

    json_array_foreach (ports, i, j) {
        char k[16], hp[8];
        snprintf(k, sizeof(k), "%d/%s", (int)json_integer_value(json_object_get(j, "ctrPort")),
                 json_string_value(json_object_get(j, "proto")) ?: "tcp");
        snprintf(hp, sizeof(hp), "%d", (int)json_integer_value(json_object_get(j, "hostPort")));
        json_t *a = json_object_get(out, k);
        if (!a)
            json_object_set_new(out, k, a = json_array());
        json_array_append_new(a, json_pack("{s:s, s:s}", "HostIp",
                                           json_string_value(json_object_get(j, "hostIp")) ?: "",
                                           "HostPort", hp));
    }
    json_decref(ports);
    return out;
}

/* A JSON text annotation (NULL when absent or unreadable). */
static json_t *ann_json(json_t *ann, const char *key)
{
    const char *text = json_string_value(json_object_get(ann, key));

    return text ? json_loads(text, 0, NULL) : NULL;
}

json_t *ctr_net_inspect(json_t *ann)
{
    const char *net = json_string_value(json_object_get(ann, CTR_ANN_NETWORK));
    const char *ip = json_string_value(json_object_get(ann, CTR_ANN_IP)) ?: "";
    const char *gw = json_string_value(json_object_get(ann, CTR_ANN_GATEWAY)) ?: "";
    json_t *nets = json_object(), *aliases = ann_json(ann, CTR_ANN_ALIASES), *v;
    json_t *extra = ann_json(ann, CTR_ANN_NETWORKS);
    const char *key;

    if (net && strncmp(net, "container:", 10) == 0) {
        /* Docker's: no networks of its own */
    } else if (net && strcmp(net, "host") != 0 && strcmp(net, "none") != 0) {
        /* its first network, unless `network disconnect` took it away */
        if (*ip)
            json_object_set_new(nets, net,
                                json_pack("{s:s, s:s, s:s, s:o}", "IPAddress", ip, "Gateway", gw,
                                          "MacAddress", "", "Aliases",
                                          aliases ? json_incref(aliases) : json_array()));
    } else if (net) {
        json_object_set_new(
            nets, net,
            json_pack("{s:s, s:s, s:s}", "IPAddress", "", "Gateway", "", "MacAddress", ""));
    }
    json_object_foreach (extra, key, v) {
        json_t *a = json_object_get(v, "aliases");
        json_object_set_new(nets, key,
                            json_pack("{s:s, s:s, s:s, s:o}", "IPAddress",
                                      json_string_value(json_object_get(v, "ip")) ?: "", "Gateway",
                                      json_string_value(json_object_get(v, "gateway")) ?: "",
                                      "MacAddress", "", "Aliases",
                                      a ? json_incref(a) : json_array()));
    }
    json_decref(aliases);
    json_decref(extra);
    return json_pack("{s:s, s:s, s:o, s:o}", "IPAddress", ip, "Gateway", gw, "Networks", nets,
                     "Ports", ctr_net_ports_docker(ann));
}

void ctr_net_mounts(const struct ctr_net *cn, struct compose_mount *m, size_t *n)
{
    const char *src[] = {cn->hosts, cn->hostname, cn->resolv};
    const char *dst[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};

    for (size_t i = 0; i < 3; i++)
        if (src[i])
            m[(*n)++] = (struct compose_mount){.type = COMPOSE_MOUNT_BIND,
                                               .source = src[i],
                                               .destination = dst[i],
                                               .readonly = true};
}

int ctr_net_annotate(json_t *spec, const struct ctr_net *cn, struct err **err)
{
    json_t *ann = json_object_get(spec, "annotations");
    const char *net = cn->network && strncmp(cn->network, "container:", 10) == 0 ? cn->network
                      : cn->host                                                 ? "host"
                      : cn->none                                                 ? "none"
                                                                                 : cn->network;

    if (!ann || !net || json_object_set_new(ann, CTR_ANN_NETWORK, json_string(net)) < 0 ||
        (cn->addr[0] && json_object_set_new(ann, CTR_ANN_IP, json_string(cn->addr)) < 0) ||
        (cn->gateway[0] && json_object_set_new(ann, CTR_ANN_GATEWAY, json_string(cn->gateway)) < 0))
        return err_set(err, ENOMEM, "config.json: annotations");
    if (cn->aliases && json_array_size(cn->aliases)) {
        _cleanup_free_ char *text = json_dumps(cn->aliases, JSON_COMPACT);
        if (!text || json_object_set_new(ann, CTR_ANN_ALIASES, json_string(text)) < 0)
            return err_set(err, ENOMEM, "config.json: annotations");
    }
    if (cn->ports && json_array_size(cn->ports)) {
        _cleanup_free_ char *text = json_dumps(cn->ports, JSON_COMPACT);
        if (!text || json_object_set_new(ann, CTR_ANN_PORTS, json_string(text)) < 0)
            return err_set(err, ENOMEM, "config.json: annotations");
    }
    return 0;
}

bool ctr_net_own_mount(const char *id, const char *src, const char *dst)
{
    static const char *const files[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};
    char tail[128];

    if (!src || !dst)
        return false;
    for (size_t i = 0; i < 3; i++) {
        snprintf(tail, sizeof(tail), "/c/%s/%s", id, files[i] + 5);
        size_t ls = strlen(src), lt = strlen(tail);
        if (strcmp(dst, files[i]) == 0 && ls >= lt && strcmp(src + ls - lt, tail) == 0)
            return true;
    }
    return false;
}

int ctr_net_ns_pin(const char *run_root, const char *id, struct err **err)
{
    _cleanup_free_ char *nsdir = join_path(run_root, "netns"),
                        *path = ctr_net_ns_path(run_root, id);

    if (!nsdir || !path)
        return err_set(err, ENOMEM, "network namespace of container %s", id);
    if (fs_mkdir_p(nsdir, 0700, err) < 0)
        return -1;
    return ctr_net_ns_make(path, err);
}
