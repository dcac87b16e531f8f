/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/device.h"

#include <signal.h>

int vm_dev_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    sigset_t all, old;
    int r;

    /* The new thread inherits the mask in force at pthread_create. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, VM_DEV_THREAD_STACK);
    r = pthread_create(thread, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}
