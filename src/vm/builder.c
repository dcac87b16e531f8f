/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/builder.h"

#include <errno.h>
#include <signal.h>

#include "vm/acpi.h"
#include "vm/boot.h"
#include "vm/control.h"
#include "vm/platform.h"
#include "vm/virtio/blk.h"
#include "vm/virtio/mmio.h"
#include "vm/virtio/net.h"
#include "vm/virtio/rng.h"
#include "vm/virtio/vsock.h"

static int builder_serial(struct vm_machine *m, int console_fd, struct serial **out,
                          struct err **err)
{
    struct serial *s;
    struct vm_dev dev = {.ops = &serial_ops, .kind = VM_DEV_PIO, .base = VM_PORT_COM1, .size = 8};

    if (serial_new(console_fd, &s, err) < 0)
        return -1;
    dev.state = s;
    dev.irq = machine_irq(m, VM_IRQ_COM1);
    serial_set_irq(s, &dev.irq);
    if (machine_add_device(m, &dev, false, err) < 0) {
        serial_ops.destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Install a virtio-mmio device made by a constructor (vm/virtio/mmio.h). */
static int builder_virtio(struct vm_machine *m, struct vm_dev *dev, struct err **err)
{
    dev->base = machine_next_mmio(m);
    if (machine_add_device(m, dev, false, err) < 0) {
        dev->ops->destroy(dev->state);
        return -1;
    }
    m->next_virtio_mmio = dev->base + VM_MMIO_VIRTIO_SZ;
    /* On the bus now: machine_destroy() frees it if this fails. */
    return virtio_mmio_set_ioevent(dev, machine_ioevent(m, dev->base), err);
}

static int builder_parse_mac(const char *s, uint8_t mac[6], struct err **err)
{
    unsigned int b[6];
    char tail;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) !=
        6)
        return err_val(err, EINVAL, "mac `%s`: expected six hex bytes like 52:54:00:12:34:56", s);
    for (unsigned int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

static int builder_devices(const struct vm_config *c, struct vm_machine *m, struct err **err)
{
    struct vm_dev dev;
    uint32_t gsi;

    for (unsigned int i = 0; i < c->ndisks; i++) {
        struct virtio_blk_opts o = {.path = c->disks[i].path, .readonly = c->disks[i].readonly};
        if (machine_alloc_gsi(m, &gsi, err) < 0 ||
            virtio_blk_create(&o, &m->mem, machine_irq(m, gsi), &dev, err) < 0 ||
            builder_virtio(m, &dev, err) < 0)
            return err_wrap(err, "disk `%s`", c->disks[i].path);
    }
    for (unsigned int i = 0; i < c->nnets; i++) {
        uint8_t mac[6];
        struct virtio_net_opts o = {.tap = c->nets[i].tap, .fd = -1};
        if (c->nets[i].mac != NULL) {
            if (builder_parse_mac(c->nets[i].mac, mac, err) < 0)
                return -1;
            o.mac = mac;
        }
        if (machine_alloc_gsi(m, &gsi, err) < 0 ||
            virtio_net_create(&o, &m->mem, machine_irq(m, gsi), &dev, err) < 0 ||
            builder_virtio(m, &dev, err) < 0)
            return err_wrap(err, "net tap `%s`", c->nets[i].tap);
    }
    if (c->vsock_cid != 0) {
        char def[64];
        struct virtio_vsock_opts o = {
            .guest_cid = c->vsock_cid, .uds_path = c->vsock_uds, .reaper = &m->reaper};
        if (o.uds_path == NULL) {
            snprintf(def, sizeof(def), "vsock-%u.sock", c->vsock_cid);
            o.uds_path = def;
        }
        if (machine_alloc_gsi(m, &gsi, err) < 0 ||
            virtio_vsock_create(&o, &m->mem, machine_irq(m, gsi), &dev, err) < 0 ||
            builder_virtio(m, &dev, err) < 0)
            return err_wrap(err, "vsock `%s`", o.uds_path);
    }
    if (c->rng) {
        if (machine_alloc_gsi(m, &gsi, err) < 0 ||
            virtio_rng_create(&m->mem, machine_irq(m, gsi), &dev, err) < 0 ||
            builder_virtio(m, &dev, err) < 0)
            return err_wrap(err, "virtio-rng");
    }
    return 0;
}

int builder_build(const struct vm_config *c, int console_fd, struct vm_machine *m,
                  struct serial **serial, struct err **err)
{
    struct boot_cfg bc = {
        .kernel = c->kernel, .initrd = c->initrd, .cmdline = c->cmdline, .mode = c->boot};
    struct boot_entry entry;
    uint64_t rsdp;

    machine_init(m);
    m->config = c;
    m->kvm_dev = c->kvm_dev;
    m->no_ioeventfd = c->no_ioeventfd;
    if (vm_config_validate(c, err) < 0 || boot_probe(&bc, err) < 0 ||
        machine_create(m, c->cpus, c->memory, err) < 0 ||
        builder_serial(m, console_fd, serial, err) < 0 || platform_install(m, err) < 0)
        return -1;
    if (builder_devices(c, m, err) < 0)
        return -1;
    /* the power button's event line, after the devices' (their GSIs stay) */
    if (machine_alloc_gsi(m, &m->ged_gsi, err) < 0)
        return err_wrap(err, "ACPI power button");
    if (acpi_build(m, &rsdp, err) < 0 || boot_load(m, &bc, rsdp, &entry, err) < 0)
        return -1;
    for (unsigned int i = 0; i < m->ncpus; i++)
        if (boot_setup_vcpu(m, i, &entry, err) < 0)
            return -1;
    if (c->control != NULL && control_listen(m, c->control, err) < 0)
        return -1;
    /* Every file exists now and no vCPU runs yet: fork the watcher that
     * removes them if the monitor is killed (nothing when there are none). */
    return reaper_start(&m->reaper, "isola-vmm-reap", err);
}

int builder_exit_status(const struct vm_machine *m)
{
    switch (m->end) {
    case VM_END_POWEROFF:
        return VM_STATUS_POWEROFF;
    case VM_END_EXIT_CODE:
        return m->end_code;
    case VM_END_REBOOT:
        return VM_STATUS_REBOOT;
    case VM_END_TRIPLE_FAULT:
        return VM_STATUS_TRIPLE;
    case VM_END_PANIC:
        return VM_STATUS_PANIC;
    case VM_END_INTERNAL:
        return VM_STATUS_INTERNAL;
    case VM_END_SIGNAL:
        return 128 + m->end_code;
    default:
        return VM_STATUS_ERROR;
    }
}
