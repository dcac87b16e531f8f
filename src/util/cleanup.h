/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scope-bound resources with GCC's cleanup attribute (as crun and LXC do) and
 * explicit ownership moves: `return steal_fd(&fd);` hands the fd to the caller
 * and leaves -1 behind, so the cleanup does nothing.
 */
#ifndef ISOLA_UTIL_CLEANUP_H
#define ISOLA_UTIL_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
    void **pp = (void **)p;
    free(*pp);
    *pp = NULL;
}

static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
    *fd = -1;
}

static inline void cleanup_fclosep(FILE **f)
{
    if (*f != NULL)
        fclose(*f);
    *f = NULL;
}

static inline void cleanup_closedirp(DIR **d)
{
    if (*d != NULL)
        closedir(*d);
    *d = NULL;
}

/* NULL-terminated string vector. */
static inline void strv_free(char **v)
{
    if (v == NULL)
        return;
    for (char **s = v; *s != NULL; s++)
        free(*s);
    free(v);
}

static inline void cleanup_strvp(char ***v)
{
    strv_free(*v);
    *v = NULL;
}

#define _cleanup_free_     __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_    __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_   __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(cleanup_closedirp)))
#define _cleanup_strv_     __attribute__((cleanup(cleanup_strvp)))

static inline int steal_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

static inline void *steal_ptr_(void **p)
{
    void *r = *p;
    *p = NULL;
    return r;
}
/* Move a pointer out of a cleanup variable: `return steal_ptr(&buf);` */
#define steal_ptr(pp) ((__typeof__(*(pp)))steal_ptr_((void **)(pp)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
