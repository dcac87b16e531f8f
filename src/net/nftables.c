/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola's own nftables table through libnftables: see nftables.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_dl.h"
#include "net/nftables.h"
#include "util/cleanup.h"

#define T NFTABLES_FAMILY " " NFTABLES_TABLE

/*
 * Base chains hold only fixed rules; what changes lives in maps (published
 * ports) and per-network chains reached through verdict maps keyed by the
 * bridge, so nothing is ever deleted by rule handle and every change is an
 * add or delete of an element. Flushing and refilling the base chains makes
 * setup idempotent across concurrent CLIs.
 */
static const char setup_script[] =
    "add table " T "\n"
    "add map " T " ports { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
    "add map " T " ports_ip { type ipv4_addr . inet_proto . inet_service : "
    "ipv4_addr . inet_service; }\n"
    "add map " T " nets_post { type ifname : verdict; }\n"
    "add map " T " nets_hairpin { type ifname : verdict; }\n"
    "add map " T " nets_fwd_in { type ifname : verdict; }\n"
    "add map " T " nets_fwd_out { type ifname : verdict; }\n"
    "add chain " T " ports_dnat\n"
    "add chain " T " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
    "add chain " T " output { type nat hook output priority -100; policy accept; }\n"
    "add chain " T " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
    "add chain " T " forward { type filter hook forward priority filter; policy accept; }\n"
    "flush chain " T " ports_dnat\n"
    "flush chain " T " prerouting\n"
    "flush chain " T " output\n"
    "flush chain " T " postrouting\n"
    "flush chain " T " forward\n"
    "add rule " T " ports_dnat meta l4proto { tcp, udp } "
    "dnat ip addr . port to ip daddr . meta l4proto . th dport map @ports_ip\n"
    "add rule " T " ports_dnat meta l4proto { tcp, udp } "
    "dnat ip addr . port to meta l4proto . th dport map @ports\n"
    "add rule " T " prerouting fib daddr type local jump ports_dnat\n"
    "add rule " T " output fib daddr type local jump ports_dnat\n"
    /* 127.0.0.1:PORT -> a container: the bridge has route_localnet, and the
     * reply must come back to an address the container can reach */
    "add rule " T " postrouting ip saddr 127.0.0.0/8 oifname \"isola*\" masquerade\n"
    "add rule " T " postrouting iifname vmap @nets_post\n"
    /* by the output bridge: with br_netfilter, a DNATed packet between two
     * ports of one bridge is bridged and has no input interface here */
    "add rule " T " postrouting ct status dnat oifname vmap @nets_hairpin\n"
    "add rule " T " forward iifname vmap @nets_fwd_in\n"
    "add rule " T " forward oifname vmap @nets_fwd_out\n";

static void nft_ctx_freep(struct nft_ctx **c)
{
    if (*c != NULL)
        sym_nft_ctx_free(*c);
    *c = NULL;
}

int nftables_run(const char *script, char **out, struct err **err)
{
    __attribute__((cleanup(nft_ctx_freep))) struct nft_ctx *ctx = NULL;
    const char *msg;
    int r;

    if (net_dl_load_nft(err) < 0)
        return -1;
    if ((ctx = sym_nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
        return err_set(err, ENOMEM, "nftables: create a context");
    if (sym_nft_ctx_buffer_output(ctx) < 0 || sym_nft_ctx_buffer_error(ctx) < 0)
        return err_set(err, ENOMEM, "nftables: buffer output");
    r = sym_nft_run_cmd_from_buffer(ctx, script);
    if (r != 0) {
        msg = sym_nft_ctx_get_error_buffer(ctx);
        _cleanup_free_ char *m = strdup(msg && *msg ? msg : "failed");
        size_t n = m ? strlen(m) : 0;
        while (n > 0 && m[n - 1] == '\n')
            m[--n] = '\0';
        return err_val(err, strstr(m ? m : "", "No such file") ? ENOENT : EIO,
                       "nftables: table " T ": %s", m ? m : "failed");
    }
    if (out != NULL) {
        msg = sym_nft_ctx_get_output_buffer(ctx);
        if ((*out = strdup(msg ? msg : "")) == NULL)
            return err_set(err, ENOMEM, "nftables: output");
    }
    return 0;
}

int nftables_setup(struct err **err)
{
    return nftables_run(setup_script, NULL, err);
}

/* Names go into nft scripts: only characters that need no quoting. */
static int ifname_check(const char *s, struct err **err)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 15 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_.-") != n)
        return err_val(err, EINVAL, "nftables: invalid bridge name \"%s\"", s ? s : "");
    return 0;
}

/* Delete a network's chains and elements, created first so that deleting
 * what does not exist cannot fail the transaction. */
static int remove_script(FILE *f, const char *br)
{
    static const char *const kinds[] = {"post", "hairpin", "fwd_in", "fwd_out"};

    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        fprintf(f, "add chain " T " %s-%s\n", kinds[i], br);
        fprintf(f, "add element " T " nets_%s { \"%s\" : jump %s-%s }\n", kinds[i], br, kinds[i],
                br);
        fprintf(f, "delete element " T " nets_%s { \"%s\" }\n", kinds[i], br);
        fprintf(f, "flush chain " T " %s-%s\n", kinds[i], br);
        fprintf(f, "delete chain " T " %s-%s\n", kinds[i], br);
    }
    return ferror(f) ? -1 : 0;
}

