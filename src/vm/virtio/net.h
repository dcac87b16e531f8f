/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net (virtio 1.2 §5.1) on a tap device opened with IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR (12-byte virtio_net_hdr_v1, no offloads). One
 * receive and one transmit queue. Transmit runs on the notifying vCPU thread;
 * receive runs on a thread of the device that polls the tap and an eventfd.
 * Offered: MAC, STATUS (link up), INDIRECT_DESC, EVENT_IDX.
 */
#ifndef ISOLA_VM_VIRTIO_NET_H
#define ISOLA_VM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "vm/device.h"
#include "vm/mem.h"

struct virtio_net_opts {
    const char *tap;    /* interface name; it must exist unless create is set */
    bool create;        /* create the tap if missing (it vanishes with the VM) */
    int fd;             /* or: an open tap fd (taken over), -1 if unused */
    const uint8_t *mac; /* 6 bytes, or NULL for a random locally administered one */
};

/* Open the tap, start the receive thread and fill *out (see
 * vm/virtio/mmio.h); the machine sets out->base. */
int virtio_net_create(const struct virtio_net_opts *o, const struct vm_mem *mem, struct vm_irq irq,
                      struct vm_dev *out, struct err **err);

#endif
