/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Volumes, which containers use them, and claims on host resources: see db.h. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/db.h"
#include "engine/db_priv.h"
#include "util/cleanup.h"

/* ---- volumes ---- */

#define VOLUME_COLUMNS "name, driver, options, labels, created_ns, mountpoint, anonymous"

static int volume_from_row(sqlite3_stmt *st, struct db_volume **out, struct err **err)
{
    struct db_volume *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return err_set(err, ENOMEM, "read a volume row");
    v->name = db_col_dup(st, 0);
    v->driver = db_col_dup(st, 1);
    v->options = db_col_dup(st, 2);
    v->labels = db_col_dup(st, 3);
    v->created_ns = sqlite3_column_int64(st, 4);
    v->mountpoint = db_col_dup(st, 5);
    v->anonymous = sqlite3_column_int(st, 6) != 0;
    if (!v->name || !v->driver || !v->options || !v->labels || !v->mountpoint) {
        db_volume_free(v);
        return err_set(err, ENOMEM, "read a volume row");
    }
    *out = v;
    return 0;
}

static int volume_select(struct db *db, const char *name, struct db_volume **out, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc;

    *out = NULL;
    if (db_prepare(db, "SELECT " VOLUME_COLUMNS " FROM volumes WHERE name = ?1", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, name, "");
    rc = db_step(db, st, "look up a volume", err);
    if (rc < 0)
        return err_wrap(err, "volume \"%s\"", name);
    if (rc == SQLITE_DONE)
        return 0;
    return volume_from_row(st, out, err);
}

int db_volume_create(struct db *db, const struct db_volume *v, struct db_volume **out,
                     struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *mountpoint = NULL;
    char gen[DB_ID_LEN + 1];
    const char *name = v->name;
    int rc;

    if (name != NULL && db_name_check(name, "volume", err) < 0)
        return -1;
    if (name != NULL && name[0] == '/') /* only a container's name takes a "/" */
        return err_val(err, EINVAL,
                       "invalid volume name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                       "are allowed, at least two characters",
                       name);
    if (db_txn_begin(db, &txn, err) < 0)
        return err_wrap(err, "create volume");
    if (name == NULL) {
        do {
            if (db_random_id(gen, err) < 0)
                return -1;
            bool taken = db_row_exists(db, "volumes", "name", gen, &rc, err);
            if (rc < 0)
                return -1;
            if (!taken)
                break;
        } while (true);
        name = gen;
    } else {
        bool taken = db_row_exists(db, "volumes", "name", name, &rc, err);
        if (rc < 0)
            return -1;
        if (taken)
            return err_val(err, EEXIST, "volume \"%s\" already exists", name);
    }
    if (v->mountpoint == NULL && asprintf(&mountpoint, "%s/volumes/%s/_data", db->root, name) < 0)
        return err_set(err, ENOMEM, "create volume \"%s\"", name);
    if (db_prepare(db,
                   "INSERT INTO volumes (" VOLUME_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, name, "");
    db_bind_text(st, 2, v->driver, "local");
    db_bind_text(st, 3, v->options, "{}");
    db_bind_text(st, 4, v->labels, "{}");
    sqlite3_bind_int64(st, 5, v->created_ns ? v->created_ns : db_now_ns());
    db_bind_text(st, 6, v->mountpoint ? v->mountpoint : mountpoint, "");
    sqlite3_bind_int(st, 7, v->name == NULL);
    if (db_step(db, st, "insert volume", err) < 0 || db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "create volume \"%s\"", name);
    if (out == NULL)
        return 0;
    if (volume_select(db, name, out, err) < 0)
        return -1;
    if (*out == NULL)
        return err_val(err, ENOENT, "No such volume: %s (removed right after its creation)", name);
    return 0;
}

int db_volume_get(struct db *db, const char *name, struct db_volume **out, struct err **err)
{
    if (volume_select(db, name, out, err) < 0)
        return -1;
    if (*out == NULL)
        return err_val(err, ENOENT, "No such volume: %s", name);
    return 0;
}

int db_volume_list(struct db *db, struct db_volume ***out, size_t *n, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    struct db_volume **v = NULL;
    size_t count = 0, cap = 0;
    int rc;

    if (db_prepare(db, "SELECT " VOLUME_COLUMNS " FROM volumes ORDER BY name", &st, err) < 0)
        return -1;
    while ((rc = db_step(db, st, "list volumes", err)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            struct db_volume **nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL) {
                db_volume_list_free(v, count);
                return err_set(err, ENOMEM, "list volumes");
            }
            v = nv;
        }
        if (volume_from_row(st, &v[count], err) < 0) {
            db_volume_list_free(v, count);
            return -1;
        }
        count++;
    }
    if (rc < 0) {
        db_volume_list_free(v, count);
        return -1;
    }
    *out = v;
    *n = count;
    return 0;
}

/* "ID1, ID2" of the containers using volume `name` (empty when none). */
static int volume_users(struct db *db, const char *name, char **users, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *s = strdup("");
    int rc;

    if (s == NULL)
        return err_set(err, ENOMEM, "volume \"%s\"", name);
    if (db_prepare(db,
                   "SELECT container_id FROM volume_uses WHERE volume_name = ?1 "
                   "ORDER BY container_id",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, name, "");
    while ((rc = db_step(db, st, "list a volume's users", err)) == SQLITE_ROW) {
        char *ns = NULL;
        if (asprintf(&ns, "%s%s%s", s, *s ? ", " : "", sqlite3_column_text(st, 0)) < 0)
            return err_set(err, ENOMEM, "volume \"%s\"", name);
        free(s);
        s = ns;
    }
    if (rc < 0)
        return -1;
    *users = steal_ptr(&s);
    return 0;
}

int db_volume_remove(struct db *db, const char *name, struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *users = NULL;
    int rc;

    if (db_txn_begin(db, &txn, err) < 0)
        return err_wrap(err, "remove volume \"%s\"", name);
    bool exists = db_row_exists(db, "volumes", "name", name, &rc, err);
    if (rc < 0)
        return -1;
    if (!exists)
        return err_val(err, ENOENT, "No such volume: %s", name);
    if (volume_users(db, name, &users, err) < 0)
        return -1;
    if (*users)
        return err_val(err, EBUSY, "remove volume \"%s\": volume is in use by container \"%s\"",
                       name, users);
    if (db_prepare(db, "DELETE FROM volumes WHERE name = ?1", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, name, "");
    if (db_step(db, st, "delete volume", err) < 0 || db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "remove volume \"%s\"", name);
    return 0;
}

int db_volume_prune(struct db *db, bool all, char ***removed, struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_strv_ char **names = calloc(1, sizeof(char *));
    size_t n = 0;
    int rc;

    if (names == NULL)
        return err_set(err, ENOMEM, "prune volumes");
    if (db_txn_begin(db, &txn, err) < 0)
        return err_wrap(err, "prune volumes");
    if (db_prepare(db,
                   "DELETE FROM volumes WHERE (?1 OR anonymous) AND NOT EXISTS"
                   " (SELECT 1 FROM volume_uses u WHERE u.volume_name = volumes.name)"
                   " RETURNING name",
                   &st, err) < 0)
        return -1;
    sqlite3_bind_int(st, 1, all);
    while ((rc = db_step(db, st, "prune volumes", err)) == SQLITE_ROW) {
        char **nv = realloc(names, (n + 2) * sizeof(char *));
        if (nv == NULL)
            return err_set(err, ENOMEM, "prune volumes");
        names = nv;
        if ((names[n] = db_col_dup(st, 0)) == NULL)
            return err_set(err, ENOMEM, "prune volumes");
        names[++n] = NULL;
    }
    if (rc < 0)
        return -1;
    db_stmt_finalizep(&st);
    if (db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "prune volumes");
    if (removed != NULL)
        *removed = steal_ptr(&names);
    return 0;
}

int db_volume_use(struct db *db, const char *name, const char *id, struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc;

    if (db_txn_begin(db, &txn, err) < 0)
        return err_wrap(err, "volume \"%s\"", name);
    bool vol = db_row_exists(db, "volumes", "name", name, &rc, err);
    if (rc < 0)
        return -1;
    if (!vol)
        return err_val(err, ENOENT, "No such volume: %s", name);
    bool ctr = db_row_exists(db, "containers", "id", id, &rc, err);
    if (rc < 0)
        return -1;
    if (!ctr)
        return err_val(err, ENOENT, "No such container: %s", id);
    if (db_prepare(db,
                   "INSERT OR IGNORE INTO volume_uses (container_id, volume_name) VALUES (?1, ?2)",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, id, "");
    db_bind_text(st, 2, name, "");
    if (db_step(db, st, "record a volume use", err) < 0 || db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "volume \"%s\" used by container %s", name, id);
    return 0;
}

int db_volume_users(struct db *db, const char *name, char **users, struct err **err)
{
    return volume_users(db, name, users, err);
}

int db_volume_unuse(struct db *db, const char *name, const char *id, int *remaining,
                    struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc;

    if (db_txn_begin(db, &txn, err) < 0)
        return err_wrap(err, "volume \"%s\"", name);
    if (db_prepare(db, "DELETE FROM volume_uses WHERE container_id = ?1 AND volume_name = ?2", &st,
                   err) < 0)
        return -1;
    db_bind_text(st, 1, id, "");
    db_bind_text(st, 2, name, "");
    if (db_step(db, st, "forget a volume use", err) < 0)
        return err_wrap(err, "volume \"%s\" released by container %s", name, id);
    db_stmt_finalizep(&st);
    if (db_prepare(db, "SELECT count(*) FROM volume_uses WHERE volume_name = ?1", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, name, "");
    rc = db_step(db, st, "count a volume's users", err);
    if (rc < 0)
        return err_wrap(err, "volume \"%s\"", name);
    if (remaining != NULL)
        *remaining = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    db_stmt_finalizep(&st);
    if (db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "volume \"%s\" released by container %s", name, id);
    return 0;
}

void db_volume_free(struct db_volume *v)
{
    if (v == NULL)
        return;
    free(v->name);
    free(v->driver);
    free(v->options);
    free(v->labels);
    free(v->mountpoint);
    free(v);
}

void db_volume_list_free(struct db_volume **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        db_volume_free(v[i]);
    free(v);
}

/* ---- claims ---- */

int db_claim_owner(struct db *db, const char *kind, const char *key, char **owner, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc;

    *owner = NULL;
    if (db_prepare(db, "SELECT owner_id FROM claims WHERE kind = ?1 AND key = ?2", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, kind, "");
    db_bind_text(st, 2, key, "");
    rc = db_step(db, st, "look up a claim", err);
    if (rc < 0)
        return err_wrap(err, "%s \"%s\"", kind, key);
    if (rc == SQLITE_ROW && (*owner = db_col_dup(st, 0)) == NULL)
        return err_set(err, ENOMEM, "%s \"%s\"", kind, key);
    return 0;
}

int db_claim_add(struct db *db, const char *kind, const char *key, const char *owner_id,
                 struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *owner = NULL;
    int rc;

    if (kind == NULL || !*kind || key == NULL || !*key || owner_id == NULL)
        return err_val(err, EINVAL, "claim: empty kind, key or owner");
    if (db_txn_begin(db, &txn, err) < 0 || db_claim_owner(db, kind, key, &owner, err) < 0)
        return err_wrap(err, "claim %s \"%s\"", kind, key);
    if (owner != NULL && strcmp(owner, owner_id) == 0)
        return 0; /* already ours: claiming again is not a second allocation */
    if (owner != NULL)
        return err_val(err, EEXIST, "%s \"%s\" is already claimed by container \"%s\"", kind, key,
                       owner);
    bool ctr = db_row_exists(db, "containers", "id", owner_id, &rc, err);
    if (rc < 0)
        return -1;
    if (!ctr)
        return err_val(err, ENOENT, "claim %s \"%s\": No such container: %s", kind, key, owner_id);
    if (db_prepare(db, "INSERT INTO claims (kind, key, owner_id) VALUES (?1, ?2, ?3)", &st, err) <
        0)
        return -1;
    db_bind_text(st, 1, kind, "");
    db_bind_text(st, 2, key, "");
    db_bind_text(st, 3, owner_id, "");
    if (db_step(db, st, "insert claim", err) < 0 || db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "claim %s \"%s\" for container %s", kind, key, owner_id);
    return 0;
}

int db_claim_release(struct db *db, const char *kind, const char *key, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;

    if (db_prepare(db, "DELETE FROM claims WHERE kind = ?1 AND key = ?2", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, kind, "");
    db_bind_text(st, 2, key, "");
    if (db_step(db, st, "release claim", err) < 0)
        return err_wrap(err, "%s \"%s\"", kind, key);
    if (sqlite3_changes(db->sql) == 0)
        return err_val(err, ENOENT, "release %s \"%s\": not claimed", kind, key);
    return 0;
}
