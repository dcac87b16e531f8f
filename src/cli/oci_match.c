/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crun's `--regex`: the container argument of delete/kill is an extended
 * regular expression, and the verb runs on every container whose id matches
 * (unanchored, as regexec(3) and crun match). */
#include <errno.h>
#include <regex.h>
#include <stdio.h>

#include "cli/oci.h"
#include "runtime/container.h"
#include "util/js.h"

int oci_for_each_match(struct oci_global *g, const char *verb, const char *pattern,
                       int (*fn)(struct oci_global *g, const char *id, void *data,
                                 struct err **err),
                       void *data)
{
    _cleanup_json_ json_t *arr = NULL;
    struct err *e = NULL;
    regex_t re;
    int rc;
    size_t i;
    json_t *j;

    if ((rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB)) != 0) {
        char msg[256];
        regerror(rc, &re, msg, sizeof(msg));
        err_val(&e, EINVAL, "%s --regex `%s`: %s", verb, pattern, msg);
        return oci_fail(e);
    }
    if (container_list(g->root, &arr, &e) < 0) {
        regfree(&re);
        return oci_fail(e);
    }
    json_array_foreach (arr, i, j) {
        const char *id = json_string_value(json_object_get(j, "id"));
        if (id == NULL || regexec(&re, id, 0, NULL, 0) != 0)
            continue;
        /* as crun: a failure is reported and the others still run; the
         * exit status stays 0 (only a bad regex or an unreadable root fail) */
        if (fn(g, id, data, &e) < 0)
            oci_fail(e);
    }
    regfree(&re);
    return 0;
}
