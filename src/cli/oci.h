/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci: the runc-compatible front end. Each verb is an oci_VERB.c file. */
#ifndef ISOLA_CLI_OCI_H
#define ISOLA_CLI_OCI_H

#include <getopt.h>
#include <stdbool.h>

#include "runtime/cgroup.h"
#include "util/err.h"

struct oci_global {
    const char *root;
    enum cgroup_manager cgroup_manager;
    bool debug;
};

struct oci_command {
    const char *name;
    int (*fn)(struct oci_global *g, int argc, char **argv);
    const char *summary;
};

/* Print (stderr and the --log file) and return the exit status 1. */
int oci_fail(struct err *e);
/* "isola-oci VERB: ..." usage error; returns 2... runc uses 1. */
int oci_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `isola-oci VERB --help`: print the verb's usage and options; returns 0. */
int oci_help(const char *verb);
/* crun's --regex: call fn for every container whose id matches pattern (POSIX
 * extended, unanchored); prints each failure and goes on, as crun; returns the
 * exit status (1 only for a bad pattern or an unreadable state root). */
int oci_for_each_match(struct oci_global *g, const char *verb, const char *pattern,
                       int (*fn)(struct oci_global *g, const char *id, void *data,
                                 struct err **err),
                       void *data);
/* Exactly one positional argument (the container id) after getopt. */
const char *oci_id_arg(const char *verb, int argc, char **argv);

int oci_create(struct oci_global *g, int argc, char **argv);
int oci_run(struct oci_global *g, int argc, char **argv);
int oci_start(struct oci_global *g, int argc, char **argv);
int oci_state(struct oci_global *g, int argc, char **argv);
int oci_kill(struct oci_global *g, int argc, char **argv);
int oci_delete(struct oci_global *g, int argc, char **argv);
int oci_list(struct oci_global *g, int argc, char **argv);
int oci_ps(struct oci_global *g, int argc, char **argv);
int oci_exec(struct oci_global *g, int argc, char **argv);
int oci_pause(struct oci_global *g, int argc, char **argv);
int oci_resume(struct oci_global *g, int argc, char **argv);
int oci_update(struct oci_global *g, int argc, char **argv);
int oci_spec(struct oci_global *g, int argc, char **argv);
int oci_features(struct oci_global *g, int argc, char **argv);

#endif
