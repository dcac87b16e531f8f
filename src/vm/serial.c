/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/js.h"

/* Register offsets and bits (PC16550D, "Register Summary"). */
#define UART_RX  0
#define UART_TX  0
#define UART_IER 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI        0x01
#define IER_THRI       0x02
#define IIR_NO_INT     0x01
#define IIR_THRI       0x02
#define IIR_RDI        0x04
#define IIR_FIFO       0xc0
#define FCR_FIFO       0x01
#define FCR_CLEAR_RCVR 0x02
#define LCR_DLAB       0x80
#define MCR_LOOP       0x10
#define LSR_DR         0x01
#define LSR_THRE       0x20
#define LSR_TEMT       0x40

#define RX_SIZE 4096

struct serial {
    pthread_mutex_t lock;
    int out_fd;
    struct vm_irq irq;
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
    bool thri_pending;
    int level; /* last level driven on the irq line */
    uint8_t rx[RX_SIZE];
    unsigned int rx_head, rx_len;
};

int serial_new(int out_fd, struct serial **out, struct err **err)
{
    struct serial *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return err_set(err, ENOMEM, "serial");
    pthread_mutex_init(&s->lock, NULL);
    s->out_fd = out_fd;
    s->mcr = 0x08; /* OUT2 */
    s->dll = 0x0c; /* 9600 baud, as a BIOS would leave it */
    *out = s;
    return 0;
}

void serial_set_irq(struct serial *s, const struct vm_irq *irq)
{
    pthread_mutex_lock(&s->lock);
    s->irq = *irq;
    pthread_mutex_unlock(&s->lock);
}

static uint8_t serial_iir(const struct serial *s)
{
    uint8_t fifo = (s->fcr & FCR_FIFO) ? IIR_FIFO : 0;

    if ((s->ier & IER_RDI) && s->rx_len > 0)
        return IIR_RDI | fifo;
    if ((s->ier & IER_THRI) && s->thri_pending)
        return IIR_THRI | fifo;
    return IIR_NO_INT | fifo;
}

static void serial_update_irq(struct serial *s)
{
    int level = (serial_iir(s) & IIR_NO_INT) ? 0 : 1;

    if (level != s->level) {
        s->level = level;
        vm_irq_set(&s->irq, level);
    }
}

static void serial_rx_push(struct serial *s, uint8_t c)
{
    if (s->rx_len < RX_SIZE) {
        s->rx[(s->rx_head + s->rx_len) % RX_SIZE] = c;
        s->rx_len++;
    }
}

void serial_input(struct serial *s, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < len; i++)
        serial_rx_push(s, buf[i]);
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

static void serial_out(struct serial *s, uint8_t c)
{
    if (s->mcr & MCR_LOOP) {
        serial_rx_push(s, c);
        return;
    }
    if (s->out_fd >= 0) {
        ssize_t r;
        do
            r = write(s->out_fd, &c, 1);
        while (r < 0 && errno == EINTR);
        /* A closed or full console drops output; the guest keeps running. */
    }
}

static uint8_t serial_msr(const struct serial *s)
{
    if (s->mcr & MCR_LOOP) /* loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD */
        return (uint8_t)(((s->mcr & 0x02) << 3) | ((s->mcr & 0x01) << 5) | ((s->mcr & 0x04) << 4) |
                         ((s->mcr & 0x08) << 4));
    return 0xb0; /* DCD, DSR, CTS */
}

static void serial_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
    struct serial *s = dev;
    uint8_t v = 0;

    pthread_mutex_lock(&s->lock);
    switch (off) {
    case UART_RX:
        if (s->lcr & LCR_DLAB) {
            v = s->dll;
        } else if (s->rx_len > 0) {
            v = s->rx[s->rx_head];
            s->rx_head = (s->rx_head + 1) % RX_SIZE;
            s->rx_len--;
        }
        break;
    case UART_IER:
        v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
        break;
    case UART_IIR:
        v = serial_iir(s);
        /* Reading IIR acknowledges a THR-empty interrupt it reports. */
        if ((v & 0x0f) == IIR_THRI)
            s->thri_pending = false;
        break;
    case UART_LCR:
        v = s->lcr;
        break;
    case UART_MCR:
        v = s->mcr;
        break;
    case UART_LSR:
        v = LSR_THRE | LSR_TEMT | (s->rx_len > 0 ? LSR_DR : 0);
        break;
    case UART_MSR:
        v = serial_msr(s);
        break;
    case UART_SCR:
        v = s->scr;
        break;
    default:
        break;
    }
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
    data[0] = v;
    if (len > 1)
        memset(data + 1, 0, len - 1);
}

static void serial_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct serial *s = dev;
    uint8_t v = data[0];

    pthread_mutex_lock(&s->lock);
    switch (off) {
    case UART_TX:
        if (s->lcr & LCR_DLAB) {
            s->dll = v;
        } else {
            serial_out(s, v);
            s->thri_pending = true;
        }
        break;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->dlm = v;
        } else {
            /* Enabling THRI with an empty THR raises it at once. */
            if (!(s->ier & IER_THRI) && (v & IER_THRI))
                s->thri_pending = true;
            s->ier = v & 0x0f;
        }
        break;
    case UART_FCR:
        s->fcr = v & 0xc9;
        if (v & FCR_CLEAR_RCVR)
            s->rx_head = s->rx_len = 0;
        break;
    case UART_LCR:
        s->lcr = v;
        break;
    case UART_MCR:
        s->mcr = v & 0x1f;
        break;
    case UART_SCR:
        s->scr = v;
        break;
    default:
        break;
    }
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

static json_t *serial_save(void *dev)
{
    struct serial *s = dev;
    json_t *j;

    pthread_mutex_lock(&s->lock);
    j = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:b}", "ier", s->ier, "lcr", s->lcr, "mcr", s->mcr,
                  "scr", s->scr, "fcr", s->fcr, "dll", s->dll, "dlm", s->dlm, "thri_pending",
                  s->thri_pending);
    pthread_mutex_unlock(&s->lock);
    return j;
}

static int serial_restore(void *dev, json_t *state, struct err **err)
{
    struct serial *s = dev;
    static const char *const keys[] = {"ier", "lcr", "mcr",          "scr", "fcr",
                                       "dll", "dlm", "thri_pending", NULL};
    uint32_t v[7];
    bool thri = false;

    if (js_check_keys_strict(state, "serial", keys, err) < 0)
        return -1;
    for (unsigned int i = 0; i < 7; i++) {
        int64_t x = 0;
        if (js_get_range(state, "serial", keys[i], true, 0, 255, &x, err) < 0)
            return -1;
        v[i] = (uint32_t)x;
    }
    if (js_get_bool(state, "serial", "thri_pending", false, &thri, err) < 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    s->ier = v[0];
    s->lcr = v[1];
    s->mcr = v[2];
    s->scr = v[3];
    s->fcr = v[4];
    s->dll = v[5];
    s->dlm = v[6];
    s->thri_pending = thri;
    s->rx_head = s->rx_len = 0;
    serial_update_irq(s);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void serial_destroy(void *dev)
{
    struct serial *s = dev;

    pthread_mutex_destroy(&s->lock);
    free(s);
}

const struct vm_dev_ops serial_ops = {
    .name = "serial",
    .read = serial_read,
    .write = serial_write,
    .save = serial_save,
    .restore = serial_restore,
    .destroy = serial_destroy,
};
