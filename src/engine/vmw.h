/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Managed VMs (docs/vm.md, "Managed VMs"): a VM is a workload as a container
 * is. It has a row in the state database (isolation `vm`), a bundle directory
 * <state_root>/containers/<id>/ with vm.json and launch.json (iso_vm.c), and
 * while it runs an isola-monitor (monitor.h) whose workload is the VM's
 * isola-vmm process: the monitor logs the serial console, serves console
 * attach, applies the restart policy, stops it on request. So `ps`, `logs`,
 * `wait` and `system boot` are the containers' own code (container.h); this
 * module adds what differs: create, stop (an orderly shutdown request, then
 * power off), remove, inspect, and pause/resume through the VMM's control
 * socket.
 */
#ifndef ISOLA_ENGINE_VMW_H
#define ISOLA_ENGINE_VMW_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/container.h"
#include "engine/db.h"
#include "image/store.h"
#include "util/err.h"

/* The stop signal of a VM: isola-vmm asks the guest to shut down (docs/vm.md). */
#define VMW_STOP_SIGNAL "SIGPWR"
/* Seconds from the shutdown request to power off, as Docker's stop timeout. */
#define VMW_STOP_TIMEOUT 10

struct vmw_create_opts {
    const char *name;      /* NULL: generated */
    json_t *vm;            /* the VM's config (vm_config_to_json), absolute paths */
    const char *image_ref; /* what the user named (the kernel, or --image) */
    const char *image_id;  /* the image's config digest, NULL when none */
    const char *restart;   /* no (NULL), on-failure[:N], always, unless-stopped */
    int stop_timeout;      /* seconds, -1: VMW_STOP_TIMEOUT */
    const char *vmm_exe;   /* isola-vmm */
    /* --image (vm_image.h): its root as the first disk (/dev/vda), booted
     * with root=/dev/vda and the image's init; the kernel's initrd must mount
     * it (docs/vm.md, "VMs from images") */
    const char *image;
    struct store *store;
    const char *mkfs_exe; /* NULL: mke2fs */
    /* a snapshot directory (absolute, checked): the monitor restores it
     * (isola-vmm run --restore) instead of booting vm's kernel */
    const char *restore;
};

/* The row, the bundle (vm.json, launch.json); not started (ctr_start() does). */
int vmw_create(struct db *db, const struct ctr_env *env, const struct vmw_create_opts *o,
               struct db_container **out, struct err **err);
/* Looked up and synced as ctr_get(); ENOENT "No such VM: REF" when ref is no VM. */
int vmw_get(struct db *db, const struct ctr_env *env, const char *ref, struct db_container **out,
            struct err **err);
/* The VMs among ctr_list()'s rows (caller frees with db_container_list_free). */
int vmw_list(struct db *db, const struct ctr_env *env, bool all, struct db_container ***out,
             size_t *n, struct err **err);
/* The shutdown request (VMW_STOP_SIGNAL through the monitor), then power off
 * (SIGKILL of the VMM) after timeout seconds (-1: the VM's own). A VM that
 * does not run: nothing to do. */
int vmw_stop(struct db *db, const struct ctr_env *env, const char *ref, int timeout,
             struct err **err);
/* A signal to the VMM through the monitor (SIGKILL: power off at once). */
int vmw_kill(struct db *db, const struct ctr_env *env, const char *ref, int sig, struct err **err);
/* EBUSY when it runs and !force; with force it is powered off first. */
int vmw_remove(struct db *db, const struct ctr_env *env, const char *ref, bool force,
               struct err **err);
/* The inspect document: Docker's field names where they mean the same. */
int vmw_inspect(const struct ctr_env *env, const struct db_container *c, json_t **out,
                struct err **err);
/* Pause (vCPUs parked, devices quiesced, memory kept) or resume a running
 * VM through its VMM's control socket; the row says paused. EALREADY when
 * already paused, EINVAL when it does not run or (resume) is not paused. */
int vmw_pause(struct db *db, const struct ctr_env *env, const char *ref, bool pause,
              struct err **err);
/* One request on a VMM's control socket (src/vm/control.h): 0 and the
 * reply ("ok ...") in reply, or the VMM's error message. */
int vmw_vmm_request(const char *path, const char *req, char *reply, size_t len, struct err **err);
/* Snapshot a running or paused VM into dir (absolute; vmw_snapshot.c): the
 * monitor pauses it, writes the snapshot, and resumes it unless leave_paused. */
int vmw_snapshot(struct db *db, const struct ctr_env *env, const char *ref, const char *dir,
                 bool leave_paused, struct err **err);
/* The VMM's control socket of VM id (caller frees). */
char *vmw_control_path(const struct ctr_env *env, const char *id);

#endif
