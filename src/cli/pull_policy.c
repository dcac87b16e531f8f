/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli/pull_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "image/image.h"
#include "image/registry.h"
#include "util/cleanup.h"

int pull_policy_parse(const char *s)
{
    if (strcmp(s, "missing") == 0)
        return PULL_MISSING;
    if (strcmp(s, "always") == 0)
        return PULL_ALWAYS;
    if (strcmp(s, "never") == 0)
        return PULL_NEVER;
    return -1;
}

int pull_policy_ensure(struct store *s, const char *image, enum pull_policy p, struct err **err)
{
    _cleanup_image_ struct image *img = NULL;
    _cleanup_free_ char *pulled = NULL;
    struct err *e = NULL;
    /* the front end's registry credentials, as `isola pull` */
    struct registry_opts ro = {.creds = getenv("ISOLA_REGISTRY_CREDS")};

    if (p != PULL_ALWAYS) {
        if (image_open(s, image, NULL, &img, &e) == 0)
            return 0;
        if (e->code != ENOENT) {
            *err = e;
            return -1;
        }
        err_free(&e);
        if (p == PULL_NEVER)
            return err_val(err, ENOENT,
                           "image `%s` is not in the store (%s) and --pull never was given; "
                           "pull it with `isola pull %s`",
                           image, cli_store_root(NULL), image);
        fprintf(stderr, "Unable to find image '%s' locally\n", image);
    }
    if (registry_pull(s, image, &ro, &pulled, err) < 0)
        return err_wrap(err, "pull `%s` (`isola pull %s` has the registry options)", image, image);
    return 0;
}
