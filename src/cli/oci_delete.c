/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci delete [--force] ID */
#include <errno.h>

#include "cli/oci.h"
#include "runtime/container.h"

int oci_delete(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    bool force = false;
    const char *id;
    int c;

    while ((c = getopt_long_only(argc, argv, "f", opts, NULL)) != -1) {
        if (c != 'f')
            return oci_usage("delete", "bad option");
        force = true;
    }
    if ((id = oci_id_arg("delete", argc, argv)) == NULL)
        return 1;
    if (container_delete(g->root, id, force, &e) < 0) {
        /* runc: deleting a missing container with --force succeeds */
        if (force && e->code == ENOENT) {
            err_free(&e);
            return 0;
        }
        return oci_fail(e);
    }
    return 0;
}
