/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bridges, veth pairs and taps through libnl-route-3: see netlink.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net/net_dl.h"
#include "net/netlink.h"
#include "util/cleanup.h"
#include "util/fs.h"

static void nl_sock_freep(struct nl_sock **sk)
{
    if (*sk != NULL)
        sym_nl_socket_free(*sk);
    *sk = NULL;
}
#define _cleanup_nl_sock_ __attribute__((cleanup(nl_sock_freep)))

static void link_putp(struct rtnl_link **l)
{
    if (*l != NULL)
        sym_rtnl_link_put(*l);
    *l = NULL;
}
#define _cleanup_link_ __attribute__((cleanup(link_putp)))

static void addr_putp(struct rtnl_addr **a)
{
    if (*a != NULL)
        sym_rtnl_addr_put(*a);
    *a = NULL;
}

static void nladdr_putp(struct nl_addr **a)
{
    if (*a != NULL)
        sym_nl_addr_put(*a);
    *a = NULL;
}

static void route_putp(struct rtnl_route **r)
{
    if (*r != NULL)
        sym_rtnl_route_put(*r);
    *r = NULL;
}

static int nl_errno(int nlerr)
{
    switch (-nlerr) {
    case NLE_EXIST:
        return EEXIST;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
        return ENODEV;
    case NLE_PERM:
        return EPERM;
    case NLE_BUSY:
        return EBUSY;
    case NLE_NOMEM:
        return ENOMEM;
    case NLE_INVAL:
    case NLE_RANGE:
        return EINVAL;
    default:
        return EIO;
    }
}

static int nl_fail(struct err **err, int nlerr, const char *what, const char *name)
{
    return err_val(err, nl_errno(nlerr), "%s \"%s\": %s", what, name, sym_nl_geterror(nlerr));
}

static int sock_open(struct nl_sock **out, struct err **err)
{
    struct nl_sock *sk;
    int r;

    if (net_dl_load_nl(err) < 0)
        return -1;
    if ((sk = sym_nl_socket_alloc()) == NULL)
        return err_set(err, ENOMEM, "allocate a netlink socket");
    r = sym_nl_connect(sk, NETLINK_ROUTE);
    if (r < 0) {
        sym_nl_socket_free(sk);
        return err_val(err, nl_errno(r), "connect a netlink socket: %s", sym_nl_geterror(r));
    }
    /* libnl's sockets are not O_CLOEXEC */
    fcntl(sym_nl_socket_get_fd(sk), F_SETFD, FD_CLOEXEC);
    *out = sk;
    return 0;
}

/* A route socket inside the namespace of nsfd: a netlink socket stays in the
 * namespace it was created in, so enter it for the socket() call only. */
static int sock_open_in(int nsfd, struct nl_sock **out, struct err **err)
{
    _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int r;

    if (self < 0)
        return err_sys(err, "open /proc/thread-self/ns/net");
    if (setns(nsfd, CLONE_NEWNET) < 0)
        return err_sys(err, "enter the network namespace (setns)");
    r = sock_open(out, err);
    if (setns(self, CLONE_NEWNET) < 0) {
        if (r == 0) {
            sym_nl_socket_free(*out);
            *out = NULL;
        }
        return err_sys(err, "return to the original network namespace (setns)");
    }
    return r;
}

static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **out, struct err **err)
{
    int r = sym_rtnl_link_get_kernel(sk, 0, name, out);

    if (r < 0)
        return nl_fail(err, r, "look up link", name);
    return 0;
}

static int link_up(struct nl_sock *sk, struct rtnl_link *l, const char *name, struct err **err)
{
    _cleanup_link_ struct rtnl_link *change = sym_rtnl_link_alloc();
    int r;

    if (change == NULL)
        return err_set(err, ENOMEM, "set link \"%s\" up", name);
    sym_rtnl_link_set_flags(change, IFF_UP);
    r = sym_rtnl_link_change(sk, l, change, 0);
    if (r < 0)
        return nl_fail(err, r, "set up link", name);
    return 0;
}

