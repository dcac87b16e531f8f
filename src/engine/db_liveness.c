/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is a container's monitor still alive (pid + start time), and marking the
 * rows of dead ones exited: see db.h. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/db.h"
#include "engine/db_priv.h"
#include "util/cleanup.h"

/* State (field 3) and start time (field 22) from /proc/PID/stat. The command
 * name (field 2) may hold spaces and parentheses: fields are counted after the
 * last ')'. */
static int proc_stat(pid_t pid, char *state, uint64_t *start, struct err **err)
{
    char path[64], buf[1024];
    _cleanup_close_ int fd = -1;
    ssize_t n;
    char *p, *end;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, "open `%s`", path);
    n = read(fd, buf, sizeof(buf) - 1);
    if (n < 0)
        return err_sys(err, "read `%s`", path);
    buf[n] = 0;
    p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || p[2] == 0)
        return err_val(err, EIO, "`%s`: no command name", path);
    *state = p[2];
    p += 2;
    /* p is at field 3; skip 19 fields to reach field 22. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return err_val(err, EIO, "`%s`: fewer than 22 fields", path);
        p++;
    }
    errno = 0;
    *start = strtoull(p, &end, 10);
    if (errno != 0 || end == p)
        return err_val(err, EIO, "`%s`: field 22 (starttime) is not a number", path);
    return 0;
}

int db_proc_start_time(pid_t pid, uint64_t *out, struct err **err)
{
    char state;

    return proc_stat(pid, &state, out, err);
}

bool db_container_monitor_alive(const struct db_container *c)
{
    uint64_t start;
    char state;

    if (c->monitor_pid <= 0 || proc_stat(c->monitor_pid, &state, &start, NULL) < 0)
        return false;
    return state != 'Z' && state != 'X' && start == c->monitor_start_time;
}

static bool status_live(enum db_status s)
{
    return s == DB_STATUS_RUNNING || s == DB_STATUS_PAUSED || s == DB_STATUS_RESTARTING;
}

/* Replace *c's contents by *n's and free n. */
static void container_swap_in(struct db_container *c, struct db_container *n)
{
    struct db_container old = *c;

    *c = *n;
    free(n);
    free(old.name);
    free(old.image_ref);
    free(old.image_id);
    free(old.config);
    free(old.labels);
    free(old.log_path);
}

int db_container_check_monitor(struct db *db, struct db_container *c, bool *changed,
                               struct err **err)
{
    _cleanup_txn_ struct db *txn = NULL;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    struct db_container *now = NULL;

    *changed = false;
    if (!status_live(c->status) || db_container_monitor_alive(c))
        return 0;
    if (db_txn_begin(db, &txn, err) < 0)
        return err_wrap(err, "container %s", c->id);
    /* Only the row as we judged it: a monitor that started meanwhile (a
     * restart, `isola start`) wrote a new pid and start time. */
    if (db_prepare(db,
                   "UPDATE containers SET status = 'exited', exit_code = 255, pid = 0,"
                   " monitor_pid = 0, monitor_start_time = 0, finished_ns = ?1"
                   " WHERE id = ?2 AND status IN ('running', 'paused', 'restarting')"
                   " AND monitor_pid = ?3 AND monitor_start_time = ?4",
                   &st, err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, db_now_ns());
    db_bind_text(st, 2, c->id, "");
    sqlite3_bind_int64(st, 3, c->monitor_pid);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->monitor_start_time);
    if (db_step(db, st, "mark container exited", err) < 0)
        return err_wrap(err, "container %s", c->id);
    *changed = sqlite3_changes(db->sql) > 0;
    if (db_txn_commit(&txn, err) < 0)
        return err_wrap(err, "container %s", c->id);
    if (db_container_select(db, "id", c->id, &now, err) < 0)
        return -1;
    if (now == NULL)
        return err_val(err, ENOENT, "No such container: %s", c->id);
    container_swap_in(c, now);
    return 0;
}
