/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's state in SQLite: see db.h and docs/engine.md, "State". */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine/db.h"
#include "engine/db_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"

/*
 * Schema versions, in PRAGMA user_version. db_open() applies every step above
 * the file's version in one BEGIN IMMEDIATE transaction, so concurrent first
 * opens and upgrades serialize. Never edit a released step: append one.
 */
static const char *const db_schema[] = {
    /* 1: containers, volumes, and which container uses which volume. */
    "CREATE TABLE containers ("
    " id TEXT PRIMARY KEY NOT NULL"
    "  CHECK (length(id) = 64 AND id NOT GLOB '*[^0-9a-f]*'),"
    " name TEXT NOT NULL UNIQUE,"
    " image_ref TEXT NOT NULL DEFAULT '',"
    " image_id TEXT NOT NULL DEFAULT '',"
    " config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),"
    " created_ns INTEGER NOT NULL,"
    " started_ns INTEGER NOT NULL DEFAULT 0,"
    " finished_ns INTEGER NOT NULL DEFAULT 0,"
    " status TEXT NOT NULL CHECK (status IN ('created', 'running', 'paused', 'restarting',"
    "  'exited', 'dead', 'removing')),"
    " pid INTEGER NOT NULL DEFAULT 0,"
    " monitor_pid INTEGER NOT NULL DEFAULT 0,"
    " monitor_start_time INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT 0,"
    " oom_killed INTEGER NOT NULL DEFAULT 0 CHECK (oom_killed IN (0, 1)),"
    " restart_policy TEXT NOT NULL DEFAULT 'no'"
    "  CHECK (restart_policy IN ('no', 'on-failure', 'always', 'unless-stopped')),"
    " restart_max_retries INTEGER NOT NULL DEFAULT 0,"
    " restart_count INTEGER NOT NULL DEFAULT 0,"
    " labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),"
    " isolation TEXT NOT NULL DEFAULT 'linux' CHECK (isolation IN ('linux', 'microvm', 'vm')),"
    " log_path TEXT NOT NULL DEFAULT '',"
    " health TEXT NOT NULL DEFAULT 'none'"
    "  CHECK (health IN ('none', 'starting', 'healthy', 'unhealthy'))"
    ") STRICT;"
    "CREATE INDEX containers_status ON containers (status);"
    "CREATE TABLE volumes ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " driver TEXT NOT NULL DEFAULT 'local',"
    " options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),"
    " labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),"
    " created_ns INTEGER NOT NULL,"
    " mountpoint TEXT NOT NULL,"
    " anonymous INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1))"
    ") STRICT;"
    /* RESTRICT: a volume in use cannot be deleted, even by a statement that
     * skipped db_volume_remove()'s check. */
    "CREATE TABLE volume_uses ("
    " container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,"
    " volume_name TEXT NOT NULL REFERENCES volumes (name) ON DELETE RESTRICT,"
    " PRIMARY KEY (container_id, volume_name)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX volume_uses_volume ON volume_uses (volume_name);",
    /* 2: claims on host resources (ports first), released with their owner. */
    "CREATE TABLE claims ("
    " kind TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " owner_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,"
    " PRIMARY KEY (kind, key)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX claims_owner ON claims (owner_id);",
    /* 3: networks (docs/networks.md); their addresses are claims of kind
     * "ip", key "NETWORK_ID/ADDRESS". A row exists before any kernel object of
     * its network and goes after the last one (state, owner_*: the CLI that
     * is creating or removing it). */
    "CREATE TABLE networks ("
    " id TEXT PRIMARY KEY NOT NULL"
    "  CHECK (length(id) = 64 AND id NOT GLOB '*[^0-9a-f]*'),"
    " name TEXT NOT NULL UNIQUE,"
    " driver TEXT NOT NULL DEFAULT 'bridge' CHECK (driver IN ('bridge')),"
    " bridge TEXT NOT NULL UNIQUE CHECK (length(bridge) BETWEEN 1 AND 15),"
    " subnet TEXT NOT NULL,"
    " gateway TEXT NOT NULL,"
    " ip_range TEXT NOT NULL DEFAULT '',"
    " internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),"
    " labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),"
    " created_ns INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'creating' CHECK (state IN ('creating', 'ready', 'removing')),"
    " owner_pid INTEGER NOT NULL DEFAULT 0,"
    " owner_start_time INTEGER NOT NULL DEFAULT 0"
    ") STRICT;",
};
#define DB_SCHEMA_VERSION ((int)ARRAY_SIZE(db_schema))

/* The most of the database file that reads map (SQLite's default is 0). */
#define DB_MMAP_SIZE "268435456"
/* The WAL's size (pages of 4 KiB) at which a commit checkpoints it (SQLite's
 * default is 1000). The first connection of a process that finds no other
 * reads the whole WAL to rebuild its index, so it is kept small: a few
 * commands' worth (`run -d` writes ~25 pages). */
