/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the container commands (cmd_create.c, cmd_ps.c, ...) share: the
 * engine's paths from the environment, the database, Docker's messages. */
#ifndef ISOLA_CLI_CTR_CLI_H
#define ISOLA_CLI_CTR_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "cli/run_vm.h"
#include "engine/container.h"
#include "engine/db.h"

struct ctr_cli {
    struct ctr_env env;
    struct db *db;
    char monitor[4096];
    char run_dir[4096];
    char self[4096];
    const char *cleanup[4]; /* isola container cleanup */
    struct run_vm_paths vm; /* microVM containers (run_vm.h) */
};

/* Open the state (ISOLA_ROOT, ISOLA_RUN_DIR, ISOLA_MONITOR); prints the error. */
int ctr_cli_open(struct ctr_cli *c, const char *prog);
void ctr_cli_close(struct ctr_cli *c);
/* Print an error as Docker's CLI does ("Error response from daemon: ...") */
void ctr_cli_error(const char *prog, struct err *e);
/* The exit status of `run` whose container did not start: Docker's 127 (its
 * command not found), 126 (cannot be executed) or 125 (otherwise). */
int ctr_cli_start_failure_code(const struct err *e);
/* The inspect document of container ref, appended to arr; -1 if ref is none. */
int ctr_cli_inspect_one(const char *ref, json_t *arr);
/* "isola run -d/--detach ...": create and start (cmd_create.c). Returns
 * CTR_CLI_NOT_DETACHED when the run is not detached (cmd_run goes on). */
#define CTR_CLI_NOT_DETACHED (-1000)
int ctr_cli_run_detached(int argc, char **argv);

int cmd_cp(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_port(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_healthcheck(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_container(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_system(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
/* Attach to running container ct as `isola attach` does (cmd_attach.c);
 * the exit status (the container's code, 0 when detached). */
struct ctr_cli_attach_opts {
    bool no_stdin, stdin_once, sig_proxy;
    const char *keys; /* --detach-keys, NULL: ctrl-p,ctrl-q */
};
int ctr_cli_attach(struct ctr_cli *cli, const struct db_container *ct,
                   const struct ctr_cli_attach_opts *co, const char *prog);

#endif
