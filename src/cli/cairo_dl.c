/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli/cairo_dl.h"

#include <dlfcn.h>

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

void cairo_dl_release_caches(void)
{
    if (!dl_loaded(&cairo_lib))
        return;
    sym_cairo_debug_reset_static_data();
    /* fontconfig's configuration, loaded by cairo's first font: its FcFini,
     * from the copy already in the process (RTLD_NOLOAD) */
    void *fc = dlopen("libfontconfig.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (fc) {
        void (*fini)(void) = (void (*)(void))dlsym(fc, "FcFini");
        if (fini)
            fini();
        dlclose(fc);
    }
}