static int link_set_master(struct nl_sock *sk, struct rtnl_link *l, const char *name,
                           const char *bridge, struct err **err)
{
    _cleanup_link_ struct rtnl_link *br = NULL, *change = NULL;
    int r;

    if (link_get(sk, bridge, &br, err) < 0)
        return -1;
    if ((change = sym_rtnl_link_alloc()) == NULL)
        return err_set(err, ENOMEM, "attach link \"%s\"", name);
    sym_rtnl_link_set_master(change, sym_rtnl_link_get_ifindex(br));
    sym_rtnl_link_set_flags(change, IFF_UP);
    r = sym_rtnl_link_change(sk, l, change, 0);
    if (r < 0)
        return err_val(err, nl_errno(r), "attach link \"%s\" to bridge \"%s\": %s", name, bridge,
                       sym_nl_geterror(r));
    return 0;
}

/* Hairpin on a bridge port: with br_netfilter, a container reaching its own
 * published port is DNATed back to the port the frame came in on. */
static int port_hairpin(struct nl_sock *sk, struct rtnl_link *l, const char *name, struct err **err)
{
    _cleanup_link_ struct rtnl_link *port = sym_rtnl_link_alloc(), *change = sym_rtnl_link_alloc();
    int r;

    if (port == NULL || change == NULL)
        return err_set(err, ENOMEM, "set hairpin mode on \"%s\"", name);
    /* an AF_BRIDGE RTM_SETLINK (IFLA_PROTINFO), as `bridge link set hairpin on` */
    sym_rtnl_link_set_ifindex(port, sym_rtnl_link_get_ifindex(l));
    sym_rtnl_link_set_family(port, AF_BRIDGE);
    sym_rtnl_link_set_family(change, AF_BRIDGE);
    sym_rtnl_link_bridge_set_flags(change, RTNL_BRIDGE_HAIRPIN_MODE);
    r = sym_rtnl_link_change(sk, port, change, 0);
    if (r < 0)
        return nl_fail(err, r, "set hairpin mode on bridge port", name);
    return 0;
}

static int addr_add(struct nl_sock *sk, int ifindex, const char *ifname, const struct cidr *c,
                    struct err **err)
{
    __attribute__((cleanup(addr_putp))) struct rtnl_addr *a = sym_rtnl_addr_alloc();
    __attribute__((cleanup(nladdr_putp))) struct nl_addr *local = NULL;
    char buf[CIDR_STR_LEN];
    int r;

    if (a == NULL)
        return err_set(err, ENOMEM, "add an address to \"%s\"", ifname);
    cidr_format(c, buf);
    r = sym_nl_addr_parse(buf, AF_INET, &local);
    if (r < 0)
        return err_val(err, EINVAL, "address %s: %s", buf, sym_nl_geterror(r));
    sym_rtnl_addr_set_ifindex(a, ifindex);
    sym_rtnl_addr_set_family(a, AF_INET);
    r = sym_rtnl_addr_set_local(a, local);
    if (r == 0)
        r = sym_rtnl_addr_add(sk, a, 0);
    if (r < 0)
        return err_val(err, nl_errno(r), "add address %s to \"%s\": %s", buf, ifname,
                       sym_nl_geterror(r));
    return 0;
}

