/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/builder.h"

#include <errno.h>
#include <signal.h>

#include "vm/acpi.h"
#include "vm/boot.h"
#include "vm/platform.h"

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

int builder_build(const struct vm_config *c, int console_fd, struct vm_machine *m,
                  struct serial **serial, struct err **err)
{
    struct boot_cfg bc = {
        .kernel = c->kernel, .initrd = c->initrd, .cmdline = c->cmdline, .mode = c->boot};
    struct boot_entry entry;
    uint64_t rsdp;

    machine_init(m);
    if (config_validate(c, err) < 0 || boot_probe(&bc, err) < 0 ||
        machine_create(m, c->cpus, c->memory, err) < 0 ||
        builder_serial(m, console_fd, serial, err) < 0 || platform_install(m, err) < 0)
        return -1;
    if (c->ndisks > 0 || c->nnets > 0 || c->vsock_cid != 0)
        return err_val(err, ENOTSUP, "virtio devices are not wired in this build yet");
    if (acpi_build(m, &rsdp, err) < 0 || boot_load(m, &bc, rsdp, &entry, err) < 0)
        return -1;
    for (unsigned int i = 0; i < m->ncpus; i++)
        if (boot_setup_vcpu(m, i, &entry, err) < 0)
            return -1;
    return 0;
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
