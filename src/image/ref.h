/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image references ([HOST[:PORT]/]PATH[:TAG][@DIGEST]) checked with Docker's grammar. */
#ifndef ISOLA_IMAGE_REF_H
#define ISOLA_IMAGE_REF_H

#include <stddef.h>

#include "util/err.h"

/*
 * 0 if ref is a valid reference as Docker reads it (distribution/reference),
 * else an error naming the reference and what is wrong:
 * "reference `Bad Name!`: invalid reference format: repository name `Bad Name!`
 * must be lowercase". Every name given to an image (tag, pull, build -t, import,
 * load) goes through it.
 */
int ref_check(const char *ref, struct err **err);
/* ref_check, and no `@DIGEST`: a name given by the user to an image (tag, build
 * -t, import, load -t), as Docker refuses to tag with a digest. */
int ref_check_tag(const char *ref, struct err **err);

/* Length of ref's registry host part (`localhost:5000` of `localhost:5000/a/b`),
 * 0 when it has none (Docker Hub). */
size_t ref_domain_len(const char *ref);

#endif
