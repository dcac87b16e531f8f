/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The spec composer: an image's config (image-spec config.md: Entrypoint,
 * Cmd, Env, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal,
 * Healthcheck) and the options of a run (`docker run`'s) -> an OCI runtime
 * config.json. The one place that builds container specs: `isola run`,
 * `isola bundle` and the RUN steps of `isola build` all come here. The
 * defaults (capabilities, mounts, masked paths, seccomp) are
 * runtime/spec_defaults.c's; this file applies Docker's meaning of each
 * option on top (docs/engine.md, "The spec composer").
 */
#ifndef ISOLA_ENGINE_COMPOSE_H
#define ISOLA_ENGINE_COMPOSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/store.h"
#include "util/err.h"

enum compose_mount_type {
    COMPOSE_MOUNT_BIND,  /* -v HOST:DEST, --mount type=bind; a named volume, resolved
                            by the caller to its host directory, is one too */
    COMPOSE_MOUNT_TMPFS, /* --tmpfs DEST[:OPTS], --mount type=tmpfs */
};

struct compose_mount {
    enum compose_mount_type type;
    const char *source;      /* bind: the host path */
    const char *destination; /* absolute path in the container */
    bool readonly;
    const char *propagation; /* bind: rprivate (default), private, rshared, shared,
                                rslave, slave */
    const char *options;     /* tmpfs: comma-separated mount options (size= takes
                                util/size.h units), NULL: none */
};

struct compose_ulimit {
    const char *name; /* "nofile", "nproc", ... (Docker's --ulimit names) */
    int64_t soft, hard;
};

struct compose_device {
    const char *host;        /* /dev/fuse */
    const char *container;   /* NULL: same as host */
    const char *permissions; /* "rwm" (default), or a subset */
};

/* Every field is optional: zero means the image's value or the default. */
struct compose_opts {
    char *const *args;      /* replaces the image's Cmd (NULL or empty: keep it) */
    const char *entrypoint; /* replaces the Entrypoint (NULL: keep, "": none) */
    char *const *env_file;  /* KEY=VALUE from --env-file, after the image's Env */
    char *const *env;       /* KEY=VALUE from -e, last: overrides both */
    const char *workdir;    /* replaces WorkingDir */
    const char *user;       /* replaces User: name, uid, name:group, uid:gid */
    const char *hostname;   /* default "isola" */
    const char *rootfs;     /* root.path in config.json (default "rootfs") */
    bool read_only;         /* --read-only */
    bool terminal;          /* -t: also sets TERM=xterm, as Docker does */
    const struct compose_mount *mounts;
    size_t n_mounts;
    int64_t memory;      /* bytes, 0: no limit */
    int64_t memory_swap; /* memory + swap in bytes, -1: unlimited, 0: unset */
    int64_t shm_size;    /* bytes of /dev/shm, 0: the default (64m) */
    double cpus;         /* --cpus: quota/period, 0: no limit */
    uint64_t cpu_shares;
    const char *cpuset_cpus;
    int64_t pids_limit; /* > 0: limit, < 0: unlimited, 0: unset */
    const struct compose_ulimit *ulimits;
    size_t n_ulimits;
    char *const *cap_add;  /* names with or without CAP_, any case, or ALL */
    char *const *cap_drop; /* likewise */
    bool privileged;
    bool no_new_privileges; /* --security-opt no-new-privileges */
    const char *seccomp;    /* --security-opt seccomp=: NULL: the default profile,
                               "unconfined", or a path to an OCI linux.seccomp JSON */
    const struct compose_device *devices;
    size_t n_devices;
    const char *init; /* --init: the host path of the init binary to run as PID 1 */
    const char *stop_signal;
    char *const *labels; /* KEY=VALUE, over the image's Labels */
    uint64_t nofile;     /* RLIMIT_NOFILE soft = hard (0: the template's 1024) */
    bool host_network;   /* no network namespace (RUN steps of isola build) */
    /* join this network namespace (an nsfs file, ctr_net.h), NULL: a new one */
    const char *netns_path;
};

/* The annotations that carry what the runtime does not use, for the engine. */
#define COMPOSE_ANN_STOP_SIGNAL "org.opencontainers.image.stopSignal"
#define COMPOSE_ANN_HEALTHCHECK "io.isola.healthcheck"

/*
 * config.json for image_config (may be NULL: a plain root filesystem; args is
 * then the command) named image_name, whose root filesystem is at
 * rootfs_dir (read for user names, and where the image's Volumes are made).
 */
int compose_spec(json_t *image_config, const char *image_name, const char *rootfs_dir,
                 const struct compose_opts *o, json_t **out, struct err **err);

/* Parse `--ulimit NAME=SOFT[:HARD]` (name points into s). */
int compose_parse_ulimit(const char *s, struct compose_ulimit *out, struct err **err);

/* Read an --env-file: KEY=VALUE lines, `#` comments and blank lines skipped; a
 * line with a name alone takes its value from lookup (NULL or a NULL result:
 * the line is dropped), as Docker does with the environment. *out is new. */
int compose_read_env_file(const char *path, char *(*lookup)(const char *name), char ***out,
                          struct err **err);

/* An image's bundle in dir: its root filesystem (image/bundle.h) and the
 * composed config.json (root.path: rootfs, relative, unless o->rootfs). */
int compose_bundle(struct store *s, const char *image, const char *dir, bool copy,
                   const struct compose_opts *o, struct err **err);
/* compose_bundle() (an overlay root) for a bundle that goes when the run ends
 * (isola run in the foreground, in the run dir): config.json written without
 * the fsyncs (js_write_file_replace). */
int compose_bundle_transient(struct store *s, const char *image, const char *dir,
                             const struct compose_opts *o, struct err **err);

#endif
