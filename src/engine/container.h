/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Containers managed as Docker's (docs/engine.md, "Containers"): a row in the
 * state database (db.h), a bundle with the image's overlay root under
 * <state_root>/containers/<id>/, and while it runs an isola-monitor
 * (monitor.h) whose run dir is <run_dir>/containers/<id>/. The monitor writes
 * no row: the engine reads its status and exit files and brings the row up to
 * date (ctr_sync) whenever a command looks at it.
 */
#ifndef ISOLA_ENGINE_CONTAINER_H
#define ISOLA_ENGINE_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "engine/compose.h"
#include "engine/ctr_net.h"
#include "engine/db.h"
#include "engine/health.h"
#include "image/store.h"
#include "util/err.h"

/* Where things live; every path comes from the front end. */
struct ctr_env {
    const char *state_root;  /* the database, bundles, volumes */
    const char *run_dir;     /* monitors' run dirs (/run/isola) */
    const char *monitor_exe; /* isola-monitor */
    /* argv of the command the monitor runs at the end of an --rm container's
     * life, the id appended (`isola container cleanup`); NULL: none, the next
     * command that syncs it removes it */
    const char *const *cleanup_argv;
    /* microVM workloads (docs/microvm.md): what the monitor is given;
     * NULL: such containers cannot start */
    const char *microvm_kernel_dir, *microvm_agent, *microvm_vmm, *microvm_cache_dir;
};

/* Annotations of the composed config that the engine reads back. */
#define CTR_ANN_AUTOREMOVE   "io.isola.autoRemove"
#define CTR_ANN_STOP_TIMEOUT "io.isola.stopTimeout"
#define CTR_ANN_LOG_MAX_SIZE "io.isola.logMaxSize"
#define CTR_ANN_LOG_MAX_FILE "io.isola.logMaxFile"
#define CTR_ANN_VOLUMES      "io.isola.volumes"
#define CTR_ANN_OPEN_STDIN   "io.isola.openStdin"
/* what create was asked, for inspect: {User, Entrypoint, Privileged, CapAdd,
 * CapDrop} (container_inspect.c) */
#define CTR_ANN_INSPECT "io.isola.inspect"

struct ctr_volume {
    const char *name;        /* a named volume */
    const char *destination; /* absolute path in the container */
    bool readonly;
};

struct ctr_create_opts {
    const char *image;
    const char *name; /* NULL: generated */
    struct compose_opts co;
    const struct ctr_volume *volumes;
    size_t n_volumes;
    const char *restart; /* no (NULL), on-failure[:N], always, unless-stopped */
    bool autoremove;     /* --rm */
    bool open_stdin;     /* -i: the monitor keeps a stdin pipe open */
    int stop_timeout;    /* seconds, -1: the default (10) */
    const char *log_max_size;
    unsigned log_max_file;
    struct ctr_net_opts net;   /* --network, --ip, --dns, ... (ctr_net.h) */
    struct health_opts health; /* --health-*, --no-healthcheck (health.h) */
    bool microvm;              /* --isolation=vm (docs/microvm.md) */
};

int ctr_create(struct db *db, const struct ctr_env *env, struct store *s,
               const struct ctr_create_opts *o, struct db_container **out, struct err **err);
/* Start a created or exited container (a running one: nothing to do). */
int ctr_start(struct db *db, const struct ctr_env *env, const char *ref, struct err **err);
/* Docker's stop: the stop signal, SIGKILL after timeout seconds (-1: the
 * container's stop timeout). A stopped container: nothing to do. */
int ctr_stop(struct db *db, const struct ctr_env *env, const char *ref, int timeout,
             struct err **err);
/* EINVAL "Container ID is not running" when it does not run. */
int ctr_kill(struct db *db, const struct ctr_env *env, const char *ref, int sig, struct err **err);
/* docker pause / unpause (container_pause.c); Docker's messages when it is
 * not running, already paused, not paused. */
int ctr_pause(struct db *db, const struct ctr_env *env, const char *ref, bool pause,
              struct err **err);
/* The monitor's stats reply for running c (container_stats.c):
 * {"running":..., "cpuNs":..., "memoryCurrent":...} (docs/engine.md). */
int ctr_stats_fetch(const struct ctr_env *env, const struct db_container *c, json_t **out,
                    struct err **err);
