/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-rng (virtio 1.2 §5.4): one request queue whose device-writable
 * buffers are filled from getrandom(2), at most 64 KiB per request.
 */
#ifndef ISOLA_VM_VIRTIO_RNG_H
#define ISOLA_VM_VIRTIO_RNG_H

#include "util/err.h"
#include "vm/device.h"
#include "vm/mem.h"

/* Fill *out (see vm/virtio/mmio.h); the machine sets out->base. */
int virtio_rng_create(const struct vm_mem *mem, struct vm_irq irq, struct vm_dev *out,
                      struct err **err);

#endif