#define DB_WAL_PAGES "128"

static const char *const status_names[] = {"created", "running", "paused",  "restarting",
                                           "exited",  "dead",    "removing"};
static const char *const isolation_names[] = {"linux", "microvm", "vm"};
static const char *const restart_names[] = {"no", "on-failure", "always", "unless-stopped"};
static const char *const health_names[] = {"none", "starting", "healthy", "unhealthy"};

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

static int parse_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

const char *db_status_name(enum db_status s)
{
    return name_of(status_names, ARRAY_SIZE(status_names), s);
}

int db_status_parse(const char *s)
{
    return parse_name(status_names, ARRAY_SIZE(status_names), s);
}

const char *db_isolation_name(enum db_isolation i)
{
    return name_of(isolation_names, ARRAY_SIZE(isolation_names), i);
}

int db_isolation_parse(const char *s)
{
    return parse_name(isolation_names, ARRAY_SIZE(isolation_names), s);
}

const char *db_restart_name(enum db_restart r)
{
    return name_of(restart_names, ARRAY_SIZE(restart_names), r);
}

int db_restart_parse(const char *s)
{
    return parse_name(restart_names, ARRAY_SIZE(restart_names), s);
}

const char *db_health_name(enum db_health h)
{
    return name_of(health_names, ARRAY_SIZE(health_names), h);
}

int db_health_parse(const char *s)
{
    return parse_name(health_names, ARRAY_SIZE(health_names), s);
}

/* ---- errors, statements, transactions ---- */

static int sqlite_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return EBUSY;
    case SQLITE_NOMEM:
        return ENOMEM;
    case SQLITE_FULL:
        return ENOSPC;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_CANTOPEN:
        return EACCES;
    case SQLITE_CONSTRAINT:
        return EINVAL;
    default:
        return EIO;
    }
}

/* "database `PATH`: WHAT: sqlite's message", code from sqlite's error code. */
int db_fail(struct db *db, struct err **err, const char *fmt, ...)
{
    _cleanup_free_ char *what = NULL;
    va_list ap;
    int rc = sqlite3_extended_errcode(db->sql);

    va_start(ap, fmt);
    if (vasprintf(&what, fmt, ap) < 0)
        what = NULL;
    va_end(ap);
    return err_val(err, sqlite_errno(rc), "database `%s`: %s: %s", db->path, what ? what : "?",
                   sqlite3_errmsg(db->sql));
}

