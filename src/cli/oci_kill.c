/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci kill [--all] ID [SIGNAL] (default SIGTERM, as runc), or
 * kill [--all] --regex REGEX [SIGNAL] (crun). */
#include <signal.h>

#include "cli/oci.h"
#include "runtime/container.h"

struct kill_args {
    int sig;
    bool all;
};

static int kill_one(struct oci_global *g, const char *id, void *data, struct err **err)
{
    const struct kill_args *k = data;

    return container_kill(g->root, id, k->sig, k->all, err);
}

int oci_kill(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                         {"regex", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct kill_args k = {.sig = SIGTERM};
    struct err *e = NULL;
    bool regex = false;
    int c;

    while ((c = getopt_long_only(argc, argv, "arh", opts, NULL)) != -1) {
        if (c == 'h')
            return oci_help("kill");
        if (c == 'a')
            k.all = true;
        else if (c == 'r')
            regex = true;
        else
            return oci_usage("kill", "bad option");
    }
    if (optind >= argc)
        return oci_usage("kill", "missing the container id");
    if (optind + 2 < argc)
        return oci_usage("kill", "too many arguments");
    if (optind + 1 < argc && container_parse_signal(argv[optind + 1], &k.sig, &e) < 0)
        return oci_fail(e);
    if (regex)
        return oci_for_each_match(g, "kill", argv[optind], kill_one, &k);
    if (kill_one(g, argv[optind], &k, &e) < 0)
        return oci_fail(e);
    return 0;
}
