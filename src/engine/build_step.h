/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's RUN steps for `isola build` (image/build.h's build_step_ops):
 * the step's spec comes from the composer (compose.h) as `docker build` has
 * it (the stage's config, no entrypoint), and runs with isola's runtime or an
 * external runc-compatible one. Its network (build_step_engine_network()):
 * the host's (and its /etc/resolv.conf), none, or a network of the engine's,
 * wired for each step as a foreground run's (ctr_fg.h), as `docker build
 * --network` has it.
 */
#ifndef ISOLA_ENGINE_BUILD_STEP_H
#define ISOLA_ENGINE_BUILD_STEP_H

#include "engine/container.h"
#include "engine/ctr_net.h"
#include "engine/db.h"
#include "image/build.h"

struct build_step_engine {
    const char *runtime; /* an OCI runtime's path (runc), NULL: isola's own */
    struct build_step_ops ops;
    /* build_step_engine_network(); net NULL: the host's network */
    struct db *db;
    const struct ctr_env *env;
    const struct ctr_net_opts *net;
};

/* Fill e: its ops (e->ops) run steps with runtime (NULL or "": isola's). */
void build_step_engine_init(struct build_step_engine *e, const char *runtime);
/* RUN steps on net (net->network: host, none, bridge or a network's name);
 * db and env (the engine's state) are needed for the last two. */
void build_step_engine_network(struct build_step_engine *e, struct db *db,
                               const struct ctr_env *env, const struct ctr_net_opts *net);

#endif
