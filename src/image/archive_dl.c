/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "image/archive_dl.h"

#define ARCHIVE_DL_DEFINE_(s) DL_SYM_DEFINE(s);
ARCHIVE_DL_SYMS(ARCHIVE_DL_DEFINE_)

#define ARCHIVE_DL_ARG_(s) DL_SYM(s),
static const struct dl_sym archive_syms[] = {ARCHIVE_DL_SYMS(ARCHIVE_DL_ARG_)};

/* libarchive.so.13: the soname since libarchive 3.0 (Debian: libarchive13). */
static struct dl_lib archive_lib = DL_LIB("libarchive.so.13", "libarchive13", archive_syms);

int archive_dl_load(struct err **err)
{
    return dl_load(&archive_lib, err);
}
