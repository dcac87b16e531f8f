/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the cgroup module (cgroup.c, cgroup_res.c, cgroup_bpf.c). */
#ifndef ISOLA_RUNTIME_CGROUP_PRIV_H
#define ISOLA_RUNTIME_CGROUP_PRIV_H

#include "runtime/cgroup.h"

#define CG_MAX_HIER 16

/* One v1 hierarchy: its controllers ("cpu,cpuacct", "name=systemd") and the
 * container's directory in it. */
struct cg_hier {
    char *ctrls;
    char *dir;
};

struct cgroup {
    enum cgroup_manager mgr;
    enum cgroup_layout layout;
    const struct cgroup_ops *ops;
    char *path;   /* the container's cgroup path as resolved ("/isola/id") */
    char *v2_dir; /* directory in the v2 tree (v2, hybrid), else NULL */
    struct cg_hier v1[CG_MAX_HIER];
    size_t n_v1;
    int created; /* trailing path components this runtime created (removed on destroy) */
};

/* The driver table: one per layout (crun's cgroup manager, STYLE.md "tables"). */
struct cgroup_ops {
    const char *name;
    /* mkdir the directories (cg->v1[], cg->v2_dir already computed). */
    int (*mkdirs)(struct cgroup *cg, struct err **err);
    int (*enter)(struct cgroup *cg, pid_t pid, struct err **err);
    int (*freeze)(struct cgroup *cg, bool frozen, struct err **err);
    const char *(*freezer_state)(struct cgroup *cg);
    /* Directory whose cgroup.procs (recursively) lists the container's processes. */
    const char *(*procs_dir)(struct cgroup *cg);
    int (*kill)(struct cgroup *cg, int sig, struct err **err);
    int (*rmdirs)(struct cgroup *cg, struct err **err);
};

/* cgroup_driver.c: the driver of a layout (NULL for CGROUP_LAYOUT_NONE). */
const struct cgroup_ops *cgroup_driver_ops(enum cgroup_layout l);

/* cgroup.c helpers shared with the drivers. */
const char *cgroup_v1_dir(const struct cgroup *cg, const char *ctrl);
bool cgroup_list_has(const char *list, const char *item); /* comma-separated */
char *cgroup_read_small(const char *path);                /* NULL on any error */
void cgroup_sleep_ms(long ms);

/* Where a controller lives for this cgroup: 0 absent, 1 a v1 hierarchy, 2 the v2 tree. */
int cgroup_ctrl_version(struct cgroup *cg, const char *ctrl);
/* Write `value` to `file` of controller `ctrl` (file name includes the
 * controller prefix, "memory.max"); `field` names the OCI field for errors. */
int cgroup_write(struct cgroup *cg, const char *ctrl, const char *file, const char *value,
                 const char *field, struct err **err);
bool cgroup_has_file(struct cgroup *cg, const char *ctrl, const char *file);

/* cgroup_res.c: apply linux.resources (cg NULL: validate only). */
int cgroup_res_apply(struct cgroup *cg, json_t *resources, struct err **err);

/* cgroup_bpf.c: replace the eBPF device filter of the v2 cgroup at dirfd with
 * one built from linux.resources.devices (cgroup-v2.rst "Device controller"). */
int cgroup_bpf_devices(int dirfd, json_t *devices, struct err **err);
/* Build the program only (for tests and validation); *insns is malloc'd. */
int cgroup_bpf_build(json_t *devices, void **insns, size_t *n, struct err **err);

#endif
