/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network of a foreground `isola run` (docs/networks.md, "The foreground
 * run"). Its container is the runtime's, not a monitor's, but its address and
 * ports are claims in the engine's database like any container's, so it gets
 * a row: status running, its "monitor" the `isola run` process itself (pid and
 * start time), and the annotations that ctr_remove() reads to undo the wiring
 * (autoRemove among them). While the CLI lives, `isola ps` lists it; once it
 * is gone, however it ended (kill -9 included), the next command that syncs
 * the row (`ps`, the next foreground run, `network prune`) marks it exited
 * and, as an --rm container, removes it with its network.
 */
#ifndef ISOLA_ENGINE_CTR_FG_H
#define ISOLA_ENGINE_CTR_FG_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/container.h"
#include "engine/ctr_net.h"
#include "engine/db.h"
#include "util/err.h"

/* Set on the row's config: the row is a foreground run's (its bundle dir),
 * and the runtime's state root of its container (whose id is the row's
 * name), when isola's runtime runs it. */
#define CTR_ANN_FOREGROUND       "io.isola.foreground"
#define CTR_ANN_FOREGROUND_STATE "io.isola.foregroundState"

struct ctr_fg {
    char id[DB_ID_LEN + 1]; /* the row's; "" when none was made */
    struct ctr_net cn;
};

/* Whether o needs a row: a network of the engine's (not none, not host),
 * or /etc files of its own (--dns, --dns-search, --add-host). */
bool ctr_fg_wants_network(const struct ctr_net_opts *o);
/* Collect dead foreground runs' rows (and their networks), then insert this
 * run's row (name, image_ref, bundle) and wire it (ctr_net_setup). On
 * failure nothing stays. */
int ctr_fg_setup(struct db *db, const struct ctr_env *env, const char *name, const char *image_ref,
                 const char *bundle, const char *oci_root, const char *hostname,
                 const struct ctr_net_opts *o, json_t *image_config, struct ctr_fg *out,
                 struct err **err);
/* Signal c's workload when c is a foreground run's row (its runtime state
 * root recorded): 1 sent, 0 not such a row, -1 failed. `rm -f`, `stop` and
 * `kill` reach it so, as the container of a monitor. */
int ctr_fg_kill(const struct db_container *c, int sig, bool all, struct err **err);
/* The process.args of c's bundle when c is a foreground run's row (its
 * row records no process; json_decref), NULL otherwise. */
json_t *ctr_fg_args(const struct db_container *c);
/* Whether c is a foreground run's row whose workload ctr_fg_kill() reaches. */
bool ctr_fg_is(const struct db_container *c);
/* Rows of foreground runs whose `isola run` is gone, however it ended:
 * synced, which marks them exited and, being --rm rows, removes them with
 * their network (what `network prune` and the next foreground run do). */
void ctr_fg_collect(struct db *db, const struct ctr_env *env);
/* Undo ctr_fg_setup(): unwire, drop the run dir and the row. */
void ctr_fg_teardown(struct db *db, const struct ctr_env *env, struct ctr_fg *f);

#endif
