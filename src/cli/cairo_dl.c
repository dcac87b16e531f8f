/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli/cairo_dl.h"

#define CAIRO_DL_DEFINE_(s) DL_SYM_DEFINE(s);
CAIRO_DL_SYMS(CAIRO_DL_DEFINE_)

#define CAIRO_DL_ARG_(s) DL_SYM(s),
static const struct dl_sym cairo_syms[] = {CAIRO_DL_SYMS(CAIRO_DL_ARG_)};

/* libcairo.so.2: the soname of every cairo since 1.0 (Debian: libcairo2). */
static struct dl_lib cairo_lib = DL_LIB("libcairo.so.2", "libcairo2", cairo_syms);

int cairo_dl_load(struct err **err)
{
    return dl_load(&cairo_lib, err);
}
