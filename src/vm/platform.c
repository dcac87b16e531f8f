/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/platform.h"

#include <string.h>

static uint32_t platform_val(const uint8_t *data, uint32_t len)
{
    uint32_t v = 0;

    memcpy(&v, data, len < 4 ? len : 4);
    return v;
}

static void sleep_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
    uint32_t v = platform_val(data, len);

    /* ACPI 6.4, 4.8.3.7: SLP_EN (bit 5) with SLP_TYP = _S5's value (5). */
    if ((off == 0 && len == 1 && (v & 0x20) && ((v >> 2) & 7) == 5) ||
        (off == 0 && len == 2 && (v & 0x2000)))
        machine_end(dev, VM_END_POWEROFF, 0, "%s", "");
}

static void sleep_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
    (void)dev;
    (void)off;
    data[0] = 0x80; /* WAK_STS */
}

static void i8042_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
    if (data[0] == 0xfe)
        machine_end(dev, VM_END_REBOOT, 0, "%s", "");
}

static void i8042_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
    data[0] = 0; /* status: no data, input buffer empty */
}

static void debug_exit_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
    if (off == 0)
        machine_end(dev, VM_END_EXIT_CODE, (int)(platform_val(data, len) & 0xff), "%s", "");
}

static void pvpanic_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
    data[0] = 1; /* PVPANIC_PANICKED supported */
}

static void pvpanic_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
    if (data[0] & 1)
        machine_end(dev, VM_END_PANIC, 0, "%s", "the guest kernel panicked");
}

static const struct vm_dev_ops sleep_ops = {
    .name = "acpi-sleep",
    .read = sleep_read,
    .write = sleep_write,
};
static const struct vm_dev_ops i8042_ops = {
    .name = "i8042",
    .read = i8042_read,
    .write = i8042_write,
};
static const struct vm_dev_ops debug_exit_ops = {
    .name = "debug-exit",
    .write = debug_exit_write,
};
static const struct vm_dev_ops pvpanic_ops = {
    .name = "pvpanic",
    .read = pvpanic_read,
    .write = pvpanic_write,
};

int platform_install(struct vm_machine *m, struct err **err)
{
    struct vm_dev devs[] = {
        {.ops = &sleep_ops, .kind = VM_DEV_PIO, .base = VM_PORT_SLEEP_CTL, .size = 2},
        {.ops = &i8042_ops, .kind = VM_DEV_PIO, .base = 0x64, .size = 1},
        {.ops = &debug_exit_ops, .kind = VM_DEV_PIO, .base = VM_PORT_DEBUG_EXIT, .size = 4},
        {.ops = &pvpanic_ops, .kind = VM_DEV_PIO, .base = VM_PORT_PVPANIC, .size = 1},
    };

    for (unsigned int i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
        devs[i].state = m;
        if (machine_add_device(m, &devs[i], false, err) < 0)
            return -1;
    }
    return 0;
}
