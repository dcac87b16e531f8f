/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's RUN steps for `isola build` (image/build.h's build_step_ops):
 * the step's spec comes from the composer (compose.h) as `docker build` has
 * it (the stage's config, no entrypoint, the host's network and
 * /etc/resolv.conf), and runs with isola's runtime or an external
 * runc-compatible one.
 */
#ifndef ISOLA_ENGINE_BUILD_STEP_H
#define ISOLA_ENGINE_BUILD_STEP_H

#include "image/build.h"

struct build_step_engine {
    const char *runtime; /* an OCI runtime's path (runc), NULL: isola's own */
    struct build_step_ops ops;
};

/* Fill e: its ops (e->ops) run steps with runtime (NULL or "": isola's). */
void build_step_engine_init(struct build_step_engine *e, const char *runtime);

#endif
