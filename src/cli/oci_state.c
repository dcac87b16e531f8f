/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci state ID: runc's state JSON, indented. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/oci.h"
#include "runtime/container.h"
#include "util/js.h"

int oci_state(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct err *e = NULL;
    _cleanup_json_ json_t *j = NULL;
    const char *id;

    int c = getopt_long_only(argc, argv, "h", opts, NULL);
    if (c == 'h')
        return oci_help("state");
    if (c != -1)
        return oci_usage("state", "bad option");
    if ((id = oci_id_arg("state", argc, argv)) == NULL)
        return 1;
    if (container_state(g->root, id, &j, &e) < 0)
        return oci_fail(e);
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s == NULL)
        return 1;
    printf("%s\n", s);
    free(s);
    return 0;
}
