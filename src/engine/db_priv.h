/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the db*.c files only: the connection and SQLite helpers. */
#ifndef ISOLA_ENGINE_DB_PRIV_H
#define ISOLA_ENGINE_DB_PRIV_H

#include <sqlite3.h>
#include <stdbool.h>

#include "engine/db.h"

struct db {
    sqlite3 *sql;
    char *root; /* state_root */
    char *path; /* <state_root>/isola.db */
};

/* "database `PATH`: WHAT: sqlite's message", errno-like code from SQLite's. */
int db_fail(struct db *db, struct err **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **st, struct err **err);
/* sqlite3_step(): SQLITE_ROW or SQLITE_DONE, or -1 with *err filled. */
int db_step(struct db *db, sqlite3_stmt *st, const char *what, struct err **err);
void db_stmt_finalizep(sqlite3_stmt **st);
#define _cleanup_stmt_ __attribute__((cleanup(db_stmt_finalizep)))

/* BEGIN IMMEDIATE; *txn = db until db_txn_commit(), rolled back at scope exit
 * otherwise. */
int db_txn_begin(struct db *db, struct db **txn, struct err **err);
int db_txn_commit(struct db **txn, struct err **err);
void db_txn_rollbackp(struct db **txn);
#define _cleanup_txn_ __attribute__((cleanup(db_txn_rollbackp)))

/* Bind s, or dflt when s is NULL (the columns are NOT NULL). */
void db_bind_text(sqlite3_stmt *st, int i, const char *s, const char *dflt);
/* strdup of a text column ("" for NULL); NULL on OOM. */
char *db_col_dup(sqlite3_stmt *st, int i);
/* Whether table has a row with column = value; *rc -1 (and *err) on failure. */
bool db_row_exists(struct db *db, const char *table, const char *column, const char *value, int *rc,
                   struct err **err);
/* One container by an exact column value ("id", "name"); 0 with *out NULL
 * when absent. */
int db_container_select(struct db *db, const char *column, const char *value,
                        struct db_container **out, struct err **err);
/* 64 random lowercase hex digits (see db.c). */
int db_random_id(char id[DB_ID_LEN + 1], struct err **err);

#endif
