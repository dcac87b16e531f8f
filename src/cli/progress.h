/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The front end's view of registry transfers (issue 5 "Registry": progress bars
 * with sizes and rates on a terminal, quiet lines otherwise). The library
 * reports through struct registry_progress; this draws it.
 */
#ifndef ISOLA_CLI_PROGRESS_H
#define ISOLA_CLI_PROGRESS_H

#include <stdbool.h>
#include <time.h>

#include "image/registry.h"

struct progress {
    struct registry_progress cb;
    bool bars;          /* bars on stderr (a terminal and not --quiet) */
    bool drawn;         /* a bar is on screen, its line not ended */
    char current[80];   /* digest of the blob the bar is for */
    time_t start, last; /* of the current blob's transfer */
    const char *pushed; /* name printed for REG_PUSHED */
};

/* Fill p; bars only when want_bars and stderr is a terminal. */
void progress_init(struct progress *p, bool want_bars);

/* End a bar left on screen (after an error). */
void progress_finish(struct progress *p);

#endif
