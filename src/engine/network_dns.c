/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One dnsmasq per user network: see network_dns.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine/ctr_net.h"
#include "engine/network.h"
#include "engine/network_dns.h"
#include "net/cidr.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"

#define DNS_MAX_SERVERS 8

static char *dns_path(const char *run_root, const char *net_id, const char *file)
{
    char *p = NULL;

    if (asprintf(&p, "%s/dns%s%s%s%s", run_root, net_id ? "/" : "", net_id ?: "", file ? "/" : "",
                 file ?: "") < 0)
        return NULL;
    return p;
}

/* One lock for every network's server: starts, stops and rewrites of
 * concurrent CLIs never interleave. */
static int dns_lock(const char *run_root, struct err **err)
{
    _cleanup_free_ char *dir = dns_path(run_root, NULL, NULL), *p = NULL;
    int fd;

    if (!dir || asprintf(&p, "%s/lock", dir) < 0)
        return err_set(err, ENOMEM, "DNS lock");
    if (fs_mkdir_p(dir, 0700, err) < 0)
        return -1;
    fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_sys(err, "open `%s`", p);
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            err_sys(err, "lock `%s`", p);
            close(fd);
            return -1;
        }
    }
    return fd;
}

/*
 * The server of this pid file, as a pidfd (-1: none runs). The pidfd is
 * opened before the identity check, so the process checked is the one a
 * signal will reach even if the pid is reused meanwhile.
 */
static int dns_server_pidfd(const char *pidfile)
{
    _cleanup_free_ char *text = NULL, *cmd = NULL, *want = NULL;
    char proc[64];
    size_t len = 0, clen = 0;
    long pid;
    int fd;

    if (fs_read_file(pidfile, &text, &len, NULL) < 0 || (pid = strtol(text, NULL, 10)) <= 0)
        return -1;
    fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (fd < 0)
        return -1;
    snprintf(proc, sizeof(proc), "/proc/%ld/cmdline", pid);
    if (asprintf(&want, "--pid-file=%s", pidfile) < 0 ||
        fs_read_file(proc, &cmd, &clen, NULL) < 0) {
        close(fd);
        return -1;
    }
    for (size_t i = 0; i < clen; i += strlen(cmd + i) + 1)
        if (strcmp(cmd + i, want) == 0) {
            int r = fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -1 : fd;
            if (r < 0)
                close(fd);
            return r;
        }
    close(fd);
    return -1;
}

static int pidfd_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* SIGTERM, then SIGKILL after 2 s; the pidfd becomes readable at its exit. */
static void dns_server_stop(const char *pidfile)
{
    _cleanup_close_ int pidfd = dns_server_pidfd(pidfile);

    if (pidfd < 0)
        return;
    if (pidfd_signal(pidfd, SIGTERM) < 0)
        return;
    for (int i = 0; i < 200; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        if (pidfd_signal(pidfd, 0) < 0 && errno == ESRCH)
            return;
        nanosleep(&ts, NULL);
    }
    pidfd_signal(pidfd, SIGKILL);
}

static void dns_dir_remove(const char *run_root, const char *net_id)
{
    _cleanup_free_ char *dir = dns_path(run_root, net_id, NULL),
                        *pid = dns_path(run_root, net_id, "dnsmasq.pid");
    struct err *e = NULL;

    if (!dir || !pid)
        return;
    dns_server_stop(pid);
    if (fs_rm_rf(dir, &e) < 0)
        err_free(&e);
}

/* Replace path by rename, without fs_write_atomic()'s fsyncs: the run dir
 * does not outlive a reboot, and its files are made again from the state. */
