/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An 8250/16550A UART (COM1): output to a file descriptor, input pushed in by
 * the monitor's main loop, interrupts on IER's RX-data and THR-empty sources
 * (National Semiconductor PC16550D data sheet; Linux drivers/tty/serial/8250).
 */
#ifndef ISOLA_VM_SERIAL_H
#define ISOLA_VM_SERIAL_H

#include <stddef.h>

#include "vm/device.h"

struct serial;

extern const struct vm_dev_ops serial_ops;

/* A UART writing guest output to out_fd (not owned). */
int serial_new(int out_fd, struct serial **out, struct err **err);
/* Queue host input for the guest (bytes beyond the FIFO's room are dropped). */
void serial_input(struct serial *s, const uint8_t *buf, size_t len);
/* Wire the device's irq after it was installed. */
void serial_set_irq(struct serial *s, const struct vm_irq *irq);

#endif
