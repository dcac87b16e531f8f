/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vCPUs: the KVM vCPU fd, its shared kvm_run page, and the thread that runs it. */
#ifndef ISOLA_VM_VCPU_H
#define ISOLA_VM_VCPU_H

#include "vm/machine.h"

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_create(struct vm_machine *m, unsigned int id, struct err **err);
void vcpu_destroy(struct vm_vcpu *v);

/* Start the thread running v (KVM_RUN loop, exits dispatched to m's buses). */
int vcpu_start(struct vm_vcpu *v, struct err **err);
/* Make a running vCPU leave KVM_RUN; its thread then sees m->stopping. */
void vcpu_kick(struct vm_vcpu *v);
void vcpu_join(struct vm_vcpu *v);

#endif
