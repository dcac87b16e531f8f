/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the container commands (ctr_cli.h). */
#include "cli/ctr_cli.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "util/cleanup.h"

/* The libraries take parameters; the environment is read here. */
int ctr_cli_open(struct ctr_cli *c, const char *prog)
{
    struct err *e = NULL;
    const char *rd = getenv("ISOLA_RUN_DIR"), *mon = getenv("ISOLA_MONITOR");

    memset(c, 0, sizeof(*c));
    snprintf(c->run_dir, sizeof(c->run_dir), "%s", rd && *rd ? rd : "/run/isola");
    ssize_t n = readlink("/proc/self/exe", c->self, sizeof(c->self) - 1);
    c->self[n < 0 ? 0 : n] = '\0';
    if (mon && *mon) {
        snprintf(c->monitor, sizeof(c->monitor), "%s", mon);
    } else {
        /* isola-monitor is installed next to isola */
        char dir[sizeof(c->self)];
        snprintf(dir, sizeof(dir), "%s", c->self);
        snprintf(c->monitor, sizeof(c->monitor), "%s/isola-monitor", dirname(dir));
    }
    /* the monitor runs it with this environment (ISOLA_ROOT, ISOLA_RUN_DIR) */
    c->cleanup[0] = c->self;
    c->cleanup[1] = "container";
    c->cleanup[2] = "cleanup";
    c->cleanup[3] = NULL;
    c->env.cleanup_argv = c->self[0] ? c->cleanup : NULL;
    c->env.state_root = cli_store_root(NULL);
    c->env.run_dir = c->run_dir;
    c->env.monitor_exe = c->monitor;
    /* microVM containers: found now, checked when one starts (docs/microvm.md) */
    struct err *ve = NULL;
    if (run_vm_resolve(NULL, &c->vm, &ve) == 0) {
        c->env.microvm_kernel_dir = c->vm.kernel_dir;
        c->env.microvm_agent = c->vm.agent;
        c->env.microvm_vmm = c->vm.vmm;
        c->env.microvm_cache_dir = c->vm.cache_dir;
    }
    err_free(&ve);
    if (db_open(c->env.state_root, &c->db, &e) < 0) {
        ctr_cli_error(prog, e);
        err_free(&e);
        return -1;
    }
    return 0;
}

void ctr_cli_close(struct ctr_cli *c)
{
    if (c->db)
        db_close(c->db);
    c->db = NULL;
}

void ctr_cli_error(const char *prog, struct err *e)
{
    (void)prog;
    /* Docker's CLI prints the daemon's word this way; scripts match on it. */
    fprintf(stderr, "Error response from daemon: ");
    err_print(e, NULL, stderr);
}

int ctr_cli_inspect_one(const char *ref, json_t *arr)
{
    struct ctr_cli cli;
    struct err *e = NULL;
    _cleanup_db_container_ struct db_container *c = NULL;
    json_t *doc = NULL;
    int rc = -1;

    /* a store without a database has no containers: do not create one */
    char dbp[PATH_MAX];
    snprintf(dbp, sizeof(dbp), "%s/%s", cli_store_root(NULL), DB_FILE);
    if (access(dbp, F_OK) < 0)
        return -1;
    if (ctr_cli_open(&cli, "isola inspect") < 0)
        return -1;
    if (ctr_get(cli.db, &cli.env, ref, &c, &e) == 0 &&
        ctr_inspect(cli.db, &cli.env, c, &doc, &e) == 0) {
        json_array_append_new(arr, doc);
        rc = 0;
    }
    err_free(&e);
    ctr_cli_close(&cli);
    return rc;
}

/* Docker's CLI (cli/command/container/run.go, runStartContainerErr): a
 * command that is not found is 127, one that cannot be executed 126, any
 * other failure to start 125. The runtime names the command's problem as
 * `process.args[0]: ...` (process_prepare_exec) or `exec `PATH`: ...`. */
int ctr_cli_start_failure_code(const struct err *e)
{
    if (e == NULL || e->msg == NULL)
        return 125;
    bool args0 = strstr(e->msg, "process.args[0]") != NULL;
    bool exec = strstr(e->msg, "exec `") != NULL;
    if (!args0 && !exec)
        return 125;
    if (strstr(e->msg, "not found in $PATH") || strstr(e->msg, "No such file or directory"))
        return 127;
    if (args0 || strstr(e->msg, "Permission denied") || strstr(e->msg, "Exec format error") ||
        strstr(e->msg, "Is a directory"))
        return 126;
    return 125;
}
