/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola container COMMAND: Docker's management form (container ls, rm, inspect,
 * prune, ...), and `container prune`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_template.h"
#include "cli/ctr_cli.h"
#include "util/cleanup.h"
#include "util/js.h"

static int container_prune(int argc, char **argv)
{
    struct ctr_cli cli;
    struct err *e = NULL;
    struct db_container **v = NULL;
    size_t n = 0;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("Usage: isola container prune [-f]\n"
                   "Removes every stopped container (created or exited) and prints their IDs.\n");
            return 0;
        }
    }
    if (ctr_cli_open(&cli, "isola container prune") < 0)
        return 1;
    if (ctr_list(cli.db, &cli.env, true, &v, &n, &e) < 0)
        goto fail;
    printf("Deleted Containers:\n");
    for (size_t i = 0; i < n; i++) {
        if (v[i]->status != DB_STATUS_EXITED && v[i]->status != DB_STATUS_CREATED &&
            v[i]->status != DB_STATUS_DEAD)
            continue;
        if (ctr_remove(cli.db, &cli.env, v[i]->id, false, false, &e) < 0) {
            ctr_cli_error("isola container prune", e);
            err_free(&e);
            rc = 1;
            continue;
        }
        printf("%s\n", v[i]->id);
    }
    db_container_list_free(v, n);
    ctr_cli_close(&cli);
    return rc;
fail:
    ctr_cli_error("isola container prune", e);
    err_free(&e);
    ctr_cli_close(&cli);
    return 1;
}

/* `container cleanup ID`: what the monitor of an --rm container runs as it
 * exits (its --exit-command): once the monitor is gone, the sync reads the
 * exit and removes the container. */
static int container_cleanup(int argc, char **argv)
{
    struct ctr_cli cli;
    struct err *e = NULL;
    _cleanup_db_container_ struct db_container *c = NULL;
    int rc = 0;

    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        printf("Usage: isola container cleanup CONTAINER\n"
               "Brings the container's state up to date once its monitor has exited, and\n"
               "removes it if it was run with --rm (the monitor runs this at its end).\n");
        return argc == 2 ? 0 : 125;
    }
    if (ctr_cli_open(&cli, "isola container cleanup") < 0)
        return 1;
    if (db_container_get(cli.db, argv[1], &c, &e) < 0) {
        err_free(&e);
        ctr_cli_close(&cli);
        return 0; /* removed already */
    }
    ctr_wait_monitor_gone(c, 10000);
    if (ctr_sync(cli.db, &cli.env, c, NULL, &e) < 0) {
        ctr_cli_error("isola container cleanup", e);
        err_free(&e);
        rc = 1;
    }
    ctr_cli_close(&cli);
    return rc;
}

static int container_inspect(int argc, char **argv)
{
    _cleanup_json_ json_t *arr = json_array();
    const char *format = NULL;
    int rc = 0, first = 1;

    if (argc > 2 && (strcmp(argv[1], "-f") == 0 || strcmp(argv[1], "--format") == 0)) {
        format = argv[2];
        first = 3;
    } else if (argc > 1 && strncmp(argv[1], "--format=", 9) == 0) {
        format = argv[1] + 9;
        first = 2;
    }
    if (argc <= first || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        printf("Usage: isola container inspect [-f FORMAT] CONTAINER...\n"
               "Prints a JSON array of Docker's inspect documents, or FORMAT (a Go\n"
               "template such as '{{.State.Status}}') for each.\n");
        return argc <= first ? 125 : 0;
    }
    for (int i = first; i < argc; i++) {
        if (ctr_cli_inspect_one(argv[i], arr) < 0) {
            fprintf(stderr, "Error: No such container: %s\n", argv[i]);
            rc = 1;
        }
    }
    struct cli_format cf;
    cli_format_init(&cf, format, NULL);
    if (cf.kind == CLI_FORMAT_TEMPLATE) {
        size_t i;
        json_t *o;
        cf.table = false;
        json_array_foreach (arr, i, o)
            if (cli_format_row(&cf, "isola container inspect", o) < 0)
                return 125;
        return rc;
    }
    _cleanup_free_ char *t = json_dumps(arr, JSON_INDENT(4));
    printf("%s\n", t ?: "[]");
    return rc;
}

static const struct {
    const char *name;
    int (*fn)(int, char **);
} container_cmds[] = {
    {"cp", cmd_cp},
    {"create", cmd_create},
    {"start", cmd_start},
    {"stop", cmd_stop},
    {"restart", cmd_restart},
    {"kill", cmd_kill},
    {"rm", cmd_rm},
    {"ps", cmd_ps},
    {"ls", cmd_ps},
    {"logs", cmd_logs},
    {"wait", cmd_wait},
    {"exec", cmd_exec},
    {"rename", cmd_rename},
    {"inspect", container_inspect},
    {"prune", container_prune},
    {"cleanup", container_cleanup},
};

int cmd_container(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        printf("Usage: isola container COMMAND\n"
               "Commands: cp, create, start, stop, restart, kill, rm, ls (ps), logs, wait, exec,\n"
               "rename, inspect, prune (see `isola container COMMAND --help`).\n");
        return argc < 2 ? 125 : 0;
    }
    for (size_t i = 0; i < sizeof(container_cmds) / sizeof(container_cmds[0]); i++)
        if (strcmp(argv[1], container_cmds[i].name) == 0)
            return container_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "isola container: unknown command `%s`\n", argv[1]);
    return 125;
}
