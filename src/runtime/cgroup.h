/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's cgroup, behind one interface with a driver per hierarchy layout:
 * pure v2 (unified), v1 (one hierarchy per controller), and the hybrid layout
 * (v1 controllers plus a v2 tree, possibly holding only some controllers).
 * The layout is detected at run time: statfs(2) of the cgroup root (default
 * /sys/fs/cgroup; override with cgroup_set_root(), which the front ends call
 * with $ISOLA_CGROUP_ROOT) gives
 * CGROUP2_SUPER_MAGIC for pure v2; otherwise a cgroup2 mount at <root>/unified
 * means hybrid, else v1. The v1 hierarchies and their controllers come from
 * /proc/self/mountinfo (cgroup mounts directly below the root).
 *
 * Which process calls what: the runtime (not the container's child) calls
 * everything here; cgroup_create() after the child was cloned and before it
 * is released to exec, so the container's first instruction already runs
 * inside its limits. Nothing here assumes root: a failing mkdir/write is
 * reported with the path and errno (EACCES for rootless without delegation).
 *
 * Resources come straight from the OCI config (`linux.resources`, runtime-spec
 * config-linux.md "Control groups"), so callers need no intermediate struct.
 * Fields that the host cannot enforce are an error naming the field, never a
 * silent no-op (a memory limit that is not applied weakens isolation).
 */
#ifndef ISOLA_RUNTIME_CGROUP_H
#define ISOLA_RUNTIME_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/err.h"

enum cgroup_manager {
    CGROUP_MANAGER_CGROUPFS = 0, /* write cgroupfs directly */
    CGROUP_MANAGER_DISABLED,     /* crun's "disabled": no cgroup is created or joined */
};

enum cgroup_layout {
    CGROUP_LAYOUT_NONE = 0, /* no cgroup filesystem (or manager "disabled") */
    CGROUP_LAYOUT_V1,
    CGROUP_LAYOUT_V2,
    CGROUP_LAYOUT_HYBRID,
};

struct cgroup;

/* Point the drivers at another cgroup root (tests: a cgroup2 tree mounted
 * elsewhere; the front ends: $ISOLA_CGROUP_ROOT). NULL restores the default,
 * /sys/fs/cgroup.
 * Not thread-safe; call before creating cgroups. */
int cgroup_set_root(const char *root, struct err **err);
const char *cgroup_root(void);
/* Layout of the cgroup filesystem at the current root. */
int cgroup_layout_detect(enum cgroup_layout *out, struct err **err);

/* Parse "cgroupfs" / "disabled" (crun's --cgroup-manager); "systemd" is a clear error. */
int cgroup_manager_parse(const char *s, enum cgroup_manager *out, struct err **err);

/*
 * Create the cgroup for container `id` at `cgroups_path` (linux.cgroupsPath; NULL
 * or "" means the default "/isola/<id>"; a relative path is taken under the
 * runtime's own cgroup, as runc does), apply `resources` (may be NULL) and move
 * `pid` into it. On failure nothing is left behind.
 */
int cgroup_create(enum cgroup_manager mgr, const char *id, const char *cgroups_path,
                  json_t *resources, pid_t pid, struct cgroup **out, struct err **err);

/*
 * The cgroup cgroup_create() would make, without creating anything: the
 * resolved directories, and as `created` the trailing components missing now.
 * Recorded in the state before cgroup_create() so a runtime killed inside it
 * leaves a cgroup that `delete --force` finds (cgroup_destroy() tolerates
 * directories that were never made).
 */
int cgroup_plan(enum cgroup_manager mgr, const char *id, const char *cgroups_path,
                struct cgroup **out, struct err **err);

/* Move `pid` into an existing container cgroup (every hierarchy), e.g. for
 * `exec`: called in the runtime before the new process is released. */
int cgroup_enter(struct cgroup *cg, pid_t pid, struct err **err);

/* Check `resources` without applying it (for errors before anything is created). */
int cgroup_validate(json_t *resources, struct err **err);

/* Apply a new `linux.resources` object (`update`). */
int cgroup_update(struct cgroup *cg, json_t *resources, struct err **err);

/* Freeze (pause) or thaw (resume) every process of the cgroup. */
int cgroup_freeze(struct cgroup *cg, bool frozen, struct err **err);
/* "running", "paused" or "unknown" (for `state`). */
const char *cgroup_freezer_state(struct cgroup *cg);

/* Pids of all processes in the cgroup (for `ps`, `kill --all`). */
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct err **err);

/* Send sig to every process in the cgroup. */
int cgroup_kill(struct cgroup *cg, int sig, struct err **err);

/* Resource usage in runc's `events --stats` shape ("cpu", "memory", "pids",
 * "hugetlb" objects; v1 and v2 files mapped to the same fields, bytes and
 * nanoseconds). Controllers that are absent are left out. NULL on error. */
json_t *cgroup_stats(struct cgroup *cg, struct err **err);

/* Remove the cgroup directories (processes must have exited; kills what remains
 * with SIGKILL first and waits for it, bounded). */
int cgroup_destroy(struct cgroup *cg, struct err **err);

/* Persist in / restore from the container's state file. */
json_t *cgroup_to_json(const struct cgroup *cg);
int cgroup_from_json(json_t *j, struct cgroup **out, struct err **err);

void cgroup_free(struct cgroup *cg);

/* Cgroup-namespace support: the path the container's cgroup has in each
 * hierarchy, for mounting `cgroup` inside the container. */
const char *cgroup_layout_name(void); /* "v1", "v2", "hybrid", "none" */

/* The resolved cgroup path ("/isola/<id>"), and the container's directory for a
 * controller ("memory", "pids", ... or "" for the v2 directory); NULL if none.
 * The strings belong to cg. */
const char *cgroup_path(const struct cgroup *cg);
const char *cgroup_dir(const struct cgroup *cg, const char *ctrl);

#endif
