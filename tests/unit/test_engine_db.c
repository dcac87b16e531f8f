/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's state database (src/engine/db.h): every call, its errors, a
 * schema upgrade, liveness of monitors, and 50 processes writing at once. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/db.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

static char root[] = "/tmp/isola-test-engine-db-XXXXXX";

static char *sub(const char *name)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", root, name) < 0)
        abort();
    return p;
}

/* A value from the database file through a connection of our own. */
static char *raw_query(const char *dir, const char *sql)
{
    _cleanup_free_ char *path = NULL;
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;

    if (asprintf(&path, "%s/isola.db", dir) < 0)
        abort();
    if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(s, 30000) == SQLITE_OK &&
        sqlite3_prepare_v2(s, sql, -1, &st, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            out = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
                                                    : "NULL");
        else if (rc == SQLITE_DONE)
            out = strdup("DONE");
        else
            out = strdup(sqlite3_errmsg(s));
    } else if (s != NULL) {
        out = strdup(sqlite3_errmsg(s));
    }
    sqlite3_finalize(st);
    sqlite3_close(s);
    return out;
}

static struct db_container *insert(struct db *db, const char *name, const char *id)
{
    struct db_container c = {.name = (char *)name, .image_ref = (char *)"busybox:latest"};
    struct db_container *out = NULL;
    struct err *e = NULL;

    if (id != NULL)
        snprintf(c.id, sizeof(c.id), "%s", id);
    if (db_container_insert(db, &c, &out, &e) < 0) {
        printf("# insert %s: %s\n", name ? name : "(generated)", e->msg);
        err_free(&e);
    }
    return out;
}

static void test_time_and_names(void)
{
    char buf[DB_TIME_LEN];
    struct err *e = NULL;

    is_str(db_time_format(0, buf), "0001-01-01T00:00:00Z", "time 0 is Go's zero time, as Docker");
    is_str(db_time_format(1700000000123456789LL, buf), "2023-11-14T22:13:20.123456789Z",
           "time with nanoseconds");
    is_str(db_time_format(1700000000120000000LL, buf), "2023-11-14T22:13:20.12Z",
           "trailing zeros trimmed (RFC3339Nano)");
    is_str(db_time_format(1700000000000000000LL, buf), "2023-11-14T22:13:20Z",
           "whole second: no fraction");
    ok(db_name_check("web", "container", NULL) == 0, "name web is valid");
    ok(db_name_check("/web", "container", NULL) == 0, "name /web is valid");
    ok(db_name_check("x-1.2_3", "container", NULL) == 0, "name x-1.2_3 is valid");
    ok(db_name_check("a", "container", &e) < 0 && e && e->code == EINVAL,
       "one-character name refused (Docker's grammar needs two)");
    is_str(e ? e->msg : NULL,
           "invalid container name \"a\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least "
           "two characters",
           "invalid name message names it");
    err_free(&e);
    ok(db_name_check("_web", "container", NULL) < 0, "leading _ refused");
    ok(db_name_check("we b", "container", NULL) < 0, "space refused");
    ok(db_name_check("", "container", NULL) < 0, "empty refused");
    is_str(db_status_name(DB_STATUS_RESTARTING), "restarting", "status name");
    ok(db_isolation_parse("microvm") == DB_ISOLATION_MICROVM, "isolation parse");
    ok(db_restart_parse("unless-stopped") == DB_RESTART_UNLESS_STOPPED, "restart parse");
    ok(db_health_parse("bogus") == -1, "unknown health word");
}

static bool fds_cloexec(const char *dbpath)
{
    _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int seen = 0;

    while (d != NULL && (de = readdir(d)) != NULL) {
        char link[300], target[4096];
        int fd = atoi(de->d_name);
        snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strncmp(target, dbpath, strlen(dbpath)) != 0)
            continue;
        seen++;
        if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
            return false;
    }
    return seen > 0;
}

