/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's container helpers that need no monitor: the row's config
 * (db_container_set_config), the guarded write of a run's end
 * (db_container_sync_run), Docker's STATUS text and durations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/container.h"
#include "engine/db.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"

int main(void)
{
    char root[] = "/tmp/isola-test-engine-ctr-XXXXXX";
    struct err *e = NULL;
    struct db *db = NULL;
    struct db_container c = {0}, *row = NULL, *got = NULL;
    bool changed = true;
    char buf[128];

    if (!mkdtemp(root) || db_open(root, &db, &e) < 0)
        return 1;
    c.name = "sync1";
    c.image_ref = "img";
    c.image_id = "sha256:x";
    c.config = "{}";
    c.log_path = "/l";
    ok(db_container_insert(db, &c, &row, &e) == 0, "insert");
    ok(db_container_set_config(db, row->id, "{\"ociVersion\":\"1.0.2\"}", &e) == 0, "set config");
    ok(db_container_get(db, row->id, &got, &e) == 0 && strstr(got->config, "1.0.2"),
       "the config is stored");
    db_container_free(got);
    ok(db_container_set_config(db, "0123", "{}", &e) < 0 && e->code == ENOENT,
       "set config of an unknown id: ENOENT");
    err_free(&e);

    /* the row names monitor 100 started at 7 */
    row->status = DB_STATUS_RUNNING;
    row->monitor_pid = 100;
    row->monitor_start_time = 7;
    ok(db_container_update(db, row, DB_SET_STATUS | DB_SET_MONITOR, &e) == 0, "running");
    struct db_container u = *row;
    u.status = DB_STATUS_EXITED;
    u.exit_code = 3;
    u.monitor_pid = 0;
    u.monitor_start_time = 0;
    ok(db_container_sync_run(db, &u, 100, 8, &changed, &e) == 0 && !changed,
       "another monitor's judgement (start time 8) writes nothing");
    ok(db_container_get(db, row->id, &got, &e) == 0 && got->status == DB_STATUS_RUNNING,
       "still running");
    db_container_free(got);
    ok(db_container_sync_run(db, &u, 100, 7, &changed, &e) == 0 && changed,
       "its own monitor: written");
    ok(db_container_get(db, row->id, &got, &e) == 0 && got->status == DB_STATUS_EXITED &&
           got->exit_code == 3 && got->monitor_pid == 0,
       "exited 3, monitor cleared");
    ctr_status_text(got, buf, sizeof(buf));
    ok(strncmp(buf, "Exited (3) ", 11) == 0 && strstr(buf, " ago"), "STATUS: %s", buf);
    db_container_free(got);

    ctr_human_duration(0, buf, sizeof(buf));
    is_str(buf, "Less than a second", "0 s");
    ctr_human_duration(3000000000LL, buf, sizeof(buf));
    is_str(buf, "3 seconds", "3 s");
    ctr_human_duration(61000000000LL, buf, sizeof(buf));
    is_str(buf, "About a minute", "61 s");
    ctr_human_duration(125LL * 60 * 1000000000LL, buf, sizeof(buf));
    is_str(buf, "2 hours", "125 min");
    ctr_human_duration(3LL * 86400 * 1000000000LL, buf, sizeof(buf));
    is_str(buf, "3 days", "3 days");

    db_container_free(row);
    db_close(db);
    fs_rm_rf(root, &e);
    err_free(&e);
    return done_testing();
}