static int default_route_add(struct nl_sock *sk, int ifindex, uint32_t gw, struct err **err)
{
    __attribute__((cleanup(route_putp))) struct rtnl_route *rt = sym_rtnl_route_alloc();
    __attribute__((cleanup(nladdr_putp))) struct nl_addr *dst = NULL, *via = NULL;
    struct rtnl_nexthop *nh;
    char buf[CIDR_STR_LEN];
    int r;

    if (rt == NULL || (nh = sym_rtnl_route_nh_alloc()) == NULL)
        return err_set(err, ENOMEM, "add the default route");
    cidr_addr_format(gw, buf);
    if ((r = sym_nl_addr_parse("0.0.0.0/0", AF_INET, &dst)) < 0 ||
        (r = sym_nl_addr_parse(buf, AF_INET, &via)) < 0) {
        sym_rtnl_route_nh_free(nh);
        return err_val(err, EINVAL, "default route via %s: %s", buf, sym_nl_geterror(r));
    }
    sym_rtnl_route_set_family(rt, AF_INET);
    sym_rtnl_route_set_dst(rt, dst);
    sym_rtnl_route_nh_set_gateway(nh, via);
    sym_rtnl_route_nh_set_ifindex(nh, ifindex);
    sym_rtnl_route_add_nexthop(rt, nh);
    r = sym_rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0)
        return err_val(err, nl_errno(r), "add the default route via %s: %s", buf,
                       sym_nl_geterror(r));
    return 0;
}

static int name_check(const char *name, struct err **err)
{
    if (name == NULL || !*name || strlen(name) > NETLINK_IFNAME_MAX || strchr(name, '/') ||
        strchr(name, ' '))
        return err_val(err, EINVAL, "invalid interface name \"%s\" (1-%d characters, no '/')",
                       name ? name : "", NETLINK_IFNAME_MAX);
    return 0;
}

int netlink_bridge_create(const char *name, const struct cidr *gw, struct err **err)
{
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    _cleanup_link_ struct rtnl_link *l = NULL, *got = NULL;
    int r;

    if (name_check(name, err) < 0 || sock_open(&sk, err) < 0)
        return -1;
    if ((l = sym_rtnl_link_alloc()) == NULL)
        return err_set(err, ENOMEM, "create bridge \"%s\"", name);
    sym_rtnl_link_set_name(l, name);
    if ((r = sym_rtnl_link_set_type(l, "bridge")) < 0)
        return nl_fail(err, r, "create bridge", name);
    r = sym_rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0)
        return nl_fail(err, r, "create bridge", name);
    if (link_get(sk, name, &got, err) < 0 ||
        addr_add(sk, sym_rtnl_link_get_ifindex(got), name, gw, err) < 0 ||
        link_up(sk, got, name, err) < 0)
        return err_wrap(err, "set up bridge \"%s\"", name);
    return 0;
}

int netlink_link_delete(const char *name, bool missing_ok, struct err **err)
{
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    _cleanup_link_ struct rtnl_link *l = NULL;
    int r;

    if (sock_open(&sk, err) < 0)
        return -1;
    if ((l = sym_rtnl_link_alloc()) == NULL)
        return err_set(err, ENOMEM, "delete link \"%s\"", name);
    sym_rtnl_link_set_name(l, name);
    r = sym_rtnl_link_delete(sk, l);
    if (r < 0 && missing_ok && (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV))
        return 0;
    if (r < 0)
        return nl_fail(err, r, "delete link", name);
    return 0;
}

