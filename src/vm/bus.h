/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's buses: devices installed at MMIO or port windows. A vCPU exit
 * is routed to the device whose window holds the address; an access no device
 * claims reads as all ones and its writes are dropped, as on real hardware.
 * Devices do their own locking (several vCPU threads may call them at once).
 */
#ifndef ISOLA_VM_BUS_H
#define ISOLA_VM_BUS_H

#include "vm/device.h"

#define VM_BUS_MAX_DEVS 32

struct vm_bus {
    struct vm_dev devs[VM_BUS_MAX_DEVS];
    unsigned int ndevs;
};

/* Install dev (copied); fails if the table is full or the window overlaps
 * another of the same kind. */
int bus_add(struct vm_bus *b, const struct vm_dev *dev, struct err **err);

/* Route one access; returns false when no device claims it. */
bool bus_access(struct vm_bus *b, enum vm_dev_kind kind, uint64_t addr, uint8_t *data, uint32_t len,
                bool is_write);

/* Call every device's destroy op (in reverse order of installation). */
void bus_destroy(struct vm_bus *b);

#endif
