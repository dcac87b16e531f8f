/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.memoryPolicy (see mempolicy.h). */
#include "runtime/mempolicy.h"

#include <errno.h>
#include <linux/mempolicy.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

/* Linux 6.9 (uapi linux/mempolicy.h); Debian 12's header stops at
 * MPOL_PREFERRED_MANY. */
#define MPOL_WEIGHTED_INTERLEAVE_ 6

static const struct {
    const char *name;
    int mode;
} modes[] = {
    {"MPOL_DEFAULT", MPOL_DEFAULT},
    {"MPOL_PREFERRED", MPOL_PREFERRED},
    {"MPOL_BIND", MPOL_BIND},
    {"MPOL_INTERLEAVE", MPOL_INTERLEAVE},
    {"MPOL_LOCAL", MPOL_LOCAL},
    {"MPOL_PREFERRED_MANY", MPOL_PREFERRED_MANY},
    {"MPOL_WEIGHTED_INTERLEAVE", MPOL_WEIGHTED_INTERLEAVE_},
};

static const struct {
    const char *name;
    unsigned flag;
} flags[] = {
    {"MPOL_F_NUMA_BALANCING", MPOL_F_NUMA_BALANCING},
    {"MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES},
    {"MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES},
};

json_t *mempolicy_features(void)
{
    json_t *m = json_array(), *f = json_array();

    for (size_t i = 0; m && i < sizeof(modes) / sizeof(modes[0]); i++)
        json_array_append_new(m, json_string(modes[i].name));
    for (size_t i = 0; f && i < sizeof(flags) / sizeof(flags[0]); i++)
        json_array_append_new(f, json_string(flags[i].name));
    return json_pack("{s:o*, s:o*}", "modes", m, "flags", f);
}

static const char *mode_name(int mode)
{
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (modes[i].mode == mode)
            return modes[i].name;
    return "?";
}

/* "0-3,7" (cpuset list format) into a node mask. */
static int parse_nodes(const char *s, unsigned long *mask, struct err **err)
{
    const size_t bits = 8 * sizeof(unsigned long);
    const char *p = s;

    while (*p) {
        char *end;
        unsigned long lo, hi;
        if (*p < '0' || *p > '9')
            goto bad;
        lo = hi = strtoul(p, &end, 10);
        p = end;
        if (*p == '-') {
            if (p[1] < '0' || p[1] > '9')
                goto bad;
            hi = strtoul(p + 1, &end, 10);
            p = end;
        }
        if (lo > hi)
            goto bad;
        if (hi >= MEMPOLICY_MAX_NODES)
            return err_val(err, EINVAL, "linux.memoryPolicy.nodes: node %lu is above %d", hi,
                           MEMPOLICY_MAX_NODES - 1);
        for (unsigned long n = lo; n <= hi; n++)
            mask[n / bits] |= 1UL << (n % bits);
        if (*p == ',' && p[1] != '\0')
            p++;
        else if (*p != '\0')
            goto bad;
    }
    return 0;
bad:
    return err_val(err, EINVAL,
                   "linux.memoryPolicy.nodes: `%s` is not a node list (such as \"0-3,7\")", s);
}

int mempolicy_parse(json_t *o, struct spec_mempolicy *out, struct err **err)
{
    static const char *const keys[] = {"mode", "nodes", "flags", NULL};
    const char *w = "linux.memoryPolicy", *mode = NULL, *nodes = NULL;
    json_t *fl = NULL, *f;
    size_t i, k;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(o))
        return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(o));
    if (js_check_keys(o, w, keys, err) < 0 || js_get_str(o, w, "mode", true, &mode, err) < 0 ||
        js_get_str(o, w, "nodes", false, &nodes, err) < 0 ||
        js_get_arr(o, w, "flags", false, &fl, err) < 0)
        return -1;
    for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
        if (strcmp(mode, modes[k].name) == 0)
            break;
    if (k == sizeof(modes) / sizeof(modes[0]))
        return err_val(err, EINVAL, "%s.mode: unknown mode `%s`", w, mode);
    out->mode = modes[k].mode;
    json_array_foreach (fl, i, f) {
        size_t q;
        for (q = 0; q < sizeof(flags) / sizeof(flags[0]); q++)
            if (json_is_string(f) && strcmp(json_string_value(f), flags[q].name) == 0)
                break;
        if (q == sizeof(flags) / sizeof(flags[0]))
            return err_val(err, EINVAL, "%s.flags[%zu]: unknown flag", w, i);
        out->flags |= flags[q].flag;
    }
    if (nodes != NULL && nodes[0] != '\0') {
        if (parse_nodes(nodes, out->nodes, err) < 0)
            return -1;
        out->has_nodes = true;
    }
    /* set_mempolicy(2): DEFAULT and LOCAL take no nodes, PREFERRED may have
     * none (local allocation), every other mode needs some */
    if (out->has_nodes && (out->mode == MPOL_DEFAULT || out->mode == MPOL_LOCAL))
        return err_val(err, EINVAL, "%s.nodes: %s takes no nodes", w, mode);
    if (!out->has_nodes && out->mode != MPOL_DEFAULT && out->mode != MPOL_LOCAL &&
        out->mode != MPOL_PREFERRED)
        return err_val(err, EINVAL, "%s.nodes: %s needs nodes", w, mode);
    if (out->flags && (out->mode == MPOL_DEFAULT || out->mode == MPOL_LOCAL))
        return err_val(err, EINVAL, "%s.flags: %s takes no flags", w, mode);
    if ((out->flags & MPOL_F_STATIC_NODES) && (out->flags & MPOL_F_RELATIVE_NODES))
        return err_val(err, EINVAL,
                       "%s.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
                       w);
    out->set = true;
    return 0;
}

int mempolicy_apply(const struct spec_mempolicy *m, struct err **err)
{
    if (!m->set)
        return 0;
    if (syscall(SYS_set_mempolicy, m->mode | (int)m->flags, m->has_nodes ? m->nodes : NULL,
                m->has_nodes ? (unsigned long)MEMPOLICY_MAX_NODES + 1 : 0UL) == 0)
        return 0;
    int e = errno;
    if (e == ENOSYS)
        return err_set(err, e, "linux.memoryPolicy: this kernel has no NUMA support");
    if (e == EINVAL) {
        _cleanup_free_ char *online = NULL;
        size_t len = 0;
        struct err *ignored = NULL;
        if (fs_read_file("/sys/devices/system/node/online", &online, &len, &ignored) < 0) {
            err_free(&ignored);
            online = NULL;
        } else {
            online[strcspn(online, "\n")] = '\0';
        }
        return err_set(err, e,
                       "linux.memoryPolicy: set_mempolicy %s (the kernel refused the mode, flags "
                       "or nodes; the online nodes are %s)",
                       mode_name(m->mode), online ? online : "unknown");
    }
    return err_set(err, e, "linux.memoryPolicy: set_mempolicy %s", mode_name(m->mode));
}
