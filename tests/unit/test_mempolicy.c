/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.memoryPolicy parsing: modes, node lists, flags (runtime/mempolicy.c). */
#include <linux/mempolicy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/mempolicy.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/js.h"

static char *parse(const char *text, struct spec_mempolicy *m)
{
    _cleanup_json_ json_t *j = json_loads(text, 0, NULL);
    struct err *e = NULL;
    char *msg = NULL;

    if (j == NULL)
        return strdup("bad JSON in the test");
    if (mempolicy_parse(j, m, &e) < 0) {
        msg = strdup(e->msg);
        err_free(&e);
    }
    return msg;
}

static bool node(const struct spec_mempolicy *m, unsigned n)
{
    const unsigned bits = 8 * sizeof(unsigned long);
    return (m->nodes[n / bits] >> (n % bits)) & 1;
}

#define expect_err(text, want)                               \
    do {                                                     \
        struct spec_mempolicy m_;                            \
        char *msg_ = parse(text, &m_);                       \
        ok(msg_ &&strstr(msg_, want), "%s: %s", text, want); \
        if (msg_ && !strstr(msg_, want))                     \
            printf("#   got: %s\n", msg_);                   \
        free(msg_);                                          \
    } while (0)

int main(void)
{
    struct spec_mempolicy m;
    char *msg;

    msg = parse("{\"mode\": \"MPOL_INTERLEAVE\", \"nodes\": \"0-3,7,1023\"}", &m);
    ok(msg == NULL, "a node list parses");
    free(msg);
    ok(m.set && m.mode == MPOL_INTERLEAVE && m.has_nodes && m.flags == 0, "mode, no flags");
    ok(node(&m, 0) && node(&m, 3) && !node(&m, 4) && node(&m, 7) && !node(&m, 8) && node(&m, 1023),
       "nodes 0-3, 7 and 1023 set, 4 and 8 not");

    msg = parse("{\"mode\": \"MPOL_BIND\", \"nodes\": \"1\", \"flags\": "
                "[\"MPOL_F_STATIC_NODES\", \"MPOL_F_NUMA_BALANCING\"]}",
                &m);
    ok(msg == NULL && m.flags == (MPOL_F_STATIC_NODES | MPOL_F_NUMA_BALANCING), "flags");
    free(msg);

    msg = parse("{\"mode\": \"MPOL_PREFERRED\"}", &m);
    ok(msg == NULL && !m.has_nodes, "MPOL_PREFERRED without nodes (local allocation)");
    free(msg);
    msg = parse("{\"mode\": \"MPOL_DEFAULT\", \"nodes\": \"\"}", &m);
    ok(msg == NULL && !m.has_nodes, "an empty node list is none");
    free(msg);

    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": \"1024\"}", "node 1024 is above 1023");
    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": \"3-1\"}", "is not a node list");
    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": \"0,,1\"}", "is not a node list");
    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": \"0,\"}", "is not a node list");
    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": \"-1\"}", "is not a node list");
    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": \"x\"}", "is not a node list");
    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": \"99999999999999999999999\"}",
               "is above 1023");
    expect_err("{\"mode\": \"MPOL_BIND\"}", "MPOL_BIND needs nodes");
    expect_err("{\"mode\": \"MPOL_LOCAL\", \"nodes\": \"0\"}", "MPOL_LOCAL takes no nodes");
    expect_err("{\"mode\": \"MPOL_DEFAULT\", \"flags\": [\"MPOL_F_STATIC_NODES\"]}",
               "MPOL_DEFAULT takes no flags");
    expect_err("{\"mode\": \"MPOL_X\", \"nodes\": \"0\"}", "linux.memoryPolicy.mode: unknown mode");
    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": \"0\", \"flags\": [\"NOPE\"]}",
               "linux.memoryPolicy.flags[0]: unknown flag");
    expect_err("{\"mode\": \"MPOL_BIND\", \"nodes\": 0}", "linux.memoryPolicy.nodes");
    /* runtime-spec: unknown properties are ignored (js_check_keys). */
    msg = parse("{\"mode\": \"MPOL_BIND\", \"nodes\": \"0\", \"extra\": 1}", &m);
    ok(msg == NULL && m.mode == MPOL_BIND && node(&m, 0), "an unknown property is ignored");
    free(msg);
    expect_err("[]", "linux.memoryPolicy: expected an object");
    return done_testing();
}
