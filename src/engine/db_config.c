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
