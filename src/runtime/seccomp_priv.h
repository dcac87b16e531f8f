/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals shared by seccomp.c and seccomp_cache.c (not for other modules). */
#ifndef ISOLA_RUNTIME_SECCOMP_PRIV_H
#define ISOLA_RUNTIME_SECCOMP_PRIV_H

#include <linux/filter.h>
#include <stdint.h>

#include "runtime/seccomp.h"

struct seccomp_filter {
    struct sock_filter *prog; /* the finished classic BPF program */
    size_t len;               /* instructions */
    uint32_t flags;           /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
    bool notify;              /* a rule uses SCMP_ACT_NOTIFY */
    char *listener_path, *listener_metadata;
};

static inline void seccomp_filter_freep(struct seccomp_filter **f)
{
    seccomp_filter_free(*f);
    *f = NULL;
}

/* Top-level fields except architectures and syscalls: default action, flags,
 * listener path and metadata (into f). */
int seccomp_parse_top(json_t *seccomp, struct seccomp_filter *f, uint32_t *default_act,
                      struct err **err);

#endif
