/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json (OCI runtime-spec v1.2, config.md and config-linux.md) parsed into
 * a struct. Strings point into the parsed JSON document, which the spec owns.
 * Every field of the Linux runtime is checked here, before anything is created:
 * a wrong type, an unknown value or an unsupported field that would weaken
 * isolation is an error naming the JSON path ("process.user.uid: expected an
 * integer, got string").
 */
#ifndef ISOLA_RUNTIME_SPEC_H
#define ISOLA_RUNTIME_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/caps.h"
#include "runtime/mempolicy.h"
#include "util/err.h"

struct spec_mount {
    const char *destination;     /* absolute, inside the rootfs */
    const char *type;            /* NULL for a bind mount */
    char *source;                /* bind sources made absolute against the bundle */
    unsigned long flags;         /* MS_* to set */
    unsigned long propagation;   /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE | MS_REC, or 0 */
    uint64_t attr_set, attr_clr; /* MOUNT_ATTR_* applied recursively (mount_setattr) */
    char *data;                  /* filesystem options ("mode=755,size=64k") or NULL */
    bool bind, rec;              /* bind / rbind */
    bool tmpcopyup;              /* tmpfs: copy what was below into it (crun's option) */
    /* Idmapped bind mount (runtime-spec 1.1 "uidMappings"/"gidMappings" on a
     * mount, options `idmap`/`ridmap`): without mappings, the container's. */
    bool idmap, ridmap;
    struct spec_idmap *uidmap, *gidmap;
    size_t nuidmap, ngidmap;
    int idmap_fd; /* the detached idmapped tree (mount_idmap_prepare), if idmap */
};

struct spec_idmap {
    uint32_t container_id, host_id, size;
};

struct spec_ns {
    int type;         /* CLONE_NEW* */
    const char *path; /* join this namespace, or NULL for a new one */
};

struct spec_rlimit {
    int resource;
    uint64_t soft, hard;
};

struct spec_device {
    const char *path;
    mode_t type; /* S_IFCHR, S_IFBLK, S_IFIFO */
    uint32_t major, minor;
    mode_t mode; /* permission bits */
    uid_t uid;
    gid_t gid;
    int node_fd; /* in a user namespace: the node to move in (mount_dev_prepare) */
};

struct spec_hook {
    const char *path;
    char **args; /* NULL: { path } */
    char **env;
    int timeout; /* seconds, 0: none */
};

enum spec_hook_kind {
    HOOK_PRESTART = 0,
    HOOK_CREATE_RUNTIME,
    HOOK_CREATE_CONTAINER,
    HOOK_START_CONTAINER,
    HOOK_POSTSTART,
    HOOK_POSTSTOP,
    HOOK_KINDS
};

struct spec_hooks {
    struct spec_hook *v;
    size_t n;
};

struct spec_sched {
    bool set;
    uint32_t policy;
    int32_t nice;
    uint32_t priority;
    uint64_t flags, runtime, deadline, period;
};

struct spec_process {
    bool terminal;
    uint32_t console_h, console_w;
    const char *cwd;
    char **args;
    char **env;
    uid_t uid;
    gid_t gid;
    bool has_umask;
    mode_t umask;
    gid_t *gids;
    size_t ngids;
    bool has_caps;
    struct caps caps;
    struct spec_rlimit *rlimits;
    size_t nrlimits;
    bool no_new_privs;
    bool has_oom;
    int oom_score_adj;
    bool has_ioprio;
    int ioprio; /* IOPRIO_PRIO_VALUE(class, level) */
    struct spec_sched sched;
    const char *apparmor;
    bool keep_groups; /* annotation run.oci.keep_original_groups: no setgroups */
};

struct spec_sysctl {
    const char *key, *value;
};

#define SPEC_NS_MAX 8

struct spec {
    json_t *json; /* the whole document (owned) */
    const char *oci_version;
    char *bundle; /* absolute bundle directory */
    char *rootfs; /* absolute root.path */
    bool root_readonly;
    const char *hostname, *domainname;
    struct spec_process process;
    struct spec_mount *mounts;
    size_t nmounts;
    struct spec_ns ns[SPEC_NS_MAX];
    size_t nns;
    struct spec_idmap *uidmap, *gidmap;
    size_t nuidmap, ngidmap;
    bool has_time_offsets;
    int64_t mono_secs, mono_nsecs, boot_secs, boot_nsecs;
    struct spec_device *devices;
    size_t ndevices;
    const char *cgroups_path;
    json_t *resources; /* linux.resources (borrowed) */
    json_t *seccomp;   /* linux.seccomp (borrowed) */
    struct spec_sysctl *sysctl;
    size_t nsysctl;
    unsigned long rootfs_propagation; /* 0: default (rslave) */
    char **masked_paths, **readonly_paths;
    bool has_personality;
    unsigned long personality;
    struct spec_hooks hooks[HOOK_KINDS];
    json_t *annotations; /* borrowed, may be NULL */
    struct spec_mempolicy mempolicy;
};

/* Load and check `config` (a path; relative paths are taken in `bundle`). */
int spec_load(const char *bundle, const char *config, struct spec **out, struct err **err);
/* Check an already parsed document (takes a reference on json). */
int spec_parse(json_t *json, const char *bundle, struct spec **out, struct err **err);
void spec_free(struct spec *s);

/* Parse a `process` object (config or `exec --process`); `where` names it. */
int spec_process_parse(json_t *p, const char *where, struct spec_process *out, struct err **err);
void spec_process_release(struct spec_process *p);

/* The namespace entry of a type, or NULL when the container shares the host's. */
const struct spec_ns *spec_ns_find(const struct spec *s, int type);
/* "pid", "network", ... for CLONE_NEW*; and the /proc/PID/ns/ file name. */
const char *spec_ns_name(int type);
const char *spec_ns_proc_name(int type);
/* All CLONE_NEW* flags in the order namespaces are joined (user first). */
extern const int spec_ns_order[SPEC_NS_MAX];

/* Parse one mount option list into m (used by spec_parse; exposed for tests). */
int spec_mount_options(json_t *options, const char *where, struct spec_mount *m, struct err **err);

/* The default config (`isola-oci spec`), as runc's: busybox-friendly, sh. */
json_t *spec_default(bool rootless);

#endif
