/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPv4 subnets and IPAM arithmetic: see cidr.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/cidr.h"

int cidr_addr_parse(const char *s, uint32_t *out, struct err **err)
{
    uint32_t a = 0;
    const char *p = s;

    for (int i = 0; i < 4; i++) {
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255 || (i < 3 && *p++ != '.'))
            return err_val(err, EINVAL, "invalid IPv4 address \"%s\"", s);
        a = a << 8 | v;
    }
    if (*p != '\0')
        return err_val(err, EINVAL, "invalid IPv4 address \"%s\"", s);
    *out = a;
    return 0;
}

int cidr_parse(const char *s, bool strict, struct cidr *out, struct err **err)
{
    const char *slash = strchr(s, '/');
    char addr[16];
    char *end = NULL;
    long prefix;

    if (slash == NULL || (size_t)(slash - s) >= sizeof(addr) || slash[1] == '\0')
        return err_val(err, EINVAL, "invalid CIDR \"%s\": expected A.B.C.D/N", s);
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    if (slash[1] < '0' || slash[1] > '9')
        return err_val(err, EINVAL, "invalid CIDR \"%s\": bad prefix length", s);
    prefix = strtol(slash + 1, &end, 10);
    if (*end != '\0' || prefix < 0 || prefix > 32)
        return err_val(err, EINVAL, "invalid CIDR \"%s\": prefix length must be 0-32", s);
    if (cidr_addr_parse(addr, &out->addr, err) < 0)
        return err_wrap(err, "invalid CIDR \"%s\"", s);
    out->prefix = (unsigned)prefix;
    if (strict && (out->addr & ~cidr_mask(out->prefix)) != 0) {
        char buf[CIDR_STR_LEN];
        struct cidr net = {cidr_network(out), out->prefix};
        return err_val(err, EINVAL, "invalid subnet \"%s\": host bits set (the subnet is %s)", s,
                       cidr_format(&net, buf));
    }
    return 0;
}

const char *cidr_addr_format(uint32_t a, char buf[CIDR_STR_LEN])
{
    snprintf(buf, CIDR_STR_LEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return buf;
}

const char *cidr_format(const struct cidr *c, char buf[CIDR_STR_LEN])
{
    uint32_t a = c->addr;

    snprintf(buf, CIDR_STR_LEN, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
             c->prefix);
    return buf;
}

uint32_t cidr_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : ~(uint32_t)0 << (32 - prefix);
}

uint32_t cidr_network(const struct cidr *c)
{
    return c->addr & cidr_mask(c->prefix);
}

uint32_t cidr_broadcast(const struct cidr *c)
{
    return c->addr | ~cidr_mask(c->prefix);
}

bool cidr_contains(const struct cidr *c, uint32_t addr)
{
    return (addr & cidr_mask(c->prefix)) == cidr_network(c);
}

bool cidr_within(const struct cidr *a, const struct cidr *b)
{
    return a->prefix >= b->prefix && cidr_contains(b, a->addr);
}

bool cidr_overlap(const struct cidr *a, const struct cidr *b)
{
    return cidr_within(a, b) || cidr_within(b, a);
}

bool cidr_pool_nth(size_t i, struct cidr *out)
{
    if (i < 15) {
        out->addr = (172u << 24) | ((17u + (uint32_t)i) << 16);
        out->prefix = 16;
        return true;
    }
    i -= 15;
    if (i < 16) {
        out->addr = (192u << 24) | (168u << 16) | ((uint32_t)i << 12);
        out->prefix = 20;
        return true;
    }
    return false;
}

int cidr_pool_pick(const struct cidr *used, size_t n, struct cidr *out, struct err **err)
{
    struct cidr c;

    for (size_t i = 0; cidr_pool_nth(i, &c); i++) {
        bool free = true;
        for (size_t j = 0; j < n && free; j++)
            free = !cidr_overlap(&c, &used[j]);
        if (free) {
            *out = c;
            return 0;
        }
    }
    return err_val(err, ENOSPC,
                   "no free subnet in the default pool (172.17-31.0.0/16, 192.168.0-240.0/20): "
                   "give one with --subnet");
}

int cidr_addr_pick(const struct cidr *subnet, const struct cidr *range, uint32_t gateway,
                   bool (*taken)(uint32_t addr, void *ctx), void *ctx, uint32_t *out,
                   struct err **err)
{
    uint32_t lo = cidr_network(range), hi = cidr_broadcast(range);
    char buf[CIDR_STR_LEN];

    if (subnet->prefix < 31) {
        if (lo == cidr_network(subnet))
            lo++;
        if (hi == cidr_broadcast(subnet))
            hi--;
    }
    for (uint64_t a = lo; a <= hi; a++) {
        if ((uint32_t)a == gateway || !cidr_contains(subnet, (uint32_t)a))
            continue;
        if (taken == NULL || !taken((uint32_t)a, ctx)) {
            *out = (uint32_t)a;
            return 0;
        }
    }
    return err_val(err, ENOSPC, "no free address left in %s", cidr_format(range, buf));
}
