/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Optional shared libraries loaded on first use (the pattern of systemd's
 * dlfcn-util.h): a command that needs libcurl or libarchive opens it then, so
 * every other command starts without loading them and what they pull in.
 *
 * Each symbol lives in a typed pointer `sym_NAME`, declared from the library's
 * own header (typeof), so the compiler still checks every call:
 *
 *     DL_SYM_PROTOTYPE(curl_easy_init);        in a header
 *     DL_SYM_DEFINE(curl_easy_init);           in one .c file
 *     static const struct dl_sym syms[] = {DL_SYM(curl_easy_init)};
 *     static struct dl_lib lib = DL_LIB("libcurl.so.4", "libcurl4", syms);
 *     if (dl_load(&lib, err) < 0) ...          then call sym_curl_easy_init()
 */
#ifndef ISOLA_UTIL_DL_H
#define ISOLA_UTIL_DL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct dl_sym {
    const char *name;
    void (**fn)(void); /* where the resolved address goes */
};

struct dl_lib {
    const char *soname;  /* "libcurl.so.4": the ABI the headers were built against */
    const char *package; /* the Debian package that ships it, for the error message */
    const struct dl_sym *syms;
    size_t n_syms;
    void *handle; /* set (atomically) once every symbol is resolved */
};

#define DL_SYM_PROTOTYPE(sym) extern __typeof__(sym) *sym_##sym
#define DL_SYM_DEFINE(sym)    __typeof__(sym) *sym_##sym = NULL
#define DL_SYM(sym)                         \
    {                                       \
#sym, (void (**)(void)) & sym_##sym \
    }
#define DL_LIB(soname, package, syms)                                       \
    {                                                                       \
        (soname), (package), (syms), sizeof(syms) / sizeof((syms)[0]), NULL \
    }

/*
 * Open lib->soname (dlopen RTLD_NOW | RTLD_NODELETE) and resolve every symbol
 * of lib->syms, once: later calls return 0 at the cost of one atomic load.
 * Safe to call from several threads. On failure no symbol may be used; the
 * error names the library, the package, the symbol and dlerror()'s text, and
 * the next call tries again.
 */
int dl_load(struct dl_lib *lib, struct err **err);

/* Whether dl_load(lib) has succeeded. */
bool dl_loaded(const struct dl_lib *lib);

#endif
