/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PC platform's small ports: how a guest ends a run.
 *  - ACPI sleep control (0x604, hardware-reduced FADT SLEEP_CONTROL_REG): SLP_EN
 *    powers off; QEMU's 16-bit write of 0x2000 to 0x604 does too;
 *  - i8042 command port 0x64: 0xfe pulses the reset line (reboot);
 *  - debug exit port 0x501: the guest writes its exit code (tiny guests, inits);
 *  - pvpanic port 0x505 (QEMU's "QEMU0001"): bit 0 written means panic.
 */
#ifndef ISOLA_VM_PLATFORM_H
#define ISOLA_VM_PLATFORM_H

#include "vm/machine.h"

/* Install the platform ports on m. */
int platform_install(struct vm_machine *m, struct err **err);

#endif
