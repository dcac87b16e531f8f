/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Durations given by users (`isola run --health-interval`, the Dockerfile's
 * `HEALTHCHECK --interval=`): Go's time.ParseDuration, as Docker reads them.
 * A sequence of decimal numbers, each with an optional fraction and a unit
 * (ns, us or µs, ms, s, m, h): "30s", "1m30s", "1.5h", "500ms"; "0" alone is
 * zero. No sign (a negative duration means nothing here).
 */
#ifndef ISOLA_UTIL_DURATION_H
#define ISOLA_UTIL_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Parse s into *ns; EINVAL on a malformed duration, ERANGE beyond INT64_MAX.
 * Messages name s; callers wrap them with the flag. */
int duration_parse(const char *s, int64_t *ns, struct err **err);
/* Go's Duration.String(): "30s", "1m30s", "500ms", "0s". */
void duration_format(int64_t ns, char *buf, size_t len);

#endif