void db_stmt_finalizep(sqlite3_stmt **st)
{
    if (*st != NULL)
        sqlite3_finalize(*st);
    *st = NULL;
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **st, struct err **err)
{
    if (sqlite3_prepare_v2(db->sql, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(db, err, "prepare `%.40s...`", sql);
    return 0;
}

/* sqlite3_step() that maps anything but ROW/DONE to an error; returns
 * SQLITE_ROW or SQLITE_DONE. */
int db_step(struct db *db, sqlite3_stmt *st, const char *what, struct err **err)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    return db_fail(db, err, "%s", what);
}

static int db_exec(struct db *db, const char *sql, const char *what, struct err **err)
{
    if (sqlite3_exec(db->sql, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, "%s", what);
    return 0;
}

void db_txn_rollbackp(struct db **txn)
{
    if (*txn != NULL)
        sqlite3_exec((*txn)->sql, "ROLLBACK", NULL, NULL, NULL);
    *txn = NULL;
}

/* BEGIN IMMEDIATE takes the write lock before the first read (waiting up to
 * busy_timeout), so what a transaction reads is still true when it writes. */
int db_txn_begin(struct db *db, struct db **txn, struct err **err)
{
    if (db_exec(db, "BEGIN IMMEDIATE", "begin a write transaction", err) < 0)
        return -1;
    *txn = db;
    return 0;
}

int db_txn_commit(struct db **txn, struct err **err)
{
    if (db_exec(*txn, "COMMIT", "commit", err) < 0)
        return -1;
    *txn = NULL;
    return 0;
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s, const char *dflt)
{
    sqlite3_bind_text(st, i, s ? s : dflt, -1, SQLITE_STATIC);
}

char *db_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    return strdup(s ? (const char *)s : "");
}

/* ---- open, schema ---- */

static int db_user_version(struct db *db, int *version, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;

    if (db_prepare(db, "PRAGMA user_version", &st, err) < 0)
        return -1;
    if (db_step(db, st, "read the schema version", err) != SQLITE_ROW)
        return -1;
    *version = sqlite3_column_int(st, 0);
    return 0;
}

static int db_check_version(struct db *db, int version, struct err **err)
{
    if (version > DB_SCHEMA_VERSION)
        return err_val(err, EPROTO,
                       "database `%s`: schema version %d is newer than this isola knows (%d)",
                       db->path, version, DB_SCHEMA_VERSION);
    if (version < 0)
        return err_val(err, EPROTO, "database `%s`: invalid schema version %d", db->path, version);
    return 0;
}

static int db_migrate(struct db *db, struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_free_ char *set = NULL;
    int version;

    /* Fast path: no write lock when the schema is current. */
    if (db_user_version(db, &version, err) < 0 || db_check_version(db, version, err) < 0)
        return -1;
    if (version == DB_SCHEMA_VERSION)
        return 0;
    if (db_txn_begin(db, &txn, err) < 0 || db_user_version(db, &version, err) < 0 ||
        db_check_version(db, version, err) < 0)
        return -1;
    for (int v = version; v < DB_SCHEMA_VERSION; v++)
        if (sqlite3_exec(db->sql, db_schema[v], NULL, NULL, NULL) != SQLITE_OK)
            return db_fail(db, err, "upgrade the schema from version %d to %d", v, v + 1);
    if (asprintf(&set, "PRAGMA user_version = %d", DB_SCHEMA_VERSION) < 0)
        return err_set(err, ENOMEM, "database `%s`: set the schema version", db->path);
    if (db_exec(db, set, "set the schema version", err) < 0)
        return -1;
    return db_txn_commit(&txn, err);
}

/* Switching to WAL needs a moment of exclusive access, which a concurrent first
 * open may hold: retry within the busy timeout. */
static int db_wal(struct db *db, struct err **err)
{
    int64_t deadline = db_now_ns() + (int64_t)DB_BUSY_TIMEOUT_MS * 1000000;

    for (;;) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc;

        rc = sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0)
            return 0;
        if ((rc == SQLITE_ROW || (rc & 0xff) == SQLITE_BUSY) && db_now_ns() < deadline) {
            usleep(10000);
            continue;
        }
        if (rc == SQLITE_ROW)
            return err_val(err, EIO, "database `%s`: cannot switch to WAL (journal mode %s)",
                           db->path, (const char *)sqlite3_column_text(st, 0));
        return db_fail(db, err, "switch to WAL");
    }
}

