/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container state on disk: ROOT/ID/state.json (written atomically) and
 * ROOT/ID/exec.fifo while the container is created but not started (runc's
 * layout). The public form is the runtime-spec state (runtime.md "State") with
 * runc's extra fields: ociVersion, id, pid, status, bundle, rootfs, created,
 * owner, annotations.
 */
#ifndef ISOLA_RUNTIME_OCI_STATE_H
#define ISOLA_RUNTIME_OCI_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/err.h"

#define STATE_DEFAULT_ROOT "/run/isola-oci"

struct oci_state {
    char *id;
    pid_t pid;                     /* 0 while creating */
    unsigned long long start_time; /* /proc/PID/stat field 22, guards pid reuse */
    char *bundle, *rootfs, *created;
    uid_t owner;
    json_t *annotations; /* owned, may be NULL */
    json_t *cgroup;      /* cgroup_to_json(), owned, may be NULL */
    json_t *hooks;       /* config `hooks` (for poststop at delete), owned, may be NULL */
    bool creating;       /* create had not finished when this was written */
    int cgroup_manager;
    /* The `create`/`run` process while creating (0 after), and its start
     * time: `delete --force` ends a create in progress through it. */
    pid_t creator;
    unsigned long long creator_start_time;
};

/* runc's id rule: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes. */
int oci_state_check_id(const char *id, struct err **err);
/* ROOT/ID (caller frees). */
char *oci_state_dir(const char *root, const char *id);
/* mkdir ROOT (0700) and ROOT/ID (0711); "container `id` already exists". */
int oci_state_create_dir(const char *root, const char *id, struct err **err);
/* Replace path with data through a temporary file and rename(2), without
 * fsync: runtime state lives on tmpfs (/run) and dies with a reboot anyway, and
 * an fsync per container start costs milliseconds on a disk-backed /run. */
int oci_state_write_file(const char *path, const char *data, size_t len, mode_t mode,
                         struct err **err);
int oci_state_write(const char *root, const struct oci_state *st, struct err **err);
/* "container `id` does not exist" (ENOENT) when there is no state dir. A state dir
 * without state.json (a crash early in create) loads as a creating container. */
int oci_state_load(const char *root, const char *id, struct oci_state **out, struct err **err);
void oci_state_free(struct oci_state *st);
int oci_state_remove(const char *root, const char *id, struct err **err);

/* Is st->pid still the container's init (same start time)? */
bool oci_state_init_alive(const struct oci_state *st);
/* "creating", "created", "running", "paused" or "stopped". */
const char *oci_state_status(const char *root, const struct oci_state *st, const char *freezer);
/* The runtime-spec state object. */
json_t *oci_state_to_oci(const struct oci_state *st, const char *status);
/* Ids of all containers under root, sorted (strv). */
int oci_state_list(const char *root, char ***ids, struct err **err);

/* Start time (clock ticks since boot) of pid, 0 if it is gone. */
unsigned long long oci_state_pid_start_time(pid_t pid);
/* RFC 3339 time with nanoseconds, now (caller frees). */
char *state_now_rfc3339(void);

#endif
