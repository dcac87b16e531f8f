/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-vsock (virtio 1.2 §5.10), stream sockets, with the host side done
 * the way Firecracker does it, over unix sockets:
 *   - guest-initiated: a guest connect(2) to host CID 2, port P is connected
 *     to the unix socket `<uds_path>_<P>` (a host program listens there);
 *   - host-initiated: a host program connects to `<uds_path>` and writes
 *     `CONNECT <P>\n`; once the guest accepts, the device answers
 *     `OK <host port>\n` and the stream is the guest connection to port P.
 * Credit-based flow control (§5.10.6.3) both ways; the device keeps at most
 * VIRTIO_VSOCK_BUF_ALLOC bytes per connection that the host has not read.
 * One device thread polls the unix sockets; the guest's transmit queue is
 * handled on the notifying vCPU thread.
 */
#ifndef ISOLA_VM_VIRTIO_VSOCK_H
#define ISOLA_VM_VIRTIO_VSOCK_H

#include <stdint.h>

#include "util/err.h"
#include "util/reaper.h"
#include "vm/device.h"
#include "vm/mem.h"

#define VIRTIO_VSOCK_BUF_ALLOC (256u * 1024)

struct virtio_vsock_opts {
    uint64_t guest_cid;    /* >= 3 (0-2 are reserved, §5.10.4) */
    const char *uds_path;  /* listening socket; must not exist (a stale socket is replaced) */
    struct reaper *reaper; /* registers uds_path with it (NULL: not registered) */
};

/* Listen on uds_path, start the device thread, fill *out (see
 * vm/virtio/mmio.h); the machine sets out->base. Destroying the device
 * closes every connection and removes uds_path. */
int virtio_vsock_create(const struct virtio_vsock_opts *o, const struct vm_mem *mem,
                        struct vm_irq irq, struct vm_dev *out, struct err **err);

#endif
