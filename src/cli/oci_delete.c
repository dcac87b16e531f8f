/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci delete [--force] ID, or [--force] --regex REGEX (crun) */
#include <errno.h>

#include "cli/oci.h"
#include "runtime/container.h"

static int delete_one(struct oci_global *g, const char *id, void *data, struct err **err)
{
    bool force = *(bool *)data;

    if (container_delete(g->root, id, force, err) < 0) {
        /* runc: deleting a missing container with --force succeeds */
        if (force && (*err)->code == ENOENT) {
            err_free(err);
            return 0;
        }
        return -1;
    }
    return 0;
}

int oci_delete(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"regex", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    bool force = false, regex = false;
    const char *id;
    int c;

    while ((c = getopt_long_only(argc, argv, "frh", opts, NULL)) != -1) {
        if (c == 'h')
            return oci_help("delete");
        if (c == 'f')
            force = true;
        else if (c == 'r')
            regex = true;
        else
            return oci_usage("delete", "bad option");
    }
    if ((id = oci_id_arg("delete", argc, argv)) == NULL)
        return 1;
    if (regex)
        return oci_for_each_match(g, "delete", id, delete_one, &force);
    if (delete_one(g, id, &force, &e) < 0)
        return oci_fail(e);
    return 0;
}
