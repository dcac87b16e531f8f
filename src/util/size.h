/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sizes given by users (`isola run -m`, --memory-swap, --shm-size, tmpfs
 * size=, `isola vm run --memory`): the one suffix rule, Docker's
 * (go-units RAMInBytes): a number, optionally with a fraction, then an
 * optional unit b, k, m, g, t or p (case-insensitive, binary multiples: k =
 * 1024), optionally followed by "i" and/or "b" (so 64m, 64M, 64mb, 64MiB,
 * 1.5g). A number without a unit counts in `unit` bytes (1 for Docker's
 * flags; isola vm run counts MiB, as QEMU's -m does).
 */
#ifndef ISOLA_UTIL_SIZE_H
#define ISOLA_UTIL_SIZE_H

#include <stdint.h>

#include "util/err.h"

/* Parse s into *bytes; EINVAL on a malformed size, ERANGE beyond INT64_MAX.
 * Messages name s; callers wrap them with the flag. */
int size_parse(const char *s, uint64_t unit, int64_t *bytes, struct err **err);

#endif