static void test_open(struct db *db, const char *dir)
{
    _cleanup_free_ char *path = NULL, *mode = NULL, *version = NULL;
    struct stat st;

    if (asprintf(&path, "%s/isola.db", dir) < 0)
        abort();
    is_str(db_path(db), path, "database at <state_root>/isola.db");
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "database file is 0600");
    for (size_t i = 0; i < 2; i++) {
        _cleanup_free_ char *side = NULL;
        if (asprintf(&side, "%s%s", path, i ? "-shm" : "-wal") < 0)
            abort();
        ok(stat(side, &st) == 0 && (st.st_mode & 0777) == 0600, "%s is 0600 too",
           i ? "-shm" : "-wal");
    }
    mode = raw_query(dir, "PRAGMA journal_mode");
    is_str(mode, "wal", "WAL mode");
    version = raw_query(dir, "PRAGMA user_version");
    is_str(version, "3", "schema version 3");
    ok(fds_cloexec(path), "every fd on the database is close-on-exec");
}

static void test_containers(struct db *db)
{
    _cleanup_db_container_ struct db_container *web = NULL, *gen = NULL, *got = NULL;
    _cleanup_db_container_ struct db_container *a1 = NULL, *a2 = NULL;
    struct db_container **list = NULL;
    struct err *e = NULL;
    char msg[256];
    size_t n = 0;

    web = insert(db, "web", NULL);
    ok(web != NULL, "insert web");
    if (web == NULL)
        return;
    ok(strlen(web->id) == 64 && strspn(web->id, "0123456789abcdef") == 64, "id is 64 hex digits");
    is_str(web->name, "web", "name stored without /");
    is_str(web->image_ref, "busybox:latest", "image reference stored");
    ok(web->status == DB_STATUS_CREATED && web->created_ns > 0 && web->started_ns == 0,
       "status created, created time set, never started");
    is_str(web->labels, "{}", "labels default {}");
    ok(web->isolation == DB_ISOLATION_LINUX && web->restart_policy == DB_RESTART_NO,
       "isolation linux, restart no");

    ok(insert(db, "/web", NULL) == NULL, "second /web refused");
    struct db_container dup = {.name = (char *)"web"};
    ok(db_container_insert(db, &dup, &got, &e) < 0 && e && e->code == EEXIST, "taken name: EEXIST");
    snprintf(msg, sizeof(msg), "container name \"/web\" is already in use by container \"%s\"",
             web->id);
    is_str(e ? e->msg : NULL, msg, "taken name message as Docker's");
    err_free(&e);

    struct db_container bad = {.name = (char *)"badcfg", .config = (char *)"{not json"};
    ok(db_container_insert(db, &bad, &got, &e) < 0 && e && e->code == EINVAL,
       "invalid config JSON refused by the schema");
    printf("# %s\n", e ? e->msg : "");
    err_free(&e);

    gen = insert(db, NULL, NULL);
    ok(gen != NULL && strchr(gen->name, '_') != NULL && db_name_check(gen->name, "c", NULL) == 0,
       "generated name %s is adjective_surname", gen ? gen->name : "");

    a1 = insert(db, "a-one", "abc1000000000000000000000000000000000000000000000000000000000000");
    a2 = insert(db, "a-two", "abc2000000000000000000000000000000000000000000000000000000000000");
    ok(a1 && a2, "insert with given ids");
    ok(insert(db, "a-three", "abc1000000000000000000000000000000000000000000000000000000000000") ==
           NULL,
       "taken id refused");

    ok(db_container_get(db, web->id, &got, &e) == 0 && got && strcmp(got->name, "web") == 0,
       "get by full id");
    db_container_free(got);
    got = NULL;
    ok(db_container_get(db, "/web", &got, &e) == 0 && got && strcmp(got->id, web->id) == 0,
       "get by /name");
    db_container_free(got);
    got = NULL;
    ok(db_container_get(db, "abc1", &got, &e) == 0 && got && strcmp(got->name, "a-one") == 0,
       "get by unique prefix");
    db_container_free(got);
    got = NULL;
    ok(db_container_get(db, "abc", &got, &e) < 0 && e && e->code == ENOTUNIQ && got == NULL,
       "ambiguous prefix: ENOTUNIQ");
    is_str(e ? e->msg : NULL,
           "container id prefix \"abc\" is ambiguous: it matches several containers "
           "(abc100000000, abc200000000)",
           "ambiguous prefix message lists the matches");
    err_free(&e);
    ok(db_container_get(db, "nope", &got, &e) < 0 && e && e->code == ENOENT,
       "unknown name: ENOENT");
    is_str(e ? e->msg : NULL, "No such container: nope", "unknown message as Docker's");
    err_free(&e);
    ok(db_container_get(db, "fff", &got, &e) < 0 && e && e->code == ENOENT, "unknown prefix");
    err_free(&e);
    ok(db_container_get(db, "", &got, &e) < 0 && e && e->code == ENOENT, "empty reference");
    err_free(&e);

    ok(db_container_list(db, true, &list, &n, &e) == 0 && n == 4, "list all: 4");
    ok(n == 4 && strcmp(list[0]->id, a2->id) == 0 && strcmp(list[3]->id, web->id) == 0,
       "newest first");
    db_container_list_free(list, n);
    ok(db_container_list(db, false, &list, &n, &e) == 0 && n == 0, "list running: 0");
    db_container_list_free(list, n);

    /* the brief listing: the same rows, config cut to args and annotations */
    ok(db_container_set_config(db, a1->id,
                               "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\","
                               "\"x\"],\"env\":[\"A=1\"]},\"annotations\":{\"k\":\"v\"}}",
                               &e) == 0,
       "set a config");
    ok(db_container_list_brief(db, true, &list, &n, &e) == 0 && n == 4 &&
           strcmp(list[0]->id, a2->id) == 0 && strcmp(list[3]->id, web->id) == 0,
       "brief list all: 4, newest first");
    is_str(n == 4 ? list[1]->config : NULL,
           "{\"process\":{\"args\":[\"sh\",\"-c\",\"x\"]},\"annotations\":{\"k\":\"v\"}}",
           "brief config: args and annotations only");
    is_str(n == 4 ? list[0]->config : NULL, "{\"process\":{\"args\":null},\"annotations\":null}",
           "brief config of an empty config: nulls");
    ok(n == 4 && strcmp(list[1]->name, "a-one") == 0 && list[1]->status == DB_STATUS_CREATED &&
           list[1]->created_ns == a1->created_ns &&
           strcmp(list[1]->image_ref, "busybox:latest") == 0,
       "brief rows keep the other columns");
    db_container_list_free(list, n);
    ok(db_container_list_brief(db, false, &list, &n, &e) == 0 && n == 0, "brief list running: 0");
    db_container_list_free(list, n);

    struct db_container upd = *web;
    upd.status = DB_STATUS_RUNNING;
    upd.pid = 4242;
    upd.monitor_pid = 4241;
    upd.monitor_start_time = 77;
    upd.started_ns = 1700000000000000001LL;
    upd.exit_code = 9; /* not written: DB_SET_EXIT not given */
    upd.health = DB_HEALTH_STARTING;
    ok(db_container_update(
           db, &upd, DB_SET_STATUS | DB_SET_PID | DB_SET_MONITOR | DB_SET_STARTED | DB_SET_HEALTH,
           &e) == 0,
       "update status, pid, monitor, started, health");
    ok(db_container_get(db, web->id, &got, &e) == 0 && got->status == DB_STATUS_RUNNING &&
           got->pid == 4242 && got->monitor_pid == 4241 && got->monitor_start_time == 77 &&
           got->started_ns == 1700000000000000001LL && got->health == DB_HEALTH_STARTING,
       "updated fields read back");
    ok(got && got->exit_code == 0 && got->finished_ns == 0, "fields not named are unchanged");
    db_container_free(got);
    got = NULL;
    ok(db_container_list(db, false, &list, &n, &e) == 0 && n == 1 &&
           strcmp(list[0]->id, web->id) == 0,
       "list running: web");
    db_container_list_free(list, n);
    upd.status = DB_STATUS_EXITED;
    upd.exit_code = 137;
    upd.oom_killed = true;
    upd.finished_ns = 1700000000000000002LL;
    upd.pid = 0;
    ok(db_container_update(db, &upd, DB_SET_STATUS | DB_SET_EXIT | DB_SET_FINISHED | DB_SET_PID,
                           &e) == 0 &&
           db_container_get(db, "web", &got, &e) == 0 && got->exit_code == 137 && got->oom_killed &&
           got->status == DB_STATUS_EXITED && got->pid == 0,
       "exit code and OOM flag in one update");
    db_container_free(got);
    got = NULL;
    struct db_container ghost = {
        .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
    ok(db_container_update(db, &ghost, DB_SET_STATUS, &e) < 0 && e && e->code == ENOENT,
       "update unknown id: ENOENT");
    err_free(&e);

    ok(db_container_rename(db, web->id, "/frontend", &e) == 0, "rename web to frontend");
    ok(db_container_get(db, "frontend", &got, &e) == 0 && strcmp(got->id, web->id) == 0,
       "found by its new name");
    db_container_free(got);
    got = NULL;
    ok(db_container_get(db, "web", &got, &e) < 0 && e->code == ENOENT, "old name is free");
    err_free(&e);
    ok(db_container_rename(db, web->id, "a-one", &e) < 0 && e && e->code == EEXIST,
       "rename to a taken name: EEXIST");
    snprintf(msg, sizeof(msg), "container name \"/a-one\" is already in use by container \"%s\"",
             a1->id);
    is_str(e ? e->msg : NULL, msg, "rename conflict names the holder");
    err_free(&e);
    ok(db_container_rename(db, ghost.id, "ghosty", &e) < 0 && e && e->code == ENOENT,
       "rename unknown: ENOENT");
    err_free(&e);
    ok(db_container_rename(db, web->id, "!", &e) < 0 && e && e->code == EINVAL,
       "rename to an invalid name");
    err_free(&e);

    ok(db_container_delete(db, a2->id, &e) == 0, "delete");
    ok(db_container_get(db, a2->id, &got, &e) < 0 && e->code == ENOENT, "deleted row is gone");
    err_free(&e);
    ok(db_container_delete(db, a2->id, &e) < 0 && e && e->code == ENOENT, "delete again: ENOENT");
    err_free(&e);
    ok(db_container_get(db, "abc", &got, &e) == 0 && strcmp(got->id, a1->id) == 0,
       "prefix abc is unique again");
    db_container_free(got);
    got = NULL;
}

static void test_volumes_claims(struct db *db, const char *dir)
{
    _cleanup_db_container_ struct db_container *c1 = insert(db, "vol-user", NULL);
    _cleanup_db_container_ struct db_container *c2 = insert(db, "port-user", NULL);
    _cleanup_db_volume_ struct db_volume *data = NULL, *anon = NULL, *got = NULL;
    _cleanup_free_ char *mp = NULL, *raw = NULL, *owner = NULL;
    struct db_volume **vols = NULL;
    _cleanup_strv_ char **pruned = NULL;
    struct err *e = NULL;
    char msg[256];
    size_t n = 0;

    if (!c1 || !c2)
        return;
    struct db_volume v = {.name = (char *)"data", .labels = (char *)"{\"a\":\"b\"}"};
    ok(db_volume_create(db, &v, &data, &e) == 0 && data, "create volume data");
    if (asprintf(&mp, "%s/volumes/data/_data", dir) < 0)
        abort();
    is_str(data ? data->mountpoint : NULL, mp, "mountpoint under the state root");
    is_str(data ? data->driver : NULL, "local", "driver local");
    ok(data && !data->anonymous && data->created_ns > 0, "named, created now");
    ok(db_volume_create(db, &v, &got, &e) < 0 && e && e->code == EEXIST, "create again: EEXIST");
    is_str(e ? e->msg : NULL, "volume \"data\" already exists", "message names the volume");
    err_free(&e);
    struct db_volume badv = {.name = (char *)"x"};
    ok(db_volume_create(db, &badv, &got, &e) < 0 && e && e->code == EINVAL, "invalid volume name");
    err_free(&e);
    badv.name = (char *)"/data2";
    ok(db_volume_create(db, &badv, &got, &e) < 0 && e && e->code == EINVAL,
       "a volume name takes no leading /");
    err_free(&e);
    struct db_volume av = {0};
    ok(db_volume_create(db, &av, &anon, &e) == 0 && anon && strlen(anon->name) == 64 &&
           anon->anonymous,
       "anonymous volume gets a 64-hex name");
    ok(db_volume_get(db, "data", &got, &e) == 0 && strcmp(got->labels, "{\"a\":\"b\"}") == 0,
       "get volume");
    db_volume_free(got);
    got = NULL;
    ok(db_volume_get(db, "nope", &got, &e) < 0 && e && e->code == ENOENT, "get unknown volume");
    is_str(e ? e->msg : NULL, "No such volume: nope", "unknown volume message");
    err_free(&e);
    ok(db_volume_list(db, &vols, &n, &e) == 0 && n == 2, "list volumes: 2");
    db_volume_list_free(vols, n);

    ok(db_volume_use(db, "data", c1->id, &e) == 0, "vol-user uses data");
    ok(db_volume_use(db, "data", c1->id, &e) == 0, "use again is idempotent");
    ok(db_volume_use(db, "nope", c1->id, &e) < 0 && e && e->code == ENOENT, "use unknown volume");
    err_free(&e);
    ok(db_volume_use(db, "data", "ffff", &e) < 0 && e && e->code == ENOENT,
       "use by unknown container");
    err_free(&e);
    ok(db_volume_remove(db, "data", &e) < 0 && e && e->code == EBUSY, "volume in use: EBUSY");
    snprintf(msg, sizeof(msg), "remove volume \"data\": volume is in use by container \"%s\"",
             c1->id);
    is_str(e ? e->msg : NULL, msg, "in-use message names the container");
    err_free(&e);
    /* The foreign key holds even for a statement that skips the API. */
    raw = raw_query(dir, "PRAGMA foreign_keys = ON; DELETE FROM volumes WHERE name = 'data'");
    free(raw);
    raw = raw_query(dir, "SELECT count(*) FROM volumes WHERE name = 'data'");
    is_str(raw, "1", "schema's foreign key keeps a volume in use");
    free(raw);
    raw = NULL;

    ok(db_volume_prune(db, false, &pruned, &e) == 0 && pruned && pruned[0] && !pruned[1] &&
           strcmp(pruned[0], anon->name) == 0,
       "prune removes the unused anonymous volume only");
    strv_free(pruned);
    pruned = NULL;
    ok(db_volume_prune(db, true, &pruned, &e) == 0 && pruned && pruned[0] == NULL,
       "prune --all keeps the volume in use");
    strv_free(pruned);
    pruned = NULL;

    ok(db_claim_add(db, "port", "tcp/0.0.0.0:8080", c2->id, &e) == 0, "claim port 8080");
    ok(db_claim_add(db, "port", "tcp/0.0.0.0:8080", c2->id, &e) == 0, "same owner again: ok");
    ok(db_claim_add(db, "port", "tcp/0.0.0.0:8080", c1->id, &e) < 0 && e && e->code == EEXIST,
       "claimed by another: EEXIST");
    snprintf(msg, sizeof(msg), "port \"tcp/0.0.0.0:8080\" is already claimed by container \"%s\"",
             c2->id);
    is_str(e ? e->msg : NULL, msg, "claim conflict names the holder");
    err_free(&e);
    ok(db_claim_add(db, "port", "tcp/0.0.0.0:9090", "ffff", &e) < 0 && e && e->code == ENOENT,
       "claim for unknown container");
    err_free(&e);
    ok(db_claim_owner(db, "port", "tcp/0.0.0.0:8080", &owner, &e) == 0 && owner &&
           strcmp(owner, c2->id) == 0,
       "claim owner");
    free(owner);
    owner = NULL;
    ok(db_claim_release(db, "port", "tcp/0.0.0.0:8080", &e) == 0 &&
           db_claim_owner(db, "port", "tcp/0.0.0.0:8080", &owner, &e) == 0 && owner == NULL,
       "release frees it");
    ok(db_claim_release(db, "port", "tcp/0.0.0.0:8080", &e) < 0 && e && e->code == ENOENT,
       "release unclaimed: ENOENT");
    err_free(&e);
    ok(db_claim_add(db, "port", "tcp/0.0.0.0:8080", c2->id, &e) == 0 &&
           db_container_delete(db, c2->id, &e) == 0 &&
           db_claim_owner(db, "port", "tcp/0.0.0.0:8080", &owner, &e) == 0 && owner == NULL,
       "a container's claims go with its row");

    ok(db_container_delete(db, c1->id, &e) == 0 && db_volume_remove(db, "data", &e) == 0,
       "volume removable once its user is deleted");
    ok(db_volume_remove(db, "data", &e) < 0 && e && e->code == ENOENT, "remove again: ENOENT");
    err_free(&e);
}

static void test_liveness(struct db *db)
{
    _cleanup_db_container_ struct db_container *c = insert(db, "monitored", NULL);
    struct err *e = NULL;
    uint64_t start = 0;
    bool changed = true;
    pid_t child;

    if (c == NULL)
        return;
    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    ok(db_proc_start_time(child, &start, &e) == 0 && start > 0, "start time of a live process");
    c->status = DB_STATUS_RUNNING;
    c->monitor_pid = child;
    c->monitor_start_time = start;
    ok(db_container_update(db, c, DB_SET_STATUS | DB_SET_MONITOR, &e) == 0, "record the monitor");
    ok(db_container_monitor_alive(c), "live monitor seen alive");
    c->monitor_start_time = start + 1;
    ok(!db_container_monitor_alive(c), "same pid, other start time: a recycled pid, not alive");
    c->monitor_start_time = start;
    ok(db_container_check_monitor(db, c, &changed, &e) == 0 && !changed &&
           c->status == DB_STATUS_RUNNING,
       "check_monitor leaves a live one running");
    kill(child, SIGKILL);
    siginfo_t si;
    waitid(P_PID, child, &si, WEXITED | WNOWAIT); /* a zombie now */
    ok(!db_container_monitor_alive(c), "zombie monitor not alive");
    waitpid(child, NULL, 0);
    ok(!db_container_monitor_alive(c), "reaped monitor not alive");
    ok(db_proc_start_time(child, &start, &e) < 0 && e && e->code == ENOENT,
       "start time of a gone pid: ENOENT");
    err_free(&e);
    ok(db_container_check_monitor(db, c, &changed, &e) == 0 && changed, "check_monitor writes");
    ok(c->status == DB_STATUS_EXITED && c->exit_code == 255 && c->monitor_pid == 0 && c->pid == 0 &&
           c->finished_ns > 0,
       "stale running row now exited (255), as after a reboot");
    ok(db_container_check_monitor(db, c, &changed, &e) == 0 && !changed, "second check: nothing");

    /* After a reboot the recorded pid may belong to a live process that is not
     * the monitor: here, this test itself with another start time. */
    ok(db_proc_start_time(getpid(), &start, &e) == 0, "own start time");
    c->status = DB_STATUS_RESTARTING;
    c->monitor_pid = getpid();
    c->monitor_start_time = start + 100;
    ok(db_container_update(db, c, DB_SET_STATUS | DB_SET_MONITOR, &e) == 0 &&
           db_container_check_monitor(db, c, &changed, &e) == 0 && changed &&
           c->status == DB_STATUS_EXITED,
       "a recycled pid (live, other start time) is no monitor: row exited");
    ok(db_container_delete(db, c->id, &e) == 0, "delete monitored");
}

/* What isola 0.1's schema version 1 wrote: a database from before claims. */
static const char v1_sql[] =
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
    "CREATE TABLE volume_uses ("
    " container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,"
    " volume_name TEXT NOT NULL REFERENCES volumes (name) ON DELETE RESTRICT,"
    " PRIMARY KEY (container_id, volume_name)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX volume_uses_volume ON volume_uses (volume_name);"
    "INSERT INTO containers (id, name, created_ns, status) VALUES ("
    " 'beef000000000000000000000000000000000000000000000000000000000000', 'old-one', 1, "
    " 'exited');"
    "PRAGMA user_version = 1;";

static int make_db(const char *dir, const char *sql)
{
    _cleanup_free_ char *path = NULL;
    sqlite3 *s = NULL;
    int rc;

    if (fs_mkdir_p(dir, 0700, NULL) < 0 || asprintf(&path, "%s/isola.db", dir) < 0)
        return -1;
    rc = sqlite3_open(path, &s);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        printf("# make_db: %s\n", sqlite3_errmsg(s));
    sqlite3_close(s);
    return rc == SQLITE_OK ? 0 : -1;
}

static void test_upgrade(void)
{
    _cleanup_free_ char *old = sub("v1"), *newer = sub("v99"), *version = NULL, *owner = NULL;
    _cleanup_db_container_ struct db_container *c = NULL;
    struct db *db = NULL;
    struct err *e = NULL;

    ok(make_db(old, v1_sql) == 0, "a version 1 database with a row");
    ok(db_open(old, &db, &e) == 0, "open upgrades it");
    version = raw_query(old, "PRAGMA user_version");
    is_str(version, "3", "now schema version 3");
    ok(db && db_container_get(db, "old-one", &c, &e) == 0 && c->status == DB_STATUS_EXITED,
       "its row survived the upgrade");
    ok(db && db_claim_add(db, "port", "udp/53", c ? c->id : "", &e) == 0 &&
           db_claim_owner(db, "port", "udp/53", &owner, &e) == 0 && owner,
       "the new claims table works");
    db_close(db);
    db = NULL;
    ok(db_open(old, &db, &e) == 0, "reopen a current database");
    db_close(db);
    db = NULL;

    ok(make_db(newer, "CREATE TABLE t (x); PRAGMA user_version = 99;") == 0,
       "a database from a newer isola");
    ok(db_open(newer, &db, &e) < 0 && e && e->code == EPROTO && db == NULL, "refused: EPROTO");
    ok(e && strstr(e->msg, "schema version 99 is newer than this isola knows (3)"),
       "message says why: %s", e ? e->msg : "");
    err_free(&e);
}

/* 50 processes, released at once, each opening the same (new) database and
 * inserting a container with a generated name; every third one also lists and
 * looks up. Afterwards: 50 rows, 50 names, an intact file, and no child saw
 * an error (SQLITE_BUSY included). */
static void test_concurrency(void)
{
    enum { N = 50 };
    _cleanup_free_ char *dir = sub("many"), *rows = NULL, *names = NULL, *check = NULL;
    pid_t pids[N];
    int gate[2], failed = 0, started = 0;

    if (pipe2(gate, O_CLOEXEC) < 0) {
        ok(0, "pipe: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            break;
        started++;
        if (pids[i] == 0) {
            struct db *db = NULL;
            struct err *e = NULL;
            struct db_container *out = NULL, *again = NULL, **list = NULL;
            struct db_container c = {.image_ref = (char *)"busybox"};
            size_t n = 0;
            char b;
            int rc = 0;

            close(gate[1]);
            if (read(gate[0], &b, 1) < 0)
                _exit(3);
            if (db_open(dir, &db, &e) < 0 || db_container_insert(db, &c, &out, &e) < 0 ||
                (i % 3 == 0 && (db_container_list(db, true, &list, &n, &e) < 0 ||
                                db_container_get(db, out->id, &again, &e) < 0))) {
                printf("# child %d: %s\n", i, e->msg);
                fflush(stdout);
                rc = 1;
            }
            _exit(rc);
        }
    }
    close(gate[0]);
    close(gate[1]); /* go */
    for (int i = 0; i < started; i++) {
        int status = 0;
        if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    }
    ok(started == N, "%d processes started", started);
    ok(failed == 0, "no process saw an error (%d did)", failed);
    rows = raw_query(dir, "SELECT count(*) FROM containers");
    is_str(rows, "50", "exactly 50 rows");
    names = raw_query(dir, "SELECT count(DISTINCT name) FROM containers");
    is_str(names, "50", "50 distinct names");
    check = raw_query(dir, "PRAGMA integrity_check");
    is_str(check, "ok", "integrity_check ok");
}

int main(void)
{
    _cleanup_free_ char *dir = NULL;
    struct db *db = NULL;
    struct err *e = NULL;

    alarm(300); /* a hung lock must fail the test, not hang it */
    if (mkdtemp(root) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    test_time_and_names();
    dir = sub("state/nested");
    ok(db_open(dir, &db, &e) == 0, "open creates the state root and the database");
    if (db == NULL) {
        printf("# %s\n", e ? e->msg : "");
        err_free(&e);
    } else {
        test_open(db, dir);
        test_containers(db);
        test_volumes_claims(db, dir);
        test_liveness(db);
        db_close(db);
    }
    test_upgrade();
    test_concurrency();
    fs_rm_rf(root, NULL);
    return done_testing();
}
