/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The composed config.json of a container row, written after the row exists:
 * the engine inserts the row first (named volumes record their use against
 * it), then composes the spec with the volumes' directories.
 */
#include <errno.h>

#include "engine/db_priv.h"

int db_container_set_config(struct db *db, const char *id, const char *config, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;

    if (db_prepare(db, "UPDATE containers SET config = ?2 WHERE id = ?1", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, config, -1, SQLITE_STATIC);
    if (db_step(db, st, "update container config", err) < 0)
        return -1;
    if (sqlite3_changes(db->sql) == 0)
        return err_val(err, ENOENT, "No such container: %s", id);
    return 0;
}

int db_container_sync_run(struct db *db, const struct db_container *c, pid_t monitor_pid,
                          uint64_t monitor_start_time, bool *changed, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;

    if (!db_status_name(c->status))
        return err_val(err, EINVAL, "update container %s: invalid status", c->id);
    if (db_prepare(db,
                   "UPDATE containers SET status = ?2, pid = ?3, monitor_pid = ?4,"
                   " monitor_start_time = ?5, exit_code = ?6, oom_killed = ?7,"
                   " finished_ns = ?8, restart_count = ?9"
                   " WHERE id = ?1 AND monitor_pid = ?10 AND monitor_start_time = ?11",
                   &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, db_status_name(c->status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c->pid);
    sqlite3_bind_int64(st, 4, c->monitor_pid);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->monitor_start_time);
    sqlite3_bind_int(st, 6, c->exit_code);
    sqlite3_bind_int(st, 7, c->oom_killed);
    sqlite3_bind_int64(st, 8, c->finished_ns);
    sqlite3_bind_int(st, 9, c->restart_count);
    sqlite3_bind_int64(st, 10, monitor_pid);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)monitor_start_time);
    if (db_step(db, st, "update container run", err) < 0)
        return -1;
    *changed = sqlite3_changes(db->sql) > 0;
    return 0;
}
