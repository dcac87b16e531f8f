/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's persistent state: containers (workloads), volumes, which
 * containers use which volume, and claims on host resources, in one SQLite
 * database at <state_root>/isola.db (docs/engine.md, "State").
 *
 * Many CLIs may run at once: every process opens its own connection (never
 * carry a struct db across fork(); one thread at a time uses a struct db),
 * writes run in BEGIN IMMEDIATE transactions
 * and waits for the database lock are bounded by busy_timeout, so callers never
 * see SQLITE_BUSY unless another process holds the lock for DB_BUSY_TIMEOUT_MS.
 *
 * Timestamps are nanoseconds since the epoch (UTC), 0 for "never";
 * db_time_format() prints them as Docker does.
 */
#ifndef ISOLA_ENGINE_DB_H
#define ISOLA_ENGINE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define DB_FILE            "isola.db"
#define DB_BUSY_TIMEOUT_MS 30000
#define DB_ID_LEN          64
/* "2006-01-02T15:04:05.999999999Z" plus NUL */
#define DB_TIME_LEN 31

struct db;

enum db_status {
    DB_STATUS_CREATED,
    DB_STATUS_RUNNING,
    DB_STATUS_PAUSED,
    DB_STATUS_RESTARTING,
    DB_STATUS_EXITED,
    DB_STATUS_DEAD,
    DB_STATUS_REMOVING,
};

/* Where the workload's processes live: this host's kernel, a container inside a
 * microVM, or a whole VM. */
enum db_isolation {
    DB_ISOLATION_LINUX,
    DB_ISOLATION_MICROVM,
    DB_ISOLATION_VM,
};

enum db_restart {
    DB_RESTART_NO,
    DB_RESTART_ON_FAILURE,
    DB_RESTART_ALWAYS,
    DB_RESTART_UNLESS_STOPPED,
};

enum db_health {
    DB_HEALTH_NONE, /* no health check configured */
    DB_HEALTH_STARTING,
    DB_HEALTH_HEALTHY,
    DB_HEALTH_UNHEALTHY,
};

/* Docker's words for each value ("running", "microvm", "on-failure",
 * "healthy"); *_parse() returns -1 for an unknown word. */
const char *db_status_name(enum db_status s);
int db_status_parse(const char *s);
const char *db_isolation_name(enum db_isolation i);
int db_isolation_parse(const char *s);
const char *db_restart_name(enum db_restart r);
int db_restart_parse(const char *s);
const char *db_health_name(enum db_health h);
int db_health_parse(const char *s);

/* One container row. Strings are owned by the struct when it comes from this
 * module (db_container_free); for db_container_insert() they are the caller's. */
struct db_container {
    char id[DB_ID_LEN + 1];
    char *name; /* without Docker's leading "/" */
    char *image_ref;
    char *image_id;
    char *config; /* the composed OCI config.json */
    int64_t created_ns, started_ns, finished_ns;
    enum db_status status;
    pid_t pid;                   /* the workload's init, 0 when none */
    pid_t monitor_pid;           /* 0 when no monitor */
    uint64_t monitor_start_time; /* /proc/PID/stat field 22 of monitor_pid */
    int exit_code;
    bool oom_killed;
    enum db_restart restart_policy;
    int restart_max_retries; /* on-failure:N, 0 = unlimited */
    int restart_count;
    char *labels; /* JSON object, NULL = {} */
    enum db_isolation isolation;
    char *log_path;
    enum db_health health;
};

/* The fields that db_container_update() writes, or-ed together. */
enum {
    DB_SET_STATUS = 1 << 0,
    DB_SET_PID = 1 << 1,
    DB_SET_MONITOR = 1 << 2, /* monitor_pid and monitor_start_time */
    DB_SET_EXIT = 1 << 3,    /* exit_code and oom_killed */
    DB_SET_STARTED = 1 << 4,
    DB_SET_FINISHED = 1 << 5,
    DB_SET_RESTART_COUNT = 1 << 6,
    DB_SET_HEALTH = 1 << 7,
};

struct db_volume {
    char *name;
    char *driver;  /* "local" when NULL on create */
    char *options; /* JSON object of the driver's options, NULL = {} */
    char *labels;  /* JSON object, NULL = {} */
    int64_t created_ns;
    char *mountpoint; /* <state_root>/volumes/NAME/_data when NULL on create */
    bool anonymous;   /* created without a name (its name is 64 hex digits) */
};

/* Open (creating it and <state_root> when missing) and upgrade the database.
 * The library reads no environment: front ends pass /var/lib/isola, --root or
 * ISOLA_ROOT. */
int db_open(const char *state_root, struct db **out, struct err **err);
void db_close(struct db *db);
const char *db_path(const struct db *db);

/* Current time, and Docker's RFC 3339 text for it: UTC, nanoseconds with
 * trailing zeros trimmed (Go's RFC3339Nano), "0001-01-01T00:00:00Z" for 0. */
int64_t db_now_ns(void);
const char *db_time_format(int64_t ns, char buf[DB_TIME_LEN]);

/* Docker's name grammar [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at least two characters);
 * a leading "/" is accepted and not part of the name. */
int db_name_check(const char *name, const char *what, struct err **err);

/*
 * Insert a container. An empty c->id gets 64 random hex digits, a NULL
 * c->name a generated adjective_surname name, created_ns 0 the current time.
 * A taken name fails with EEXIST: `container name "/web" is already in use by
 * container "ID"`. *out (caller frees with db_container_free) is the row as
 * stored.
 */
