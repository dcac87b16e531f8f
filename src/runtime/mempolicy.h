/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.memoryPolicy (runtime-spec config-linux.md "Memory policy"): the NUMA
 * policy of the container process, set with set_mempolicy(2) before execve
 * (kept across execve and inherited by children). */
#ifndef ISOLA_RUNTIME_MEMPOLICY_H
#define ISOLA_RUNTIME_MEMPOLICY_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

#define MEMPOLICY_MAX_NODES 1024

struct spec_mempolicy {
    bool set;
    int mode;       /* MPOL_* */
    unsigned flags; /* MPOL_F_* */
    bool has_nodes;
    unsigned long nodes[MEMPOLICY_MAX_NODES / (8 * sizeof(unsigned long))];
};

/* Check and parse linux.memoryPolicy {mode, nodes: "0-3,7", flags: [...]}. */
int mempolicy_parse(json_t *o, struct spec_mempolicy *out, struct err **err);
/* features.md linux.memoryPolicy: {"modes": [...], "flags": [...]} (new reference). */
json_t *mempolicy_features(void);
/* set_mempolicy(2) of the calling process; an error says what the kernel
 * refused (no NUMA support, nodes that are not online). */
int mempolicy_apply(const struct spec_mempolicy *m, struct err **err);

#endif
