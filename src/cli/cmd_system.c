/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola system boot|prune: the whole engine's housekeeping (docs/engine.md). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "image/store.h"
#include "util/cleanup.h"

int cmd_network(int argc, char **argv);
int cmd_volume(int argc, char **argv);

static void boot_report(void *arg, const struct db_container *c, const char *what, struct err *e)
{
    (void)arg;
    if (!e) {
        printf("%s\n", c->name ? c->name : c->id);
        return;
    }
    fprintf(stderr, "isola system boot: %s %s: ", what, c->name ? c->name : c->id);
    err_print(e, NULL, stderr);
}

static int system_boot(int argc, char **argv)
{
    struct ctr_cli cli;
    _cleanup_store_ struct store *s = NULL;
    struct err *e = NULL;
    int rc = 0;

    if (argc > 1) {
        printf("Usage: isola system boot\n"
               "For a system unit run once after the host boots (Docker's daemon does\n"
               "this as it starts): every container whose monitor is gone is marked\n"
               "exited (code 255), the kept containers' overlays are mounted again, and\n"
               "those whose restart policy is `always`, or `unless-stopped` and that ran\n"
               "when the host went down, are started; their names are printed. Exit 1 if\n"
               "any failed (each reported).\n");
        return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 125;
    }
    if (ctr_cli_open(&cli, "isola system boot") < 0)
        return 1;
    if (store_open(cli_store_root(NULL), &s, &e) < 0 ||
        ctr_system_boot(cli.db, &cli.env, s, boot_report, NULL, &e) < 0) {
        err_print(e, "isola system boot", stderr);
        err_free(&e);
        rc = 1;
    }
    ctr_cli_close(&cli);
    return rc;
}

static int system_prune(int argc, char **argv)
{
    bool force = false, volumes = false;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--volumes") == 0) {
            volumes = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("Usage: isola system prune [-f] [--volumes]\n"
                   "Removes the stopped containers, the unused networks, the store's\n"
                   "unreferenced blobs (`isola image prune`) and, with --volumes, the\n"
                   "unused anonymous volumes. Asks first unless -f.\n");
            return 0;
        } else {
            fprintf(stderr, "isola system prune: unknown option `%s`\n", argv[i]);
            return 125;
        }
    }
    if (!force) {
        char line[64] = "";
        printf("WARNING! This will remove:\n"
               "  - all stopped containers\n"
               "  - all networks not used by at least one container\n"
               "%s"
               "  - all dangling images\n\n"
               "Are you sure you want to continue? [y/N] ",
               volumes ? "  - all anonymous volumes not used by at least one container\n" : "");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
            return 0;
    }
    char *cprune[] = {"container", "prune", "-f", NULL};
    char *nprune[] = {"network", "prune", "-f", NULL};
    char *vprune[] = {"volume", "prune", "-f", NULL};
    char *iprune[] = {"image", "prune", NULL};
    rc |= cmd_container(3, cprune) != 0;
    rc |= cmd_network(3, nprune) != 0;
    if (volumes)
        rc |= cmd_volume(3, vprune) != 0;
    rc |= cmd_image(2, iprune) != 0;
    return rc;
}

int cmd_system(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "boot") == 0)
        return system_boot(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "prune") == 0)
        return system_prune(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("Usage: isola system boot|prune (see `isola system COMMAND --help`)\n");
        return 0;
    }
    fprintf(stderr, "isola system: expected boot or prune (see `isola system --help`)\n");
    return 125;
}
