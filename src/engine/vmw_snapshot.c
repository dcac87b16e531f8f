/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Snapshots of managed VMs (vmw.h; docs/vm.md, "Snapshot and restore"). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/vmw.h"
#include "util/cleanup.h"

int vmw_snapshot(struct db *db, const struct ctr_env *env, const char *ref, const char *dir,
                 bool leave_paused, struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *ctl = NULL, *req = NULL;
    char reply[256];

    if (vmw_get(db, env, ref, &c, err) < 0)
        return -1;
    if (c->status != DB_STATUS_RUNNING && c->status != DB_STATUS_PAUSED)
        return err_val(err, EINVAL,
                       "VM %s is not running (%s): only a running or paused VM can be "
                       "snapshotted",
                       ref, db_status_name(c->status));
    if (dir[0] != '/')
        return err_val(err, EINVAL, "snapshot of VM %s: `%s` is not an absolute path", ref, dir);
    if (!(ctl = vmw_control_path(env, c->id)) ||
        asprintf(&req, "snapshot %s%s", leave_paused ? "--leave-paused " : "", dir) < 0)
        return err_set(err, ENOMEM, "snapshot VM %s", ref);
    if (vmw_vmm_request(ctl, req, reply, sizeof(reply), err) < 0)
        return err_wrap(err, "snapshot VM %s", ref);
    if (strcmp(reply, "ok paused") == 0 && c->status != DB_STATUS_PAUSED) {
        c->status = DB_STATUS_PAUSED;
        return db_container_update(db, c, DB_SET_STATUS, err);
    }
    return 0;
}