/* The pids of running container ref's processes (docker top; caller frees). */
int ctr_top_pids(struct db *db, const struct ctr_env *env, const char *ref, pid_t **pids, size_t *n,
                 struct err **err);
/* After a host boot (container_boot.c): sync every row, mount the kept
 * containers' overlays again, start those whose policy is always, or
 * unless-stopped when they ran at the reboot. report() is told of each
 * start ("started", e NULL) and failure (what, e). */
int ctr_system_boot(struct db *db, const struct ctr_env *env, struct store *s,
                    void (*report)(void *arg, const struct db_container *c, const char *what,
                                   struct err *e),
                    void *arg, struct err **err);
/* A signal through c's monitor's `kill` request (container_pause.c): 1
 * sent, 0 no monitor to ask (the caller uses the runtime), -1 error. */
int ctr_kill_monitor(const struct ctr_env *env, const struct db_container *c, int sig,
                     struct err **err);
/* Thaw a paused c (errors ignored): a signal sent to it can act. */
void ctr_thaw_if_paused(const struct ctr_env *env, const struct db_container *c);
/* EBUSY with Docker's message when it runs and !force. */
int ctr_remove(struct db *db, const struct ctr_env *env, const char *ref, bool force, bool volumes,
               struct err **err);
/* Bring c up to date from its monitor's files; *removed: it was an exited
 * --rm container and is gone now (c is then stale). */
int ctr_sync(struct db *db, const struct ctr_env *env, struct db_container *c, bool *removed,
             struct err **err);
/* A start whose CLI was killed before it recorded it (container_recover.c):
 * a created or exited row whose run dir names a monitor that runs, or that
 * ended after the row's last exit, takes over the monitor's state. */
int ctr_sync_unrecorded(struct db *db, const struct ctr_env *env, struct db_container *c,
                        struct err **err);
/* Looked up (db_container_get) and synced; ENOENT when an --rm one went. */
int ctr_get(struct db *db, const struct ctr_env *env, const char *ref, struct db_container **out,
            struct err **err);
int ctr_list(struct db *db, const struct ctr_env *env, bool all, struct db_container ***out,
             size_t *n, struct err **err);
/* ctr_list() with each row's config cut down to process.args and the
 * annotations (db_container_list_brief): what `ps` shows. */
int ctr_list_brief(struct db *db, const struct ctr_env *env, bool all, struct db_container ***out,
                   size_t *n, struct err **err);
/* Block until it stops; its exit code. */
int ctr_wait(struct db *db, const struct ctr_env *env, const char *ref, int *code,
             struct err **err);
/* docker exec's -e (KEY=VALUE, or KEY: its value in the caller's
 * environment, passed in by the front end), -w and -u (name, uid, name:group,
 * uid:gid, names from the container's /etc/passwd and /etc/group). */
struct ctr_exec_opts {
    char *const *env; /* NULL-terminated, over the container's env */
    const char *workdir;
    const char *user;
    bool detach;
    /* -t (a pty of rows x cols) and -i (our input to its stdin): the exec
     * is attached with these (container_attach.c) */
    bool tty, interactive;
    unsigned short rows, cols;
    const struct ctr_attach_opts *attach;
};
/* Run args in it through the monitor; output to out/errf; *code its exit code
 * (126/127 as Docker when it cannot be run). */
int ctr_exec(struct db *db, const struct ctr_env *env, const char *ref, char *const *args,
             const struct ctr_exec_opts *xo, FILE *out, FILE *errf, int *code, struct err **err);
/* Docker's inspect document. */
int ctr_inspect(struct db *db, const struct ctr_env *env, const struct db_container *c,
                json_t **out, struct err **err);
/* Record in spec's annotations what inspect shows of co (CTR_ANN_INSPECT). */
int ctr_inspect_annotate(json_t *spec, const struct compose_opts *co, json_t *image_config,
                         struct err **err);
/* Add Docker's Config.User, .Entrypoint, .ExposedPorts, .OpenStdin,
 * HostConfig.Privileged, ... to doc, built from c's config cfg. */
void ctr_inspect_compat(json_t *doc, json_t *cfg, const struct ctr_env *env,
                        const struct db_container *c);
/* Docker's STATUS column: "Up 3 seconds", "Exited (3) 2 minutes ago", "Created". */
void ctr_status_text(const struct db_container *c, char *buf, size_t len);
/* "3 seconds", "2 minutes", "About an hour" (Go's units.HumanDuration). */
void ctr_human_duration(int64_t ns, char *buf, size_t len);

