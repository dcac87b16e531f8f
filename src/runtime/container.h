/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container lifecycle (runtime-spec runtime.md "Operations"): create, start,
 * run, state, kill, delete, exec, pause, resume, update, ps, list. The front end
 * (isola-oci, isola run) only parses options and calls these.
 */
#ifndef ISOLA_RUNTIME_CONTAINER_H
#define ISOLA_RUNTIME_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/spec.h"
#include "util/err.h"

struct container_opts {
    const char *root; /* state root (--root) */
    const char *id;
    const char *bundle;         /* default "." */
    const char *config;         /* default "config.json" in the bundle */
    const char *pid_file;       /* NULL: none */
    const char *console_socket; /* NULL: none */
    bool no_pivot, no_new_keyring;
    bool detach; /* run: return once started */
    bool keep;   /* run: keep the state after the container exits */
    /* run in the foreground (isola run): the init is killed when the runtime
     * dies (PR_SET_PDEATHSIG, kept past start), and SIGINT, SIGTERM, SIGHUP,
     * SIGQUIT, SIGUSR1/2 sent to the runtime are forwarded to it. */
    bool foreground;
    int preserve_fds;
    /* socket activation: the LISTEN_FDS count (also in preserve_fds) */
    int listen_fds;
    enum cgroup_manager cgroup_manager;
};

/* create: the init is left blocked before exec until `start`. */
int container_create(const struct container_opts *o, struct err **err);
/* run: create + start; *status is the container's exit code (or 0 with detach). */
int container_run(const struct container_opts *o, int *status, struct err **err);
int container_start(const char *root, const char *id, struct err **err);
/* The runtime-spec state of id (caller frees). */
int container_state(const char *root, const char *id, json_t **out, struct err **err);
int container_kill(const char *root, const char *id, int sig, bool all, struct err **err);
int container_delete(const char *root, const char *id, bool force, struct err **err);
int container_pause(const char *root, const char *id, bool pause, struct err **err);
int container_update(const char *root, const char *id, json_t *resources, struct err **err);
int container_ps(const char *root, const char *id, pid_t **pids, size_t *n, struct err **err);
/* Array of state objects of every container under root. */
int container_list(const char *root, json_t **out, struct err **err);

struct exec_opts {
    const char *console_socket, *pid_file;
    bool detach;
    int preserve_fds;
};
/* Run `proc` in the running container id; *status is its exit code unless detached.
 * proc NULL-able fields fall back to the container's process. */
int container_exec(const char *root, const char *id, struct spec_process *proc,
                   const struct exec_opts *o, int *status, struct err **err);
/* The container's own process (config.json), for `exec` defaults. */
int container_load_spec(const char *root, const char *id, struct spec **out, struct err **err);

/* Signal names for kill: "KILL", "SIGKILL", "9". */
int container_parse_signal(const char *s, int *sig, struct err **err);

#endif
