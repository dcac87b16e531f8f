/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny freestanding guest for isola's monitor tests (layer 1). It prints to
 * COM1 and does what its command line says (`mode=...`):
 *   hello        print a greeting and the command line, power off (ACPI S5)
 *   exit=N       write N to the debug exit port 0x501
 *   reboot       i8042 reset (0x64 <- 0xfe)
 *   triple       fault with an empty IDT: triple fault
 *   panic        pvpanic (0x505 <- 1)
 *   smp          start the other CPUs (INIT-SIPI-SIPI), print how many came up
 *   echo         read a line from COM1 (polling), print it back, power off
 *   mmio         read an MMIO address no device owns (expects all ones)
 *   spin         loop forever (the test stops the monitor)
 *   count        print "count N" with N = 1, 2, ... every ticks= TSC ticks
 *                (default 500000000), forever: pause, resume and snapshot
 *                tests see it go on from where it was
 * It has two entries: 64-bit Linux boot protocol (_start) and PVH (pvh_start).
 */
#include <stddef.h>
#include <stdint.h>

extern char tramp_start[], tramp_end[], tramp_counter[];
void guest_main(const uint8_t *boot_params, const uint8_t *pvh_start_info);

#define COM1 0x3f8

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void putc_(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (uint8_t)c);
}

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void putu(uint64_t v, unsigned int base)
{
    char b[24];
    int i = 0;

    do {
        b[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (i)
        putc_(b[--i]);
}

static size_t len_(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

static int starts(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return 1;
}

/* Value of key=... in the command line, or NULL. */
static const char *arg(const char *cmdline, const char *key)
{
    for (const char *s = cmdline; *s; s++) {
        if ((s == cmdline || s[-1] == ' ') && starts(s, key))
            return s + len_(key);
    }
    return NULL;
}

static uint64_t num(const char *s)
{
    uint64_t v = 0;

    while (s && *s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

static void poweroff(void)
{
    outb(0x604, (5 << 2) | 0x20); /* SLP_TYP=5 (S5) | SLP_EN */
    puts_("isola-guest: still running after power-off\n");
    for (;;)
        __asm__ volatile("hlt");
}

static void triple_fault(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idt = {0, 0};

    __asm__ volatile("lidt %0; ud2" : : "m"(idt));
}

static void lapic_icr(uint32_t low)
{
    volatile uint32_t *icr = (volatile uint32_t *)(uintptr_t)0xfee00300;

    icr[4] = 0; /* ICR high (0x310): destination by shorthand */
    *icr = low;
    while (*icr & (1u << 12)) /* delivery pending */
        __asm__ volatile("pause");
}

static void smp(const char *cmdline)
{
    volatile uint32_t *counter =
        (volatile uint32_t *)(uintptr_t)(0x8000 + (tramp_counter - tramp_start));
    uint64_t expect = num(arg(cmdline, "expect="));
    uint8_t *dst = (uint8_t *)(uintptr_t)0x8000;

    for (char *p = tramp_start; p < tramp_end; p++)
        *dst++ = (uint8_t)*p;
    *counter = 0;
    /* Intel SDM 8.4.4.1: INIT, then two STARTUPs, to all but self. */
    lapic_icr(0x000c4500);
    lapic_icr(0x000c4608);
    lapic_icr(0x000c4608);
    for (uint64_t spin = 0; spin < 2000000000ULL; spin++) {
        if (expect != 0 && *counter + 1 >= expect)
            break;
        __asm__ volatile("pause");
    }
    puts_("isola-guest: cpus up: ");
    putu(*counter + 1, 10);
    putc_('\n');
}

static void echo(void)
{
    char line[128];
    unsigned int n = 0;

    puts_("isola-guest: ready\n");
    while (n < sizeof(line) - 1) {
        while (!(inb(COM1 + 5) & 0x01))
            __asm__ volatile("pause");
        char c = (char)inb(COM1);
        if (c == '\n' || c == '\r')
            break;
        line[n++] = c;
    }
    line[n] = 0;
    puts_("isola-guest: echo: ");
    puts_(line);
    putc_('\n');
}

static inline uint64_t rdtsc_(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void count(const char *cmdline)
{
    const char *t = arg(cmdline, "ticks=");
    uint64_t ticks = t ? num(t) : 500000000ULL;
    volatile uint64_t n = 0; /* in guest memory (the stack) */

    for (;;) {
        uint64_t start = rdtsc_();
        while (rdtsc_() - start < ticks)
            __asm__ volatile("pause");
        n = n + 1;
        puts_("isola-guest: count ");
        putu(n, 10);
        putc_('\n');
    }
}

void guest_main(const uint8_t *bp, const uint8_t *pvh)
{
    /* boot_params.hdr.cmd_line_ptr, or hvm_start_info.cmdline_paddr. */
    uint64_t cmd_ptr = bp ? *(const uint32_t *)(bp + 0x228) : *(const uint64_t *)(pvh + 24);
    const char *cmdline = cmd_ptr ? (const char *)(uintptr_t)cmd_ptr : "";
    const char *mode = arg(cmdline, "mode=");

    puts_("isola-guest: hello\n");
    puts_("isola-guest: cmdline: ");
    puts_(cmdline);
    putc_('\n');
    if (mode == NULL || starts(mode, "hello")) {
        poweroff();
    } else if (starts(mode, "exit")) {
        outb(0x501, (uint8_t)num(arg(cmdline, "code=")));
    } else if (starts(mode, "reboot")) {
        outb(0x64, 0xfe);
    } else if (starts(mode, "triple")) {
        triple_fault();
    } else if (starts(mode, "panic")) {
        outb(0x505, 1);
    } else if (starts(mode, "smp")) {
        smp(cmdline);
        poweroff();
    } else if (starts(mode, "echo")) {
        echo();
        poweroff();
    } else if (starts(mode, "mmio")) {
        volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)0xd8000000;
        *p = 0x12345678;
        puts_("isola-guest: mmio: ");
        putu(*p, 16);
        putc_('\n');
        poweroff();
    } else if (starts(mode, "count")) {
        count(cmdline);
    } else if (starts(mode, "spin")) {
        for (;;)
            __asm__ volatile("pause");
    }
    puts_("isola-guest: unknown mode or the monitor did not stop me\n");
    outb(0x501, 99);
}
