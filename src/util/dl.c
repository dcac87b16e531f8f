/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

/* One lock for every library: loading is rare and short, and one lock cannot
 * deadlock against another. */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

bool dl_loaded(const struct dl_lib *lib)
{
    return __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE) != NULL;
}

static int dl_load_locked(struct dl_lib *lib, struct err **err)
{
    const char *why;
    void *h;

    /* RTLD_NODELETE: the symbols stay valid even if a handle were closed;
     * RTLD_NOW: a library missing one of its own symbols fails here, not in
     * the middle of a pull. */
    dlerror();
    h = dlopen(lib->soname, RTLD_NOW | RTLD_NODELETE);
    if (h == NULL) {
        why = dlerror();
        return err_val(err, ENOENT, "%s: not found (install %s): %s", lib->soname, lib->package,
                       why ? why : "dlopen failed");
    }
    for (size_t i = 0; i < lib->n_syms; i++) {
        dlerror();
        void *p = dlsym(h, lib->syms[i].name);
        why = dlerror();
        if (p == NULL || why != NULL) {
            /* The message first: dlclose() frees the text dlerror() returned. */
            err_val(err, ENOENT, "%s: symbol `%s` not found (%s too old?): %s", lib->soname,
                    lib->syms[i].name, lib->package, why ? why : "NULL address");
            dlclose(h);
            return -1;
        }
        /* POSIX (dlsym) guarantees a function's address converts from void *. */
        *lib->syms[i].fn = (void (*)(void))p;
    }
    /* Release: a thread that sees the handle also sees every pointer above. */
    __atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
    return 0;
}

int dl_load(struct dl_lib *lib, struct err **err)
{
    int rc;

    if (dl_loaded(lib))
        return 0;
    pthread_mutex_lock(&dl_lock);
    rc = dl_loaded(lib) ? 0 : dl_load_locked(lib, err);
    pthread_mutex_unlock(&dl_lock);
    return rc;
}
