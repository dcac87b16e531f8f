/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A container's network namespace and /etc files: see ctr_net.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/ctr_net.h"
#include "engine/network.h"
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

/* Docker's /etc/resolv.conf: --dns or the host's nameservers, except the
 * ones on 127.0.0.0/8 (systemd-resolved, dnsmasq: unreachable from the
 * container), then 8.8.8.8 and 8.8.4.4 as Docker's fallback. */
static int resolv_text(const struct ctr_net_opts *o, char **out)
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
                if (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0)
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
                           const struct ctr_net_opts *o, char **out, struct err **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return err_set(err, ENOMEM, "/etc/hosts");
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

void ctr_net_free(struct ctr_net *n)
{
    free(n->network);
    free(n->netns);
    free(n->hosts);
    free(n->hostname);
    free(n->resolv);
    *n = (struct ctr_net){0};
}

int ctr_net_setup(struct db *db, const char *run_root, const char *rundir, const char *id,
                  const char *name, const char *hostname, const struct ctr_net_opts *o,
                  struct ctr_net *out, struct err **err)
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
    }
    if (hosts_base_text(r.addr, id, name, hostname, o, &base, err) < 0 ||
        fs_write_atomic(basep, base, strlen(base), 0644, err) < 0 ||
        hosts_refresh(db, n, rundir, id, err) < 0 || write_in_place(r.hostname, hn, err) < 0)
        goto fail_conn;
    if (resolv_text(o, &resolv) < 0) {
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
    if (r.network) {
        struct err *e = NULL;
        if (network_disconnect(db, net, id, &e) < 0)
            err_free(&e);
    }
fail_ns:
    if (r.netns)
        ctr_net_ns_remove(r.netns);
    ctr_net_free(&r);
    return err_wrap(err, "connect container %s to network %s", id, net);
}

void ctr_net_teardown(struct db *db, const char *run_root, const char *id, const char *network)
{
    _cleanup_free_ char *ns = ctr_net_ns_path(run_root, id);
    struct err *e = NULL;

    if (network && (strcmp(network, "none") == 0 || strcmp(network, "host") == 0))
        network = NULL;
    if (network && network_disconnect(db, network, id, &e) < 0)
        err_free(&e);
    if (ns && fs_exists(ns))
        ctr_net_ns_remove(ns);
    if (network)
        hosts_refresh_peers(db, network, run_root, id);
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
                     "Ports", json_object());
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
    return 0;
}
