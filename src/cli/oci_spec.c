/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci spec [--bundle DIR] [--rootless]: write a default config.json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci.h"
#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

int oci_spec(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                         {"rootless", no_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *bundle = ".";
    bool rootless = false;
    struct err *e = NULL;
    _cleanup_free_ char *path = NULL;
    int c;

    while ((c = getopt_long_only(argc, argv, "b:h", opts, NULL)) != -1) {
        if (c == 'h')
            return oci_help("spec");
        if (c == 'b')
            bundle = optarg;
        else if (c == 'R')
            rootless = true;
        else
            return oci_usage("spec", "bad option");
    }
    if (asprintf(&path, "%s/config.json", bundle) < 0)
        return 1;
    if (fs_exists(path)) {
        err_val(&e, EEXIST, "`%s` already exists (remove it first)", path);
        return oci_fail(e);
    }
    _cleanup_json_ json_t *j = spec_default(rootless);
    char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    if (s == NULL)
        return 1;
    size_t len = strlen(s);
    s[len] = '\0';
    int rc = fs_write_atomic(path, s, len, 0644, &e);
    free(s);
    if (rc < 0)
        return oci_fail(e);
    return 0;
}