/* The monitor's control socket in run dir `dir` (monitor.h), `req` sent;
 * -1 with errno when there is no monitor to talk to. */
int ctr_monitor_connect(const char *dir, const char *req, size_t len);
/* Read packets until the exit (`x`); 1: got it (*exitj, optional), 0: timed
 * out (timeout_ms, -1: none), -1: the connection ended without it. */
int ctr_await_exit(int fd, int timeout_ms, json_t **exitj);
/* Wait, at most timeout_ms, for c's monitor process to be gone. */
void ctr_wait_monitor_gone(const struct db_container *c, int timeout_ms);

/* Health checks (container_health.c; docs/engine.md, "Health checks"). */
/* The image's Healthcheck annotation of spec with the --health-* flags over it. */
int ctr_health_annotate(json_t *spec, const struct health_opts *o, struct err **err);
/* The config's Healthcheck JSON when it asks for a check, else NULL (NONE,
 * none at all); points into cfg. */
const char *ctr_health_config(json_t *cfg);
/* The monitor's last health status (DIR/health) into c's row. */
int ctr_health_sync(struct db *db, const struct ctr_env *env, struct db_container *c,
                    struct err **err);
/* Before a freeze (hold) and after a thaw (!hold): c's monitor starts no
 * probe exec meanwhile (monitor_health.h); nothing when c has no check. */
void ctr_health_hold(const struct ctr_env *env, const struct db_container *c, bool hold);
/* inspect's State.Health (Docker's shape), NULL when c has no check. */
json_t *ctr_health_inspect(const struct ctr_env *env, const struct db_container *c);
/* A probe now through the monitor (`isola healthcheck run`): *out gets
 * {"Status","ExitCode","Output"}; EINVAL when c has no check or does not run. */
int ctr_healthcheck_run(struct db *db, const struct ctr_env *env, const char *ref, json_t **out,
                        struct err **err);

/* A new workload id: 64 hex digits from getrandom(), never a short id of
 * decimal digits only (Docker's). */
int ctr_new_id(char id[DB_ID_LEN + 1], struct err **err);

/* Paths of c's run dir and bundle (caller frees). */
char *ctr_run_dir(const struct ctr_env *env, const char *id);
char *ctr_bundle_dir(const struct ctr_env *env, const char *id);

struct ctr_logs_opts {
    bool follow, timestamps;
    long tail;        /* -1: all */
    int64_t since_ns; /* 0: all */
};
/* Docker's logs: stdout records to out, stderr ones to errf (container_io.c). */
int ctr_logs(struct db *db, const struct ctr_env *env, const char *ref,
             const struct ctr_logs_opts *o, FILE *out, FILE *errf, struct err **err);

/* docker attach (container_attach.c). */
#define CTR_DETACH_KEYS_MAX 16
struct ctr_attach_opts {
    int in_fd; /* -1: no input (--no-stdin) */
    int out_fd, err_fd;
    int tty_fd;                     /* the caller's terminal whose size goes to the pty, -1: none */
    char keys[CTR_DETACH_KEYS_MAX]; /* the detach sequence */
    size_t n_keys;
    bool sig_proxy;   /* the caller's signals go to on_signal */
    bool stdin_once;  /* the end of in_fd closes the workload's stdin */
    bool exec_errors; /* an `E` packet is an exec's failure: 126/127 */
    void (*on_signal)(void *arg, int sig);
    void *signal_arg;
};
/* Docker's --detach-keys ("ctrl-p,ctrl-q" when spec is NULL) into keys. */
int ctr_detach_keys_parse(const char *spec, char *keys, size_t *n, struct err **err);
/* Attach to the monitor in run dir `dir` until the workload's life ends
 * (1, *code its exit code) or the detach keys come (0, *detached); -1 on
 * error. */
int ctr_attach_fd(const char *dir, const char *id, const struct ctr_attach_opts *o, int *code,
                  bool *detached, struct err **err);
/* The same with another first request (an exec's with "tty"/"stdin"). */
int ctr_attach_req(const char *dir, const char *id, const char *req, size_t req_len,
                   const struct ctr_attach_opts *o, int *code, bool *detached, struct err **err);

#endif
