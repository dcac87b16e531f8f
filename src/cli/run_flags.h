/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `docker run` options of `isola run` that become compose_opts
 * (engine/compose.h): parsed here, given Docker's meaning by the composer.
 */
#ifndef ISOLA_CLI_RUN_FLAGS_H
#define ISOLA_CLI_RUN_FLAGS_H

#include <getopt.h>
#include <stddef.h>

#include "engine/compose.h"

enum {
    RF_ENV = 1000,
    RF_ENV_FILE,
    RF_WORKDIR,
    RF_USER,
    RF_ENTRYPOINT,
    RF_READ_ONLY,
    RF_TMPFS,
    RF_MEMORY_SWAP,
    RF_SHM_SIZE,
    RF_CPUS,
    RF_CPU_SHARES,
    RF_CPUSET_CPUS,
    RF_PIDS_LIMIT,
    RF_ULIMIT,
    RF_CAP_ADD,
    RF_CAP_DROP,
    RF_PRIVILEGED,
    RF_SECURITY_OPT,
    RF_DEVICE,
    RF_INIT,
    RF_INIT_PATH,
    RF_STOP_SIGNAL,
    RF_LABEL,
};

/* Entries for getopt_long's table; -e, -w, -u and -l are short forms. */
#define RUN_FLAGS_LONGOPTS                                                                        \
    {"env", required_argument, NULL, RF_ENV}, {"env-file", required_argument, NULL, RF_ENV_FILE}, \
        {"workdir", required_argument, NULL, RF_WORKDIR},                                         \
        {"user", required_argument, NULL, RF_USER},                                               \
        {"entrypoint", required_argument, NULL, RF_ENTRYPOINT},                                   \
        {"read-only", no_argument, NULL, RF_READ_ONLY},                                           \
        {"tmpfs", required_argument, NULL, RF_TMPFS},                                             \
        {"memory-swap", required_argument, NULL, RF_MEMORY_SWAP},                                 \
        {"shm-size", required_argument, NULL, RF_SHM_SIZE},                                       \
        {"cpus", required_argument, NULL, RF_CPUS},                                               \
        {"cpu-shares", required_argument, NULL, RF_CPU_SHARES},                                   \
        {"cpuset-cpus", required_argument, NULL, RF_CPUSET_CPUS},                                 \
        {"pids-limit", required_argument, NULL, RF_PIDS_LIMIT},                                   \
        {"ulimit", required_argument, NULL, RF_ULIMIT},                                           \
        {"cap-add", required_argument, NULL, RF_CAP_ADD},                                         \
        {"cap-drop", required_argument, NULL, RF_CAP_DROP},                                       \
        {"privileged", no_argument, NULL, RF_PRIVILEGED},                                         \
        {"security-opt", required_argument, NULL, RF_SECURITY_OPT},                               \
        {"device", required_argument, NULL, RF_DEVICE}, {"init", no_argument, NULL, RF_INIT},     \
        {"init-path", required_argument, NULL, RF_INIT_PATH},                                     \
        {"stop-signal", required_argument, NULL, RF_STOP_SIGNAL},                                 \
    {                                                                                             \
        "label", required_argument, NULL, RF_LABEL                                                \
    }
#define RUN_FLAGS_SHORT "e:w:u:l:"

struct run_flags {
    struct compose_opts co;
    char **env, **env_file_paths, **env_file, **cap_add, **cap_drop, **labels;
    size_t n_env, n_env_file_paths, n_cap_add, n_cap_drop, n_labels;
    struct compose_mount *mounts;
    struct compose_ulimit *ulimits;
    struct compose_device *devices;
    char **owned; /* strings made here (devices' parts) */
    size_t n_owned;
    bool init;
    const char *init_path;
};

/* Allocate room for argc arguments' worth of each list. */
int run_flags_init(struct run_flags *f, int argc, struct err **err);
/* Take option c, long or short (1: taken, 0: not a run flag, -1: bad value in *err). */
int run_flags_take(struct run_flags *f, int c, const char *arg, struct err **err);
/* Read --env-file files, find --init's binary: f->co is then complete. */
int run_flags_finish(struct run_flags *f, struct err **err);
void run_flags_release(struct run_flags *f);

extern const char run_flags_help[];

#endif
