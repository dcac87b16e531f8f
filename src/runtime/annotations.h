/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crun's `run.oci.*` annotations (crun(1) "Extensions to OCI"): each is
 * honoured or refused with a message; none is silently ignored. */
#ifndef ISOLA_RUNTIME_ANNOTATIONS_H
#define ISOLA_RUNTIME_ANNOTATIONS_H

#include "runtime/spec.h"

/* Check s->annotations and apply what they change in the parsed spec
 * (run.oci.keep_original_groups, run.oci.seccomp_fail_unknown_syscall).
 * run.oci.hooks.stdout/stderr are read by hooks.c from the state. */
int annotations_apply(struct spec *s, struct err **err);

#endif
