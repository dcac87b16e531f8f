/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/bus.h"

#include <errno.h>
#include <string.h>

int bus_add(struct vm_bus *b, const struct vm_dev *dev, struct err **err)
{
    if (dev->size == 0 || dev->base + dev->size < dev->base)
        return err_val(err, EINVAL, "device %s: bad window 0x%llx+0x%llx", dev->ops->name,
                       (unsigned long long)dev->base, (unsigned long long)dev->size);
    if (b->ndevs >= VM_BUS_MAX_DEVS)
        return err_val(err, ENOSPC, "device %s: at most %d devices", dev->ops->name,
                       VM_BUS_MAX_DEVS);
    for (unsigned int i = 0; i < b->ndevs; i++) {
        const struct vm_dev *o = &b->devs[i];
        if (o->kind == dev->kind && dev->base < o->base + o->size &&
            o->base < dev->base + dev->size)
            return err_val(err, EBUSY, "device %s at 0x%llx overlaps device %s at 0x%llx",
                           dev->ops->name, (unsigned long long)dev->base, o->ops->name,
                           (unsigned long long)o->base);
    }
    b->devs[b->ndevs++] = *dev;
    return 0;
}

bool bus_access(struct vm_bus *b, enum vm_dev_kind kind, uint64_t addr, uint8_t *data, uint32_t len,
                bool is_write)
{
    for (unsigned int i = 0; i < b->ndevs; i++) {
        struct vm_dev *d = &b->devs[i];
        if (d->kind != kind || addr < d->base || addr - d->base >= d->size)
            continue;
        /* An access straddling the end of the window is not the device's. */
        if (len > d->size - (addr - d->base))
            break;
        if (is_write) {
            if (d->ops->write != NULL)
                d->ops->write(d->state, addr - d->base, data, len);
        } else {
            memset(data, 0, len);
            if (d->ops->read != NULL)
                d->ops->read(d->state, addr - d->base, data, len);
        }
        return true;
    }
    if (!is_write)
        memset(data, 0xff, len);
    return false;
}

void bus_destroy(struct vm_bus *b)
{
    while (b->ndevs > 0) {
        struct vm_dev *d = &b->devs[--b->ndevs];
        if (d->ops->destroy != NULL)
            d->ops->destroy(d->state);
    }
}