int db_open(const char *state_root, struct db **out, struct err **err)
{
    _cleanup_free_ struct db *db = calloc(1, sizeof(*db));
    _cleanup_close_ int fd = -1;
    int rc;

    if (db == NULL || (db->root = strdup(state_root)) == NULL ||
        asprintf(&db->path, "%s/%s", state_root, DB_FILE) < 0) {
        if (db != NULL)
            free(db->root);
        return err_set(err, ENOMEM, "open the state database in `%s`", state_root);
    }
    if (fs_mkdir_p(state_root, 0700, err) < 0)
        goto fail;
    /* Created here so that it is 0600 whatever the umask (it holds the
     * containers' configs, environment included); SQLite gives the -wal and
     * -shm files the same mode. */
    fd = open(db->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_sys(err, "open `%s`", db->path);
        goto fail;
    }
    /* Closed before SQLite opens the file: closing any fd of a file drops
     * every POSIX lock this process holds on it, SQLite's included. */
    cleanup_closep(&fd);
    rc = sqlite3_open_v2(db->path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err_val(err, sqlite_errno(rc), "database `%s`: open: %s", db->path,
                db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(db->sql, 1);
    sqlite3_busy_timeout(db->sql, DB_BUSY_TIMEOUT_MS);
    /* The last connection to close would checkpoint the WAL into the file
     * and delete it (2 fsyncs), and the next writer create it again (2 more:
     * the WAL and its directory): with a CLI per command, that was every
     * command. The WAL stays instead, and the committing process checkpoints
     * it when it reaches DB_WAL_PAGES (PRAGMA wal_autocheckpoint below).
     * Committed rows are kept either way (synchronous = NORMAL, as before). */
    sqlite3_db_config(db->sql, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (db_exec(db, "PRAGMA foreign_keys = ON", "enable foreign keys", err) < 0 ||
        db_wal(db, err) < 0 ||
        db_exec(db, "PRAGMA synchronous = NORMAL", "set synchronous", err) < 0 ||
        /* Reads from a shared mapping of the file instead of a pread per
         * page: `ps` of 500 containers read ~1,250 pages (each row's config
         * spills into overflow pages). Writes still go through pwrite. */
        db_exec(db, "PRAGMA mmap_size = " DB_MMAP_SIZE, "set mmap_size", err) < 0 ||
        db_exec(db, "PRAGMA wal_autocheckpoint = " DB_WAL_PAGES, "set wal_autocheckpoint", err) <
            0 ||
        db_migrate(db, err) < 0)
        goto fail;
    *out = steal_ptr(&db);
    return 0;
fail:
    sqlite3_close(db->sql);
    free(db->root);
    free(db->path);
    return -1;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    sqlite3_close(db->sql);
    free(db->root);
    free(db->path);
    free(db);
}

const char *db_path(const struct db *db)
{
    return db->path;
}

/* ---- time, ids, names ---- */

int64_t db_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *db_time_format(int64_t ns, char buf[DB_TIME_LEN])
{
    time_t sec = (time_t)(ns / 1000000000);
    long frac = (long)(ns % 1000000000);
    struct tm tm;
    size_t n;

    if (ns <= 0 || gmtime_r(&sec, &tm) == NULL) {
        snprintf(buf, DB_TIME_LEN, "0001-01-01T00:00:00Z");
        return buf;
    }
    n = strftime(buf, DB_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac != 0) {
        n += (size_t)snprintf(buf + n, DB_TIME_LEN - n, ".%09ld", frac);
        while (buf[n - 1] == '0')
            n--;
    }
    snprintf(buf + n, DB_TIME_LEN - n, "Z");
    return buf;
}

static int random_bytes(void *buf, size_t len, struct err **err)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = getrandom((char *)buf + got, len - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_sys(err, "getrandom");
        got += (size_t)r;
    }
    return 0;
}

static bool is_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* 64 lowercase hex digits; as Docker, never one whose 12-digit short form is
 * all decimal digits (it would read as a number). */
int db_random_id(char id[DB_ID_LEN + 1], struct err **err)
{
    unsigned char b[DB_ID_LEN / 2];

    do {
        if (random_bytes(b, sizeof(b), err) < 0)
            return err_wrap(err, "generate an id");
        for (size_t i = 0; i < sizeof(b); i++)
            snprintf(id + 2 * i, 3, "%02x", b[i]);
    } while (strspn(id, "0123456789") >= 12);
    return 0;
}

int db_name_check(const char *name, const char *what, struct err **err)
{
    const char *n = name && name[0] == '/' ? name + 1 : name;
    bool okay = n != NULL && strlen(n) >= 2;

    for (size_t i = 0; okay && n[i]; i++) {
        char ch = n[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        okay = alnum || (i > 0 && (ch == '_' || ch == '.' || ch == '-'));
    }
    if (!okay)
        return err_val(err, EINVAL,
                       "invalid %s name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at "
                       "least two characters",
                       what, name ? name : "");
    return 0;
}

/* Generated names, adjective_surname as Docker's namesgenerator (a shorter list
 * of our own: 48 x 48 = 2304 names before the digit suffix). */
static const char *const name_left[] = {
    "admiring", "agitated",  "amazing",  "angry",   "awesome", "blissful",      "bold",
    "brave",    "busy",      "charming", "clever",  "cool",    "compassionate", "dazzling",
    "eager",    "elated",    "epic",     "festive", "focused", "friendly",      "funny",
    "gallant",  "gifted",    "happy",    "hopeful", "jolly",   "keen",          "kind",
    "laughing", "lucid",     "magical",  "modest",  "nifty",   "nostalgic",     "optimistic",
    "peaceful", "practical", "quirky",   "relaxed", "serene",  "sharp",         "stoic",
    "sweet",    "tender",    "trusting", "upbeat",  "vibrant", "zealous",
};
static const char *const name_right[] = {
    "babbage",  "bell",    "bohr",    "cerf",    "curie",    "darwin",   "dijkstra", "einstein",
    "euler",    "faraday", "fermat",  "feynman", "galileo",  "gauss",    "goodall",  "hamilton",
    "hopper",   "hypatia", "johnson", "kepler",  "knuth",    "lamport",  "leakey",   "liskov",
    "lovelace", "maxwell", "meitner", "mendel",  "newton",   "noether",  "pascal",   "pasteur",
    "planck",   "ritchie", "sagan",   "shannon", "sinoussi", "stallman", "tesla",    "thompson",
    "torvalds", "turing",  "volhard", "wiles",   "wing",     "wozniak",  "yalow",    "zhukovsky",
};

static int random_index(size_t n, size_t *out, struct err **err)
{
    uint32_t r;

    if (random_bytes(&r, sizeof(r), err) < 0)
        return -1;
    *out = r % n;
    return 0;
}

/* Docker's GetRandomName(retry): a digit is appended from the second try on. */
static int random_name(int retry, char **out, struct err **err)
{
    size_t l, r, d = 0;

    if (random_index(ARRAY_SIZE(name_left), &l, err) < 0 ||
        random_index(ARRAY_SIZE(name_right), &r, err) < 0 ||
        (retry > 0 && random_index(10, &d, err) < 0))
        return err_wrap(err, "generate a container name");
    if ((retry > 0 ? asprintf(out, "%s_%s%zu", name_left[l], name_right[r], d)
                   : asprintf(out, "%s_%s", name_left[l], name_right[r])) < 0)
        return err_set(err, ENOMEM, "generate a container name");
    return 0;
}

/* ---- containers ---- */

#define CONTAINER_COLUMNS                                                                       \
    "id, name, image_ref, image_id, config, created_ns, started_ns, finished_ns, status, pid, " \
    "monitor_pid, monitor_start_time, exit_code, oom_killed, restart_policy, "                  \
    "restart_max_retries, restart_count, labels, isolation, log_path, health"

/* CONTAINER_COLUMNS with `config` cut down by SQLite to what a listing shows
 * (db_container_list_brief): one JSON parse per row in SQLite's C, no 9 KB
 * string copied out and parsed again by the caller. */
#define CONTAINER_COLUMNS_BRIEF                                                            \
    "id, name, image_ref, image_id, "                                                      \
    "json_object('process', json_object('args', json_extract(config, '$.process.args')), " \
    "'annotations', json_extract(config, '$.annotations')), "                              \
    "created_ns, started_ns, finished_ns, status, pid, "                                   \
    "monitor_pid, monitor_start_time, exit_code, oom_killed, restart_policy, "             \
    "restart_max_retries, restart_count, labels, isolation, log_path, health"

static int container_from_row(struct db *db, sqlite3_stmt *st, struct db_container **out,
                              struct err **err)
{
    struct db_container *c = calloc(1, sizeof(*c));
    int status, restart, isolation, health;

    if (c == NULL)
        return err_set(err, ENOMEM, "read a container row");
    snprintf(c->id, sizeof(c->id), "%s", (const char *)sqlite3_column_text(st, 0));
    c->name = db_col_dup(st, 1);
    c->image_ref = db_col_dup(st, 2);
    c->image_id = db_col_dup(st, 3);
    c->config = db_col_dup(st, 4);
    c->created_ns = sqlite3_column_int64(st, 5);
    c->started_ns = sqlite3_column_int64(st, 6);
    c->finished_ns = sqlite3_column_int64(st, 7);
    status = db_status_parse((const char *)sqlite3_column_text(st, 8));
    c->pid = (pid_t)sqlite3_column_int64(st, 9);
    c->monitor_pid = (pid_t)sqlite3_column_int64(st, 10);
    c->monitor_start_time = (uint64_t)sqlite3_column_int64(st, 11);
    c->exit_code = sqlite3_column_int(st, 12);
    c->oom_killed = sqlite3_column_int(st, 13) != 0;
    restart = db_restart_parse((const char *)sqlite3_column_text(st, 14));
    c->restart_max_retries = sqlite3_column_int(st, 15);
    c->restart_count = sqlite3_column_int(st, 16);
    c->labels = db_col_dup(st, 17);
    isolation = db_isolation_parse((const char *)sqlite3_column_text(st, 18));
    c->log_path = db_col_dup(st, 19);
    health = db_health_parse((const char *)sqlite3_column_text(st, 20));
    if (!c->name || !c->image_ref || !c->image_id || !c->config || !c->labels || !c->log_path) {
        db_container_free(c);
        return err_set(err, ENOMEM, "read container %s", c->id);
    }
    if (status < 0 || restart < 0 || isolation < 0 || health < 0) {
        err_val(err, EIO,
                "database `%s`: container %s: unknown status, restart policy, "
                "isolation or health",
                db->path, c->id);
        db_container_free(c);
        return -1;
    }
    c->status = status;
    c->restart_policy = restart;
    c->isolation = isolation;
    c->health = health;
    *out = c;
    return 0;
}

/* One container by an exact column value; 0 and *out NULL when absent. */
int db_container_select(struct db *db, const char *column, const char *value,
                        struct db_container **out, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *sql = NULL;
    int rc;

    *out = NULL;
    if (asprintf(&sql, "SELECT " CONTAINER_COLUMNS " FROM containers WHERE %s = ?1", column) < 0)
        return err_set(err, ENOMEM, "look up container %s", value);
    if (db_prepare(db, sql, &st, err) < 0)
        return -1;
    db_bind_text(st, 1, value, "");
    rc = db_step(db, st, "look up a container", err);
    if (rc < 0)
        return err_wrap(err, "container %s", value);
    if (rc == SQLITE_DONE)
        return 0;
    return container_from_row(db, st, out, err);
}

/* The id of the container named `name`; 0 with owner[0] == 0 when free. */
static int name_owner(struct db *db, const char *name, char owner[DB_ID_LEN + 1], struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc;

    owner[0] = 0;
    if (db_prepare(db, "SELECT id FROM containers WHERE name = ?1", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, name, "");
    rc = db_step(db, st, "look up a container name", err);
    if (rc < 0)
        return -1;
    if (rc == SQLITE_ROW)
        snprintf(owner, DB_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    return 0;
}

static int name_taken(const char *name, const char *owner, struct err **err)
{
    return err_val(err, EEXIST, "container name \"/%s\" is already in use by container \"%s\"",
                   name, owner);
}

bool db_row_exists(struct db *db, const char *table, const char *column, const char *value,
                   int *rc_out, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *sql = NULL;
    int rc;

    *rc_out = -1;
    if (asprintf(&sql, "SELECT 1 FROM %s WHERE %s = ?1", table, column) < 0) {
        err_set(err, ENOMEM, "look up %s", value);
        return false;
    }
    if (db_prepare(db, sql, &st, err) < 0)
        return false;
    db_bind_text(st, 1, value, "");
    rc = db_step(db, st, "look up a row", err);
    if (rc < 0)
        return false;
    *rc_out = 0;
    return rc == SQLITE_ROW;
}

/* Pick a free generated name, as Docker's daemon does: one plain try, five
 * with a digit, then the 12-digit short id. Inside the insert's transaction. */
static int generate_name(struct db *db, const char *id, char **out, struct err **err)
{
    char owner[DB_ID_LEN + 1];

    for (int retry = 0; retry < 6; retry++) {
        _cleanup_free_ char *n = NULL;
        if (random_name(retry, &n, err) < 0 || name_owner(db, n, owner, err) < 0)
            return -1;
        if (owner[0] == 0) {
            *out = steal_ptr(&n);
            return 0;
        }
    }
    if ((*out = strndup(id, 12)) == NULL)
        return err_set(err, ENOMEM, "generate a container name");
    return 0;
}

int db_container_insert(struct db *db, const struct db_container *c, struct db_container **out,
                        struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ char *gen_name = NULL;
    const char *name = c->name;
    char id[DB_ID_LEN + 1], owner[DB_ID_LEN + 1];
    int rc;

    if (!db_status_name(c->status) || !db_restart_name(c->restart_policy) ||
        !db_isolation_name(c->isolation) || !db_health_name(c->health))
        return err_val(err, EINVAL,
                       "insert container: invalid status, restart policy, isolation "
                       "or health");
    if (c->id[0] != 0 && (strlen(c->id) != DB_ID_LEN || !is_hex(c->id, DB_ID_LEN)))
        return err_val(err, EINVAL,
                       "insert container: invalid id \"%s\": expected %d lowercase "
                       "hex digits",
                       c->id, DB_ID_LEN);
    if (name != NULL) {
        if (db_name_check(name, "container", err) < 0)
            return -1;
        if (name[0] == '/')
            name++;
    }
    if (db_txn_begin(db, &txn, err) < 0)
        return err_wrap(err, "insert container");
    if (c->id[0] != 0) {
        snprintf(id, sizeof(id), "%s", c->id);
        if (db_row_exists(db, "containers", "id", id, &rc, err))
            return err_val(err, EEXIST, "container id \"%s\" is already in use", id);
        if (rc < 0)
            return -1;
    } else {
        do {
            if (db_random_id(id, err) < 0)
                return -1;
            bool taken = db_row_exists(db, "containers", "id", id, &rc, err);
            if (rc < 0)
                return -1;
            if (!taken)
                break;
        } while (true);
    }
    if (name != NULL) {
        if (name_owner(db, name, owner, err) < 0)
            return -1;
        if (owner[0] != 0)
            return name_taken(name, owner, err);
    } else {
        if (generate_name(db, id, &gen_name, err) < 0)
            return -1;
        name = gen_name;
    }
    if (db_prepare(db,
                   "INSERT INTO containers (" CONTAINER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, "
                   "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
                   &st, err) < 0)
        return -1;
    db_bind_text(st, 1, id, "");
    db_bind_text(st, 2, name, "");
    db_bind_text(st, 3, c->image_ref, "");
    db_bind_text(st, 4, c->image_id, "");
    db_bind_text(st, 5, c->config, "{}");
    sqlite3_bind_int64(st, 6, c->created_ns ? c->created_ns : db_now_ns());
    sqlite3_bind_int64(st, 7, c->started_ns);
    sqlite3_bind_int64(st, 8, c->finished_ns);
    db_bind_text(st, 9, db_status_name(c->status), "");
    sqlite3_bind_int64(st, 10, c->pid);
    sqlite3_bind_int64(st, 11, c->monitor_pid);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)c->monitor_start_time);
    sqlite3_bind_int(st, 13, c->exit_code);
    sqlite3_bind_int(st, 14, c->oom_killed);
    db_bind_text(st, 15, db_restart_name(c->restart_policy), "");
    sqlite3_bind_int(st, 16, c->restart_max_retries);
    sqlite3_bind_int(st, 17, c->restart_count);
    db_bind_text(st, 18, c->labels, "{}");
    db_bind_text(st, 19, db_isolation_name(c->isolation), "");
    db_bind_text(st, 20, c->log_path, "");
    db_bind_text(st, 21, db_health_name(c->health), "");
    if (db_step(db, st, "insert container", err) < 0)
        return err_wrap(err, "container \"/%s\"", name);
    if (db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "insert container \"/%s\"", name);
    if (out == NULL)
        return 0;
    if (db_container_select(db, "id", id, out, err) < 0)
        return -1;
    if (*out == NULL)
        return err_val(err, ENOENT, "No such container: %s (removed right after its insert)", id);
    return 0;
}

int db_container_get(struct db *db, const char *ref, struct db_container **out, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    char found[3][DB_ID_LEN + 1];
    size_t len = ref ? strlen(ref) : 0;
    int n = 0, rc;

    *out = NULL;
    if (len == DB_ID_LEN && is_hex(ref, len)) {
        if (db_container_select(db, "id", ref, out, err) < 0)
            return -1;
        if (*out != NULL)
            return 0;
    }
    if (len > 0 && db_container_select(db, "name", ref[0] == '/' ? ref + 1 : ref, out, err) < 0)
        return -1;
    if (*out != NULL)
        return 0;
    if (len == 0 || len >= DB_ID_LEN || !is_hex(ref, len))
        return err_val(err, ENOENT, "No such container: %s", ref ? ref : "");
    /* A GLOB with a literal prefix (hex only: no metacharacters) uses the
     * primary key's index. */
    if (db_prepare(db, "SELECT id FROM containers WHERE id GLOB ?1 || '*' ORDER BY id LIMIT 3", &st,
                   err) < 0)
        return -1;
    db_bind_text(st, 1, ref, "");
    while ((rc = db_step(db, st, "look up a container id prefix", err)) == SQLITE_ROW)
        snprintf(found[n++], sizeof(found[0]), "%s", (const char *)sqlite3_column_text(st, 0));
    if (rc < 0)
        return -1;
    if (n == 0)
        return err_val(err, ENOENT, "No such container: %s", ref);
    if (n > 1)
        return err_val(err, ENOTUNIQ,
                       "container id prefix \"%s\" is ambiguous: it matches several containers "
                       "(%.12s, %.12s%s)",
                       ref, found[0], found[1], n > 2 ? ", ..." : "");
    if (db_container_select(db, "id", found[0], out, err) < 0)
        return -1;
    if (*out == NULL)
        return err_val(err, ENOENT, "No such container: %s", ref);
    return 0;
}

static int container_list(struct db *db, const char *sql, struct db_container ***out, size_t *n,
                          struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    struct db_container **v = NULL;
    size_t count = 0, cap = 0;
    int rc;

    if (db_prepare(db, sql, &st, err) < 0)
        return -1;
    while ((rc = db_step(db, st, "list containers", err)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            struct db_container **nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL) {
                db_container_list_free(v, count);
                return err_set(err, ENOMEM, "list containers");
            }
            v = nv;
        }
        if (container_from_row(db, st, &v[count], err) < 0) {
            db_container_list_free(v, count);
            return -1;
        }
        count++;
    }
    if (rc < 0) {
        db_container_list_free(v, count);
        return -1;
    }
    *out = v;
    *n = count;
    return 0;
}

int db_container_list(struct db *db, bool all, struct db_container ***out, size_t *n,
                      struct err **err)
{
    return container_list(db,
                          all ? "SELECT " CONTAINER_COLUMNS " FROM containers "
                                "ORDER BY created_ns DESC, rowid DESC"
                              : "SELECT " CONTAINER_COLUMNS " FROM containers WHERE status IN "
                                "('running', 'paused', 'restarting') "
                                "ORDER BY created_ns DESC, rowid DESC",
                          out, n, err);
}

int db_container_list_brief(struct db *db, bool all, struct db_container ***out, size_t *n,
                            struct err **err)
{
    return container_list(db,
                          all ? "SELECT " CONTAINER_COLUMNS_BRIEF " FROM containers "
                                "ORDER BY created_ns DESC, rowid DESC"
                              : "SELECT " CONTAINER_COLUMNS_BRIEF
                                " FROM containers WHERE status IN "
                                "('running', 'paused', 'restarting') "
                                "ORDER BY created_ns DESC, rowid DESC",
                          out, n, err);
}

int db_container_update(struct db *db, const struct db_container *c, unsigned fields,
                        struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;

    /* The statement below tests the DB_SET_* bits by value. */
    _Static_assert(DB_SET_STATUS == 1 && DB_SET_PID == 2 && DB_SET_MONITOR == 4 &&
                       DB_SET_EXIT == 8 && DB_SET_STARTED == 16 && DB_SET_FINISHED == 32 &&
                       DB_SET_RESTART_COUNT == 64 && DB_SET_HEALTH == 128,
                   "DB_SET_* values are spelled out in the UPDATE");
    if (((fields & DB_SET_STATUS) && !db_status_name(c->status)) ||
        ((fields & DB_SET_HEALTH) && !db_health_name(c->health)))
        return err_val(err, EINVAL, "update container %s: invalid status or health", c->id);
    if (db_prepare(db,
                   "UPDATE containers SET"
                   " status = CASE WHEN ?1 & 1 THEN ?2 ELSE status END,"
                   " pid = CASE WHEN ?1 & 2 THEN ?3 ELSE pid END,"
                   " monitor_pid = CASE WHEN ?1 & 4 THEN ?4 ELSE monitor_pid END,"
                   " monitor_start_time = CASE WHEN ?1 & 4 THEN ?5 ELSE monitor_start_time END,"
                   " exit_code = CASE WHEN ?1 & 8 THEN ?6 ELSE exit_code END,"
                   " oom_killed = CASE WHEN ?1 & 8 THEN ?7 ELSE oom_killed END,"
                   " started_ns = CASE WHEN ?1 & 16 THEN ?8 ELSE started_ns END,"
                   " finished_ns = CASE WHEN ?1 & 32 THEN ?9 ELSE finished_ns END,"
                   " restart_count = CASE WHEN ?1 & 64 THEN ?10 ELSE restart_count END,"
                   " health = CASE WHEN ?1 & 128 THEN ?11 ELSE health END"
                   " WHERE id = ?12",
                   &st, err) < 0)
        return -1;
    sqlite3_bind_int(st, 1, (int)fields);
    db_bind_text(st, 2, db_status_name(c->status), "created");
    sqlite3_bind_int64(st, 3, c->pid);
    sqlite3_bind_int64(st, 4, c->monitor_pid);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->monitor_start_time);
    sqlite3_bind_int(st, 6, c->exit_code);
    sqlite3_bind_int(st, 7, c->oom_killed);
    sqlite3_bind_int64(st, 8, c->started_ns);
    sqlite3_bind_int64(st, 9, c->finished_ns);
    sqlite3_bind_int(st, 10, c->restart_count);
    db_bind_text(st, 11, db_health_name(c->health), "none");
    db_bind_text(st, 12, c->id, "");
    if (db_step(db, st, "update container", err) < 0)
        return err_wrap(err, "container %s", c->id);
    if (sqlite3_changes(db->sql) == 0)
        return err_val(err, ENOENT, "No such container: %s", c->id);
    return 0;
}

int db_container_rename(struct db *db, const char *id, const char *new_name, struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_db_container_ struct db_container *c = NULL;
    char owner[DB_ID_LEN + 1];
    const char *name;

    if (db_name_check(new_name, "container", err) < 0)
        return -1;
    name = new_name[0] == '/' ? new_name + 1 : new_name;
    if (db_txn_begin(db, &txn, err) < 0 || db_container_select(db, "id", id, &c, err) < 0)
        return err_wrap(err, "rename container %s", id);
    if (c == NULL)
        return err_val(err, ENOENT, "No such container: %s", id);
    if (strcmp(c->name, name) == 0)
        return err_val(err, EINVAL,
                       "rename container %s: \"/%s\" is already its name (nothing to rename)", id,
                       name);
    if (name_owner(db, name, owner, err) < 0)
        return -1;
    if (owner[0] != 0)
        return name_taken(name, owner, err);
    if (db_prepare(db, "UPDATE containers SET name = ?1 WHERE id = ?2", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, name, "");
    db_bind_text(st, 2, id, "");
    if (db_step(db, st, "rename container", err) < 0 || db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "rename container %s to \"/%s\"", id, name);
    return 0;
}

int db_container_delete(struct db *db, const char *id, struct err **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;

    if (db_prepare(db, "DELETE FROM containers WHERE id = ?1", &st, err) < 0)
        return -1;
    db_bind_text(st, 1, id, "");
    if (db_step(db, st, "delete container", err) < 0)
        return err_wrap(err, "container %s", id);
    if (sqlite3_changes(db->sql) == 0)
        return err_val(err, ENOENT, "No such container: %s", id);
    return 0;
}

void db_container_free(struct db_container *c)
{
    if (c == NULL)
        return;
    free(c->name);
    free(c->image_ref);
    free(c->image_id);
    free(c->config);
    free(c->labels);
    free(c->log_path);
    free(c);
}

void db_container_list_free(struct db_container **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        db_container_free(v[i]);
    free(v);
}
