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
        const char *c = strrchr(o->add_host[i], ':');
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

/* <rundir>/hosts (the run dir: ctr_run_dir(), <run_root>/c/<id>) = hosts.base + the other members
 * of the network (user networks only, as Docker's embedded DNS). */
static int hosts_refresh(struct db *db, const struct db_network *n, const char *rundir,
                         const char *id, struct err **err)
{
    _cleanup_free_ char *basep = join_path(rundir, "hosts.base"),
                        *hostsp = join_path(rundir, "hosts");
    _cleanup_free_ char *base = NULL, *buf = NULL;
    struct db_network_ip *ips = NULL;
    size_t nips = 0, len = 0, blen = 0;
    FILE *f;

    if (!basep || !hostsp)
        return err_set(err, ENOMEM, "/etc/hosts");
    if (fs_read_file(basep, &base, &blen, err) < 0)
        return -1;
    f = open_memstream(&buf, &len);
    if (!f)
        return err_set(err, ENOMEM, "/etc/hosts");
    fputs(base, f);
    if (n && strcmp(n->name, NETWORK_DEFAULT) != 0 &&
        db_network_ips(db, n, &ips, &nips, NULL) == 0) {
        for (size_t i = 0; i < nips; i++)
            if (strcmp(ips[i].container_id, id) != 0)
                fprintf(f, "%s\t%s %.12s\n", ips[i].addr, ips[i].container_name ?: "",
                        ips[i].container_id);
        db_network_ips_free(ips, nips);
    }
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
        _cleanup_free_ char *dir = NULL;
        struct err *e = NULL;
        if (strcmp(ips[i].container_id, id) == 0 ||
            asprintf(&dir, "%s/c/%s", run_root, ips[i].container_id) < 0)
            continue;
        if (hosts_refresh(db, n, dir, ips[i].container_id, &e) < 0)
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
    } else if ((o->publish && o->publish[0]) || o->publish_all) {
        ctr_net_free(&r);
        return err_val(err, EINVAL, "-p: needs a network (not --network %s)", net);
    }
    if (hosts_base_text(r.addr, id, name, hostname, r.host, o, &base, err) < 0 ||
        fs_write_atomic(basep, base, strlen(base), 0644, err) < 0 ||
        hosts_refresh(db, n, rundir, id, err) < 0 || write_in_place(r.hostname, hn, err) < 0)
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

void ctr_net_teardown(struct db *db, const char *run_root, const char *id, const char *network,
                      json_t *ports, const char *ip)
{
    _cleanup_free_ char *ns = ctr_net_ns_path(run_root, id);
    struct err *e = NULL;
    uint32_t addr = 0;

    if (ports && ip && cidr_addr_parse(ip, &addr, NULL) == 0)
        ports_remove(db, ports, addr);

    if (network && (strcmp(network, "none") == 0 || strcmp(network, "host") == 0))
        network = NULL;
    if (network && network_disconnect(db, network, id, &e) < 0)
        err_free(&e);
    if (ns && fs_exists(ns))
        ctr_net_ns_remove(ns);
    if (network) {
        hosts_refresh_peers(db, network, run_root, id);
        if (network_dns_sync(db, run_root, network, &e) < 0)
            err_free(&e);
    }
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

json_t *ctr_net_inspect(json_t *ann)
{
    const char *net = json_string_value(json_object_get(ann, CTR_ANN_NETWORK));
    const char *ip = json_string_value(json_object_get(ann, CTR_ANN_IP)) ?: "";
    const char *gw = json_string_value(json_object_get(ann, CTR_ANN_GATEWAY)) ?: "";
    json_t *nets = json_object();

    if (net && strcmp(net, "host") != 0 && strcmp(net, "none") != 0)
        json_object_set_new(
            nets, net,
            json_pack("{s:s, s:s, s:s}", "IPAddress", ip, "Gateway", gw, "MacAddress", ""));
    else if (net)
        json_object_set_new(
            nets, net,
            json_pack("{s:s, s:s, s:s}", "IPAddress", "", "Gateway", "", "MacAddress", ""));
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
    const char *net = cn->host ? "host" : cn->none ? "none" : cn->network;

    if (!ann || !net || json_object_set_new(ann, CTR_ANN_NETWORK, json_string(net)) < 0 ||
        (cn->addr[0] && json_object_set_new(ann, CTR_ANN_IP, json_string(cn->addr)) < 0) ||
        (cn->gateway[0] && json_object_set_new(ann, CTR_ANN_GATEWAY, json_string(cn->gateway)) < 0))
        return err_set(err, ENOMEM, "config.json: annotations");
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
