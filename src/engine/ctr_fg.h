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

/* Set on the row's config: the row is a foreground run's (its bundle dir). */
#define CTR_ANN_FOREGROUND "io.isola.foreground"

struct ctr_fg {
    char id[DB_ID_LEN + 1]; /* the row's; "" when none was made */
    struct ctr_net cn;
};

/* Whether o needs a row and a network namespace of the engine's (not
 * none, not host). */
bool ctr_fg_wants_network(const struct ctr_net_opts *o);
/* Collect dead foreground runs' rows (and their networks), then insert this
 * run's row (name, image_ref, bundle) and wire it (ctr_net_setup). On
 * failure nothing stays. */
int ctr_fg_setup(struct db *db, const struct ctr_env *env, const char *name, const char *image_ref,
                 const char *bundle, const char *hostname, const struct ctr_net_opts *o,
                 json_t *image_config, struct ctr_fg *out, struct err **err);
/* Rows of foreground runs whose `isola run` is gone, however it ended:
 * synced, which marks them exited and, being --rm rows, removes them with
 * their network (what `network prune` and the next foreground run do). */
void ctr_fg_collect(struct db *db, const struct ctr_env *env);
/* Undo ctr_fg_setup(): unwire, drop the run dir and the row. */
void ctr_fg_teardown(struct db *db, const struct ctr_env *env, struct ctr_fg *f);

#endif