/* *buf is set by fclose(f) (open_memstream) */
static int run_stream(char **buf, FILE *f, const char *what, const char *br, struct err **err)
{
    if (f == NULL || fclose(f) != 0 || *buf == NULL) {
        free(*buf);
        return err_set(err, ENOMEM, "nftables: %s \"%s\"", what, br);
    }
    int r = nftables_run(*buf, NULL, err);
    free(*buf);
    if (r < 0)
        return err_wrap(err, "%s \"%s\"", what, br);
    return 0;
}

int nftables_network_add(const char *br, const struct cidr *subnet, bool internal, struct err **err)
{
    char *buf = NULL;
    size_t len = 0;
    char sn[CIDR_STR_LEN];
    FILE *f;

    if (ifname_check(br, err) < 0)
        return -1;
    cidr_format(subnet, sn);
    f = open_memstream(&buf, &len);
    if (f != NULL) {
        fputs(setup_script, f);
        remove_script(f, br);
        fprintf(f, "add chain " T " post-%s\n", br);
        fprintf(f, "add chain " T " hairpin-%s\n", br);
        fprintf(f, "add chain " T " fwd_in-%s\n", br);
        fprintf(f, "add chain " T " fwd_out-%s\n", br);
        if (internal) {
            /* nothing leaves the bridge for, or enters it from, elsewhere */
            fprintf(f, "add rule " T " fwd_in-%s oifname != \"%s\" drop\n", br, br);
            fprintf(f, "add rule " T " fwd_out-%s iifname != \"%s\" drop\n", br, br);
        } else {
            fprintf(f, "add rule " T " post-%s oifname != \"%s\" ip saddr %s masquerade\n", br, br,
                    sn);
            /* hairpin: a container reaching a published port of its own bridge */
            fprintf(f, "add rule " T " hairpin-%s ip saddr %s masquerade\n", br, sn);
            fprintf(f, "add rule " T " fwd_in-%s accept\n", br);
            fprintf(f, "add rule " T " fwd_out-%s ct state established,related accept\n", br);
            fprintf(f, "add rule " T " fwd_out-%s ct status dnat accept\n", br);
            fprintf(f, "add rule " T " fwd_out-%s iifname \"%s\" accept\n", br, br);
            fprintf(f, "add rule " T " fwd_out-%s drop\n", br);
        }
        fprintf(f, "add element " T " nets_post { \"%s\" : jump post-%s }\n", br, br);
        fprintf(f, "add element " T " nets_hairpin { \"%s\" : jump hairpin-%s }\n", br, br);
        fprintf(f, "add element " T " nets_fwd_in { \"%s\" : jump fwd_in-%s }\n", br, br);
        fprintf(f, "add element " T " nets_fwd_out { \"%s\" : jump fwd_out-%s }\n", br, br);
    }
    return run_stream(&buf, f, "add the rules of network bridge", br, err);
}

int nftables_network_remove(const char *br, struct err **err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    if (ifname_check(br, err) < 0)
        return -1;
    f = open_memstream(&buf, &len);
    if (f != NULL) {
        fputs(setup_script, f);
        remove_script(f, br);
    }
    return run_stream(&buf, f, "remove the rules of network bridge", br, err);
}

static int port_script(const struct nftables_port *p, bool add, char **script, struct err **err)
{
    char hip[CIDR_STR_LEN], cip[CIDR_STR_LEN];
    int r;

    if (strcmp(p->proto, "tcp") != 0 && strcmp(p->proto, "udp") != 0)
        return err_val(err, EINVAL, "published port: protocol \"%s\": expected tcp or udp",
                       p->proto);
    cidr_addr_format(p->host_ip, hip);
    cidr_addr_format(p->ctr_ip, cip);
    if (p->host_ip == 0)
        r = add ? asprintf(script, "add element " T " ports { %s . %u : %s . %u }\n", p->proto,
                           p->host_port, cip, p->ctr_port)
                : asprintf(script, "delete element " T " ports { %s . %u }\n", p->proto,
                           p->host_port);
    else
        r = add ? asprintf(script, "add element " T " ports_ip { %s . %s . %u : %s . %u }\n", hip,
                           p->proto, p->host_port, cip, p->ctr_port)
                : asprintf(script, "delete element " T " ports_ip { %s . %s . %u }\n", hip,
                           p->proto, p->host_port);
    if (r < 0)
        return err_set(err, ENOMEM, "published port");
    return 0;
}

int nftables_port_add(const struct nftables_port *p, struct err **err)
{
    _cleanup_free_ char *s = NULL, *all = NULL;
    char hip[CIDR_STR_LEN];

    if (port_script(p, true, &s, err) < 0)
        return -1;
    if (asprintf(&all, "%s%s", setup_script, s) < 0)
        return err_set(err, ENOMEM, "published port");
    if (nftables_run(all, NULL, err) < 0)
        return err_wrap(err, "publish %s:%u/%s", cidr_addr_format(p->host_ip, hip), p->host_port,
                        p->proto);
    return 0;
}

int nftables_port_remove(const struct nftables_port *p, struct err **err)
{
    _cleanup_free_ char *s = NULL;
    char hip[CIDR_STR_LEN];

    if (port_script(p, false, &s, err) < 0)
        return -1;
    if (nftables_run(s, NULL, err) < 0)
        return err_wrap(err, "unpublish %s:%u/%s", cidr_addr_format(p->host_ip, hip), p->host_port,
                        p->proto);
    return 0;
}
