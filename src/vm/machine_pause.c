/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pause and resume (machine.h): vCPUs parked outside KVM_RUN, devices
 * quiesced, guest memory untouched. The state a snapshot saves is the state
 * of a paused machine.
 */
#include <errno.h>
#include <time.h>

#include "vm/machine.h"
#include "vm/vcpu.h"

#define PARK_TIMEOUT_S 10

void machine_vcpu_park(struct vm_machine *m)
{
    pthread_mutex_lock(&m->pause_lock);
    m->parked++;
    pthread_cond_broadcast(&m->pause_cond);
    while (atomic_load(&m->pause_req) && !atomic_load(&m->stopping))
        pthread_cond_wait(&m->pause_cond, &m->pause_lock);
    m->parked--;
    pthread_cond_broadcast(&m->pause_cond);
    pthread_mutex_unlock(&m->pause_lock);
}

static void machine_devices_pause(struct vm_machine *m, bool pause)
{
    for (unsigned int i = 0; i < m->bus.ndevs; i++) {
        const struct vm_dev *d = &m->bus.devs[i];
        if (d->ops->pause != NULL)
            d->ops->pause(d->state, pause);
    }
}

int machine_pause(struct vm_machine *m, struct err **err)
{
    unsigned int running = 0;
    struct timespec until;
    int r = 0;

    if (m->paused)
        return err_val(err, EALREADY, "%s", "pause: the VM is already paused");
    if (atomic_load(&m->stopping))
        return err_val(err, ESRCH, "%s", "pause: the VM is ending");
    for (unsigned int i = 0; i < m->ncpus; i++)
        running += m->vcpus[i].started;
    pthread_mutex_lock(&m->pause_lock);
    atomic_store(&m->pause_req, true);
    pthread_mutex_unlock(&m->pause_lock);
    for (unsigned int i = 0; i < m->ncpus; i++)
        vcpu_kick(&m->vcpus[i]);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += PARK_TIMEOUT_S;
    pthread_mutex_lock(&m->pause_lock);
    while (m->parked < running && !atomic_load(&m->stopping) && r == 0)
        r = pthread_cond_timedwait(&m->pause_cond, &m->pause_lock, &until);
    bool ok = m->parked == running && !atomic_load(&m->stopping);
    if (!ok) {
        atomic_store(&m->pause_req, false);
        pthread_cond_broadcast(&m->pause_cond);
    }
    unsigned int parked = m->parked;
    pthread_mutex_unlock(&m->pause_lock);
    if (!ok) {
        if (atomic_load(&m->stopping))
            return err_val(err, ESRCH, "%s", "pause: the VM is ending");
        return err_val(err, ETIMEDOUT, "pause: %u of %u vCPUs stopped within %d s", parked, running,
                       PARK_TIMEOUT_S);
    }
    machine_devices_pause(m, true);
    m->paused = true;
    return 0;
}

int machine_resume(struct vm_machine *m, struct err **err)
{
    if (!m->paused)
        return err_val(err, EALREADY, "%s", "resume: the VM is not paused");
    machine_unpark(m);
    return 0;
}

void machine_unpark(struct vm_machine *m)
{
    if (m->paused)
        machine_devices_pause(m, false);
    m->paused = false;
    pthread_mutex_lock(&m->pause_lock);
    atomic_store(&m->pause_req, false);
    pthread_cond_broadcast(&m->pause_cond);
    pthread_mutex_unlock(&m->pause_lock);
}
