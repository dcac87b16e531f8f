/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "image/curl_dl.h"

#define CURL_DL_DEFINE_(s) DL_SYM_DEFINE(s);
CURL_DL_SYMS(CURL_DL_DEFINE_)

#define CURL_DL_ARG_(s) DL_SYM(s),
static const struct dl_sym curl_syms[] = {CURL_DL_SYMS(CURL_DL_ARG_)};

/* libcurl.so.4: the soname of every libcurl since 7.16 (Debian: libcurl4). */
static struct dl_lib curl_lib = DL_LIB("libcurl.so.4", "libcurl4", curl_syms);

int curl_dl_load(struct err **err)
{
    return dl_load(&curl_lib, err);
}