static int dns_write(const char *path, const char *data, size_t len, struct err **err)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int fd = -1;
    const char *base = strrchr(path, '/');

    /* a dot file: dnsmasq's inotify of the dhcp dir skips those */
    base = base ? base + 1 : path;
    if (asprintf(&tmp, "%.*s.%s.tmp", (int)(base - path), path, base) < 0)
        return err_set(err, ENOMEM, "write `%s`", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_sys(err, "write `%s`", tmp);
    if (fs_write_all(fd, data, len, tmp, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        err_sys(err, "rename `%s` to `%s`", tmp, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The host's resolvers, except those on loopback: a resolver on 127.0.0.0/8
 * (systemd-resolved, a local dnsmasq) is the host's, not the network's. */
static size_t upstream_servers(char out[DNS_MAX_SERVERS][64])
{
    _cleanup_fclose_ FILE *f = fopen("/etc/resolv.conf", "re");
    char line[512];
    size_t n = 0;

    while (f && n < DNS_MAX_SERVERS && fgets(line, sizeof(line), f)) {
        char a[48];
        if (sscanf(line, "nameserver %47s", a) != 1 || strncmp(a, "127.", 4) == 0 ||
            strcmp(a, "::1") == 0)
            continue;
        snprintf(out[n++], 64, "--server=%s", a);
    }
    return n;
}

/* dns: answer names (user networks); the default network's server only
 * leases addresses to VMs (--port=0: no DNS, as Docker's default network). */
static int dns_server_start(const struct db_network *n, const char *dir, bool dns, struct err **err)
{
    char servers[DNS_MAX_SERVERS][64];
    size_t ns = upstream_servers(servers), k = 0;
    _cleanup_free_ char *pidfile = NULL, *hosts = NULL, *listen = NULL, *log = NULL, *range = NULL,
                        *hostsdir = NULL, *leases = NULL, *dhcpdir = NULL;
    _cleanup_close_ int rfd = -1, wfd = -1;
    char *argv[24 + DNS_MAX_SERVERS];
    char net[CIDR_STR_LEN], mask[CIDR_STR_LEN];
    struct cidr sub;
    int pfd[2], status = 0;
    pid_t pid;

    if (cidr_parse(n->subnet, true, &sub, err) < 0)
        return err_wrap(err, "DNS server of network %s", n->name);
    if (asprintf(&pidfile, "--pid-file=%s/dnsmasq.pid", dir) < 0 ||
        asprintf(&hosts, "--addn-hosts=%s/hosts", dir) < 0 ||
        asprintf(&listen, "--listen-address=%s", n->gateway) < 0 ||
        asprintf(&log, "--log-facility=%s/dnsmasq.log", dir) < 0 ||
        asprintf(&range, "--dhcp-range=%s,static,%s", cidr_addr_format(sub.addr, net),
                 cidr_addr_format(cidr_mask(sub.prefix), mask)) < 0 ||
        asprintf(&dhcpdir, "%s/dhcp", dir) < 0 ||
        asprintf(&hostsdir, "--dhcp-hostsdir=%s", dhcpdir) < 0 ||
        asprintf(&leases, "--dhcp-leasefile=%s/leases", dir) < 0)
        return err_set(err, ENOMEM, "DNS server of network %s", n->name);
    if (fs_mkdir_p(dhcpdir, 0700, err) < 0)
        return -1;
    argv[k++] = "dnsmasq";
    argv[k++] = "--conf-file=/dev/null"; /* not the host's /etc/dnsmasq.conf */
    argv[k++] = pidfile;
    argv[k++] = "--bind-interfaces";
    argv[k++] = listen;
    argv[k++] = "--no-resolv";     /* only the servers below */
    argv[k++] = "--no-hosts";      /* not the host's /etc/hosts */
    argv[k++] = "--domain-needed"; /* a plain name is a member's or nobody's */
    argv[k++] = hosts;
    argv[k++] = log;
    /* its files are in isola's run dir, which only root may read */
    argv[k++] = "--user=root";
    /* DHCP for VMs: static leases only (--dhcp-host lines, one file per VM),
     * so a guest gets exactly the address the IPAM gave it */
    argv[k++] = range;
    argv[k++] = hostsdir;
    argv[k++] = leases;
    argv[k++] = "--dhcp-authoritative";
    if (n->internal)
        argv[k++] = "--dhcp-option=3"; /* no router */
    if (!dns)
        argv[k++] = "--port=0";
    for (size_t i = 0; dns && i < ns; i++)
        argv[k++] = servers[i];
    argv[k] = NULL;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return err_sys(err, "pipe");
    rfd = pfd[0];
    wfd = pfd[1];
    struct proc_opts o = {.stdin_fd = -1, .stdout_fd = wfd, .stderr_fd = wfd};
    if (proc_spawn(argv, &o, &pid, err) < 0)
        return err_wrap(err, "start the DNS server of network %s", n->name);
    close(steal_fd(&wfd));
    /* dnsmasq forks its daemon and exits once that one is listening, with
     * a non-zero status and a message when it could not */
    if (proc_wait(pid, 10000, &status, err) < 0) {
        proc_kill_reap(pid);
        return err_wrap(err, "start the DNS server of network %s", n->name);
    }
    if (proc_exit_code(status) != 0) {
        char msg[512] = "";
        fcntl(rfd, F_SETFL, O_NONBLOCK);
        ssize_t r = read(rfd, msg, sizeof(msg) - 1);
        msg[r > 0 ? r : 0] = 0;
        msg[strcspn(msg, "\n")] = 0;
        return err_val(err, EIO, "start the DNS server of network %s (dnsmasq on %s): exit %d%s%s",
                       n->name, n->gateway, proc_exit_code(status), msg[0] ? ": " : "", msg);
    }
    return 0;
}

/* The names file: each member's address with its name, short id and its
 * aliases on this network (--network-alias, network connect --alias). */
static int dns_hosts_write(struct db *db, const char *run_root, const struct db_network *n,
                           const char *dir, size_t *members, struct err **err)
{
    _cleanup_free_ char *buf = NULL, *path = NULL;
    struct db_network_ip *ips = NULL;
    size_t nips = 0, len = 0;
    FILE *f;

    if (db_network_ips(db, n, &ips, &nips, err) < 0)
        return -1;
    *members = nips;
    f = open_memstream(&buf, &len);
    if (!f || asprintf(&path, "%s/hosts", dir) < 0) {
        if (f)
            fclose(f);
        db_network_ips_free(ips, nips);
        return err_set(err, ENOMEM, "DNS names of network %s", n->name);
    }
    for (size_t i = 0; i < nips; i++) {
        fprintf(f, "%s\t", ips[i].addr);
        if (ips[i].container_name && ips[i].container_name[0])
            fprintf(f, "%s ", ips[i].container_name);
        fprintf(f, "%.12s", ips[i].container_id);
        ctr_net_aliases_print(f, run_root, ips[i].container_id, n->name);
        fputc('\n', f);
    }
    db_network_ips_free(ips, nips);
    if (fclose(f) != 0)
        return err_set(err, ENOMEM, "DNS names of network %s", n->name);
    if (nips == 0)
        return 0;
    if (fs_mkdir_p(dir, 0700, err) < 0)
        return -1;
    return dns_write(path, buf, len, err);
}

/* Whether a VM holds a static lease (a file in <dir>/dhcp). */
static bool dns_has_dhcp_hosts(const char *dir)
{
    _cleanup_free_ char *p = NULL;
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;

    if (asprintf(&p, "%s/dhcp", dir) < 0 || !(d = opendir(p)))
        return false;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            return true;
    return false;
}

static int dns_sync_locked(struct db *db, const char *run_root, const struct db_network *n,
                           struct err **err)
{
    _cleanup_free_ char *dir = dns_path(run_root, n->id, NULL),
                        *pidfile = dns_path(run_root, n->id, "dnsmasq.pid");
    bool dns = strcmp(n->name, NETWORK_DEFAULT) != 0;
    size_t members = 0;

    if (!dir || !pidfile)
        return err_set(err, ENOMEM, "DNS server of network %s", n->name);
    /* the default network: a server only to lease VMs their addresses */
    if (n->state != DB_NETWORK_READY || (!dns && !dns_has_dhcp_hosts(dir))) {
        if (fs_exists(dir))
            dns_dir_remove(run_root, n->id);
        return 0;
    }
    if (dns_hosts_write(db, run_root, n, dir, &members, err) < 0)
        return err_wrap(err, "DNS server of network %s", n->name);
    if (members == 0) {
        dns_dir_remove(run_root, n->id);
        return 0;
    }
    _cleanup_close_ int pidfd = dns_server_pidfd(pidfile);
    if (pidfd >= 0) {
        if (pidfd_signal(pidfd, SIGHUP) == 0)
            return 0;
        if (errno != ESRCH)
            return err_sys(err, "signal the DNS server of network %s", n->name);
    }
    return dns_server_start(n, dir, dns, err);
}

/* Drop the leases of address ip from the server's lease file. */
static int dns_leases_drop(const char *run_root, const char *net_id, const char *ip,
                           struct err **err)
{
    _cleanup_free_ char *p = dns_path(run_root, net_id, "leases"), *text = NULL, *buf = NULL;
    size_t len = 0, blen = 0;
    FILE *f;

    if (!p || fs_read_file(p, &text, &len, NULL) < 0 || !ip[0])
        return 0;
    if (!(f = open_memstream(&buf, &blen)))
        return err_set(err, ENOMEM, "DHCP leases");
    /* "EXPIRY MAC IP NAME CLIENTID" per line */
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char addr[CIDR_STR_LEN] = "";
        if (sscanf(l, "%*s %*s %18s", addr) == 1 && strcmp(addr, ip) == 0)
            continue;
        fprintf(f, "%s\n", l);
    }
    if (fclose(f) != 0)
        return err_set(err, ENOMEM, "DHCP leases");
    return dns_write(p, buf ? buf : "", blen, err);
}

int network_dns_dhcp_host(const char *run_root, const char *net_id, const char *owner_id,
                          const char *mac, const char *ip, const char *name, struct err **err)
{
    _cleanup_free_ char *dir = dns_path(run_root, net_id, "dhcp"), *p = NULL, *line = NULL;
    _cleanup_close_ int lock = dns_lock(run_root, err);

    if (lock < 0)
        return -1;
    if (!dir || asprintf(&p, "%s/%s", dir, owner_id) < 0)
        return err_set(err, ENOMEM, "DHCP lease of %s", owner_id);
    if (!mac) {
        /* dnsmasq keeps a lease (and its name) in memory until it ends: stop
         * it and drop the lease from its file; network_dns_sync() starts it
         * again for the remaining members */
        _cleanup_free_ char *old = NULL, *pidfile = dns_path(run_root, net_id, "dnsmasq.pid");
        size_t len = 0;
        char ip_[CIDR_STR_LEN] = "";
        if (fs_read_file(p, &old, &len, NULL) < 0)
            return 0;
        sscanf(old, "%*[^,],%18[^,]", ip_);
        if (pidfile)
            dns_server_stop(pidfile);
        if (unlink(p) < 0 && errno != ENOENT)
            return err_sys(err, "remove the DHCP lease `%s`", p);
        return dns_leases_drop(run_root, net_id, ip_, err);
    }
    if (asprintf(&line, "%s,%s,%s\n", mac, ip, name) < 0)
        return err_set(err, ENOMEM, "DHCP lease of %s", owner_id);
    if (fs_mkdir_p(dir, 0700, err) < 0)
        return -1;
    return dns_write(p, line, strlen(line), err);
}

int network_dns_sync(struct db *db, const char *run_root, const char *ref, struct err **err)
{
    _cleanup_close_ int lock = dns_lock(run_root, err);
    _cleanup_db_network_ struct db_network *n = NULL;
    _cleanup_err_ struct err *e = NULL;

    if (lock < 0)
        return -1;
    if (db_network_get(db, ref, &n, &e) < 0) {
        if (e->code != ENOENT) {
            *err = steal_ptr(&e);
            return -1;
        }
        return 0; /* its server, if any, is network_dns_gc()'s */
    }
    return dns_sync_locked(db, run_root, n, err);
}

int network_dns_sync_all(struct db *db, const char *run_root, struct err **err)
{
    struct db_network **v = NULL;
    size_t n = 0;
    int rc = 0;

    if (db_network_list(db, &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = network_dns_sync(db, run_root, v[i]->id, err);
    db_network_list_free(v, n);
    return rc;
}

int network_dns_gc(struct db *db, const char *run_root, struct err **err)
{
    _cleanup_free_ char *dir = dns_path(run_root, NULL, NULL);
    _cleanup_close_ int lock = -1;
    struct db_network **v = NULL;
    struct dirent *de;
    size_t n = 0;
    DIR *d;

    if (!dir)
        return err_set(err, ENOMEM, "DNS servers");
    if (!fs_exists(dir))
        return 0;
    if ((lock = dns_lock(run_root, err)) < 0)
        return -1;
    if (db_network_list(db, &v, &n, err) < 0)
        return -1;
    d = opendir(dir);
    while (d && (de = readdir(d))) {
        struct db_network *net = NULL;
        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
            continue;
        for (size_t i = 0; i < n && !net; i++)
            if (strcmp(v[i]->id, de->d_name) == 0)
                net = v[i];
        if (!net) {
            dns_dir_remove(run_root, de->d_name);
            continue;
        }
        _cleanup_err_ struct err *e = NULL;
        if (dns_sync_locked(db, run_root, net, &e) < 0)
            dns_dir_remove(run_root, de->d_name);
    }
    if (d)
        closedir(d);
    db_network_list_free(v, n);
    return 0;
}
