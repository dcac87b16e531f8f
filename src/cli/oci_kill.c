/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci kill [--all] ID [SIGNAL] (default SIGTERM, as runc). */
#include <signal.h>

#include "cli/oci.h"
#include "runtime/container.h"

int oci_kill(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    bool all = false;
    int c, sig = SIGTERM;

    while ((c = getopt_long_only(argc, argv, "a", opts, NULL)) != -1) {
        if (c != 'a')
            return oci_usage("kill", "bad option");
        all = true;
    }
    if (optind >= argc)
        return oci_usage("kill", "missing the container id");
    if (optind + 2 < argc)
        return oci_usage("kill", "too many arguments");
    if (optind + 1 < argc && container_parse_signal(argv[optind + 1], &sig, &e) < 0)
        return oci_fail(e);
    if (container_kill(g->root, argv[optind], sig, all, &e) < 0)
        return oci_fail(e);
    return 0;
}