int netlink_veth_create(const struct netlink_veth *v, struct err **err)
{
    _cleanup_nl_sock_ struct nl_sock *sk = NULL, *nsk = NULL;
    _cleanup_link_ struct rtnl_link *l = NULL, *peer = NULL, *host = NULL, *in = NULL, *lo = NULL;
    int r;

    if (name_check(v->host_name, err) < 0 || name_check(v->ns_name, err) < 0 ||
        sock_open(&sk, err) < 0)
        return -1;
    if ((l = sym_rtnl_link_veth_alloc()) == NULL)
        return err_set(err, ENOMEM, "create veth \"%s\"", v->host_name);
    sym_rtnl_link_set_name(l, v->host_name);
    peer = sym_rtnl_link_veth_get_peer(l);
    sym_rtnl_link_set_name(peer, v->ns_name);
    sym_rtnl_link_set_ns_fd(peer, v->netns_fd);
    r = sym_rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0)
        return nl_fail(err, r, "create veth", v->host_name);
    if (link_get(sk, v->host_name, &host, err) < 0 ||
        link_set_master(sk, host, v->host_name, v->bridge, err) < 0 ||
        port_hairpin(sk, host, v->host_name, err) < 0)
        goto undo;
    if (sock_open_in(v->netns_fd, &nsk, err) < 0 || link_get(nsk, v->ns_name, &in, err) < 0 ||
        addr_add(nsk, sym_rtnl_link_get_ifindex(in), v->ns_name, &v->addr, err) < 0 ||
        link_up(nsk, in, v->ns_name, err) < 0)
        goto undo;
    if (link_get(nsk, "lo", &lo, err) < 0 || link_up(nsk, lo, "lo", err) < 0)
        goto undo;
    if (v->gateway != 0 &&
        default_route_add(nsk, sym_rtnl_link_get_ifindex(in), v->gateway, err) < 0)
        goto undo;
    return 0;
undo:
    /* deleting one end deletes the pair */
    netlink_link_delete(v->host_name, true, NULL);
    return err_wrap(err, "set up veth \"%s\"", v->host_name);
}

int netlink_tap_create(const char *name, const char *bridge, bool vnet_hdr, int *fd,
                       struct err **err)
{
    _cleanup_close_ int tun = -1;
    _cleanup_nl_sock_ struct nl_sock *sk = NULL;
    _cleanup_link_ struct rtnl_link *l = NULL;
    struct ifreq ifr = {0};

    if (name_check(name, err) < 0)
        return -1;
    tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (tun < 0)
        return err_sys(err, "open /dev/net/tun");
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(tun, TUNSETIFF, &ifr) < 0)
        return err_sys(err, "create tap \"%s\" (TUNSETIFF)", name);
    if (sock_open(&sk, err) < 0 || link_get(sk, name, &l, err) < 0 ||
        link_set_master(sk, l, name, bridge, err) < 0)
        return err_wrap(err, "set up tap \"%s\"", name);
    *fd = steal_fd(&tun);
    return 0;
}

int netlink_sysctl_ipv4(const char *ifname, const char *key, const char *value, struct err **err)
{
    _cleanup_free_ char *path = NULL;
    _cleanup_close_ int fd = -1;
    size_t n = strlen(value);

    if (ifname != NULL && name_check(ifname, err) < 0)
        return -1;
    if ((ifname ? asprintf(&path, "/proc/sys/net/ipv4/conf/%s/%s", ifname, key)
                : asprintf(&path, "/proc/sys/net/ipv4/%s", key)) < 0)
        return err_set(err, ENOMEM, "sysctl %s", key);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "open %s", path);
    if (write(fd, value, n) != (ssize_t)n)
        return err_sys(err, "write \"%s\" to %s", value, path);
    return 0;
}

int netlink_routes_ipv4(struct cidr **out, size_t *n, struct err **err)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
    struct cidr *v = NULL;
    size_t k = 0;
    char line[256];

    if (f == NULL)
        return err_sys(err, "open /proc/net/route");
    while (fgets(line, sizeof(line), f) != NULL) {
        char ifname[32];
        unsigned dst, gw, flags, refcnt, use, metric, mask;
        if (sscanf(line, "%31s %x %x %x %u %u %u %x", ifname, &dst, &gw, &flags, &refcnt, &use,
                   &metric, &mask) != 8 ||
            mask == 0)
            continue; /* the header, the default route */
        struct cidr *nv = realloc(v, (k + 1) * sizeof(*v));
        if (nv == NULL) {
            free(v);
            return err_set(err, ENOMEM, "read /proc/net/route");
        }
        v = nv;
        /* the file prints addresses in host order of the network-order value */
        v[k].addr = ntohl(dst);
        v[k].prefix = (unsigned)__builtin_popcount(mask);
        k++;
    }
    *out = v;
    *n = k;
    return 0;
}
