/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libcurl, opened on first use (util/dl.h): only the registry client needs it,
 * and Debian's libcurl pulls in some 30 libraries (gnutls via librtmp, krb5,
 * ldap, ssh2, nghttp2, idn2, psl) that every other command would load for
 * nothing. Call curl_dl_load() before any sym_curl_*().
 */
#ifndef ISOLA_IMAGE_CURL_DL_H
#define ISOLA_IMAGE_CURL_DL_H

#include <curl/curl.h>

#include "util/dl.h"

/* Every libcurl function isola calls, in one place. */
#define CURL_DL_SYMS(X)   \
    X(curl_easy_cleanup)  \
    X(curl_easy_escape)   \
    X(curl_easy_getinfo)  \
    X(curl_easy_init)     \
    X(curl_easy_perform)  \
    X(curl_easy_reset)    \
    X(curl_easy_setopt)   \
    X(curl_easy_strerror) \
    X(curl_free)          \
    X(curl_slist_append)  \
    X(curl_slist_free_all)

#define CURL_DL_PROTO_(s) DL_SYM_PROTOTYPE(s);
CURL_DL_SYMS(CURL_DL_PROTO_)
#undef CURL_DL_PROTO_

/* Load libcurl.so.4 (package libcurl4) and every symbol above, once. */
int curl_dl_load(struct err **err);

#endif
