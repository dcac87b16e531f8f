/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util/dl: load a library by soname on first use, resolve typed symbols. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <zlib.h>

#include "tap.h"
#include "util/dl.h"

DL_SYM_PROTOTYPE(zlibVersion);
DL_SYM_DEFINE(zlibVersion);
DL_SYM_PROTOTYPE(crc32);
DL_SYM_DEFINE(crc32);
static void (*sym_isola_no_such_symbol)(void);

static const struct dl_sym zlib_syms[] = {DL_SYM(zlibVersion), DL_SYM(crc32)};
static struct dl_lib zlib_lib = DL_LIB("libz.so.1", "zlib1g", zlib_syms);

static const struct dl_sym bad_syms[] = {DL_SYM(zlibVersion), DL_SYM(isola_no_such_symbol)};
static struct dl_lib bad_sym_lib = DL_LIB("libz.so.1", "zlib1g", bad_syms);

static const struct dl_sym none_syms[] = {DL_SYM(zlibVersion)};
static struct dl_lib missing_lib = DL_LIB("libisola-no-such-lib.so.7", "isola-nothing", none_syms);

static struct dl_lib race_lib = DL_LIB("libz.so.1", "zlib1g", zlib_syms);

static void *race(void *arg)
{
    struct err *e = NULL;
    int rc = dl_load(&race_lib, &e);

    err_free(&e);
    return (void *)(long)rc;
}

int main(void)
{
    struct err *e = NULL;

    ok(!dl_loaded(&zlib_lib), "not loaded before dl_load");
    ok(dl_load(&zlib_lib, &e) == 0 && e == NULL, "libz.so.1 loads");
    ok(dl_loaded(&zlib_lib), "loaded after dl_load");
    ok(sym_zlibVersion != NULL && sym_crc32 != NULL, "symbols resolved");
    is_str(sym_zlibVersion ? sym_zlibVersion() : NULL, ZLIB_VERSION,
           "zlibVersion() through the pointer matches the header");
    ok(sym_crc32 && sym_crc32(0, (const Bytef *)"isola", 5) == crc32(0, (const Bytef *)"isola", 5),
       "crc32 through the pointer matches the linked one");
    void *h = zlib_lib.handle;
    ok(dl_load(&zlib_lib, &e) == 0 && zlib_lib.handle == h, "second dl_load keeps the handle");

    ok(dl_load(&missing_lib, &e) < 0, "missing soname fails");
    ok(e != NULL && e->code == ENOENT, "missing soname: ENOENT");
    ok(e && strstr(e->msg, "libisola-no-such-lib.so.7: not found (install isola-nothing): ") ==
                e->msg,
       "missing soname: message names library and package: %s", e ? e->msg : "(null)");
    ok(e && strstr(e->msg, "cannot open shared object file") != NULL,
       "missing soname: message carries dlerror()");
    err_free(&e);
    ok(!dl_loaded(&missing_lib), "missing soname: not marked loaded");

    ok(dl_load(&bad_sym_lib, &e) < 0, "missing symbol fails");
    ok(e && strstr(e->msg,
                   "libz.so.1: symbol `isola_no_such_symbol` not found (zlib1g too old?): ") ==
                e->msg,
       "missing symbol: message names library, symbol and package: %s", e ? e->msg : "(null)");
    ok(e && strstr(e->msg, "undefined symbol: isola_no_such_symbol") != NULL,
       "missing symbol: message carries dlerror()");
    err_free(&e);
    ok(!dl_loaded(&bad_sym_lib), "missing symbol: not marked loaded");
    ok(dl_load(&bad_sym_lib, &e) < 0 && e != NULL, "missing symbol: fails again on retry");
    err_free(&e);

    pthread_t t[4];
    int started = 0, failed = 0;
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, race, NULL) == 0)
            started++;
    for (int i = 0; i < started; i++) {
        void *r;
        pthread_join(t[i], &r);
        failed += r != NULL;
    }
    ok(started == 4 && failed == 0 && dl_loaded(&race_lib), "concurrent dl_load from 4 threads");

    return done_testing();
}
