/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci pause ID / resume ID (the cgroup freezer). */
#include "cli/oci.h"
#include "runtime/container.h"

static int pause_resume(const char *verb, struct oci_global *g, int argc, char **argv, bool p)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    const char *id;

    int c = getopt_long_only(argc, argv, "h", opts, NULL);
    if (c == 'h')
        return oci_help(verb);
    if (c != -1)
        return oci_usage(verb, "bad option");
    if ((id = oci_id_arg(verb, argc, argv)) == NULL)
        return 1;
    if (container_pause(g->root, id, p, &e) < 0)
        return oci_fail(e);
    return 0;
}

int oci_pause(struct oci_global *g, int argc, char **argv)
{
    return pause_resume("pause", g, argc, argv, true);
}

int oci_resume(struct oci_global *g, int argc, char **argv)
{
    return pause_resume("resume", g, argc, argv, false);
}
