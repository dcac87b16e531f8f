/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk (virtio 1.2 §5.2) on a raw file or block device. One request
 * queue, served synchronously on the notifying vCPU thread with
 * preadv/pwritev. Read-only disks offer VIRTIO_BLK_F_RO and answer writes
 * with VIRTIO_BLK_S_IOERR. Also: FLUSH (fdatasync), GET_ID, and on writable
 * disks DISCARD and WRITE_ZEROES (fallocate).
 */
#ifndef ISOLA_VM_VIRTIO_BLK_H
#define ISOLA_VM_VIRTIO_BLK_H

#include <stdbool.h>

#include "util/err.h"
#include "vm/device.h"
#include "vm/mem.h"

struct virtio_blk_opts {
    const char *path;
    bool readonly;
    const char *serial; /* GET_ID answer, at most 20 bytes used; NULL: file name */
};

/* Open the disk and fill *out (see vm/virtio/mmio.h); the machine sets out->base. */
int virtio_blk_create(const struct virtio_blk_opts *o, const struct vm_mem *mem, struct vm_irq irq,
                      struct vm_dev *out, struct err **err);

#endif