int db_container_insert(struct db *db, const struct db_container *c, struct db_container **out,
                        struct err **err);

/* Look a container up by full id, then by name (with or without "/"), then by
 * unique id prefix, as Docker does. ENOENT: "No such container: REF";
 * ENOTUNIQ when a prefix matches several. */
int db_container_get(struct db *db, const char *ref, struct db_container **out, struct err **err);

/* All containers (or only running, paused and restarting ones), newest first. */
int db_container_list(struct db *db, bool all, struct db_container ***out, size_t *n,
                      struct err **err);
/* The same rows with `config` cut down to what a listing shows,
 * {"process":{"args":[...]},"annotations":{...}} (null where the config has
 * none): `ps` of many containers without reading and parsing every composed
 * config. */
int db_container_list_brief(struct db *db, bool all, struct db_container ***out, size_t *n,
                            struct err **err);

/* Write the fields named in `fields` (DB_SET_*) from c to the row with id c->id,
 * in one statement. ENOENT for an unknown id. */
int db_container_update(struct db *db, const struct db_container *c, unsigned fields,
                        struct err **err);

int db_container_rename(struct db *db, const char *id, const char *new_name, struct err **err);

/* Replace the row's composed config.json (db_config.c). ENOENT for an unknown id. */
int db_container_set_config(struct db *db, const char *id, const char *config, struct err **err);

/* Write status, pid, monitor, exit, finished and restart count from c, only
 * while the row still names the monitor (monitor_pid, monitor_start_time) the
 * caller judged by (db_config.c): a monitor started meanwhile by another
 * process is never overwritten. *changed says whether the row was written. */
int db_container_sync_run(struct db *db, const struct db_container *c, pid_t monitor_pid,
                          uint64_t monitor_start_time, bool *changed, struct err **err);

/* Delete the row; its volume uses and claims go with it. */
int db_container_delete(struct db *db, const char *id, struct err **err);

void db_container_free(struct db_container *c);
void db_container_list_free(struct db_container **v, size_t n);
static inline void db_container_freep(struct db_container **c)
{
    db_container_free(*c);
    *c = NULL;
}
#define _cleanup_db_container_ __attribute__((cleanup(db_container_freep)))

/*
 * Liveness after a host reboot or a killed monitor: true when c's monitor
 * process exists, is not a zombie, and started at c->monitor_start_time (so a
 * recycled pid is never taken for the monitor).
 */
bool db_container_monitor_alive(const struct db_container *c);

/* /proc/PID/stat field 22 (start time in clock ticks after boot). */
int db_proc_start_time(pid_t pid, uint64_t *out, struct err **err);

/*
 * If c is running, paused or restarting but its monitor is gone, mark it
 * exited (exit code 255: the real status died with the monitor; pid and
 * monitor cleared, finished now), unless another process changed the row
 * meanwhile (a new monitor).
 * c is refreshed from the database; *changed says whether this call wrote.
 */
int db_container_check_monitor(struct db *db, struct db_container *c, bool *changed,
                               struct err **err);

/* Volumes. A NULL v->name creates an anonymous volume with a 64-hex name.
 * EEXIST for a taken name (the front end decides whether that is Docker's
 * idempotent `volume create`). */
int db_volume_create(struct db *db, const struct db_volume *v, struct db_volume **out,
                     struct err **err);
int db_volume_get(struct db *db, const char *name, struct db_volume **out, struct err **err);
int db_volume_list(struct db *db, struct db_volume ***out, size_t *n, struct err **err);
/* EBUSY while a container uses it: `remove volume "NAME": volume is in use by
 * container "ID"`. */
int db_volume_remove(struct db *db, const char *name, struct err **err);
/* Remove unused volumes (only anonymous ones unless `all`, as Docker 23+);
 * *removed (optional, strv_free) lists their names for the caller to delete. */
int db_volume_prune(struct db *db, bool all, char ***removed, struct err **err);
/* Record that container `id` uses volume `name` (idempotent). */
int db_volume_use(struct db *db, const char *name, const char *id, struct err **err);
/* Forget that container `id` uses volume `name` (no such use: success);
 * *remaining (optional) is how many containers still use it. */
int db_volume_unuse(struct db *db, const char *name, const char *id, int *remaining,
                    struct err **err);
/* ", "-joined ids of the containers using volume `name`, "" when none. */
int db_volume_users(struct db *db, const char *name, char **users, struct err **err);
void db_volume_free(struct db_volume *v);
void db_volume_list_free(struct db_volume **v, size_t n);
static inline void db_volume_freep(struct db_volume **v)
{
    db_volume_free(*v);
    *v = NULL;
}
#define _cleanup_db_volume_ __attribute__((cleanup(db_volume_freep)))

/* Claims on resources that must never be given out twice (kind "port", key
 * "tcp/0.0.0.0:8080"). EEXIST when held: `port "tcp/0.0.0.0:8080" is already
 * claimed by container "ID"`. A container's claims go when its row does. */
int db_claim_add(struct db *db, const char *kind, const char *key, const char *owner_id,
                 struct err **err);
/* ENOENT when nobody holds it. */
int db_claim_release(struct db *db, const char *kind, const char *key, struct err **err);
/* *owner (caller frees) is the holder's id, or NULL when free. */
int db_claim_owner(struct db *db, const char *kind, const char *key, char **owner,
                   struct err **err);

#endif
