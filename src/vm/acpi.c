/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/acpi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "vm/boot.h"

/* A growable byte buffer for AML and tables. */
struct buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void buf_put(struct buf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void buf_u8(struct buf *b, uint8_t v)
{
    buf_put(b, &v, 1);
}
static void buf_u16(struct buf *b, uint16_t v)
{
    buf_put(b, &v, 2);
}
static void buf_u32(struct buf *b, uint32_t v)
{
    buf_put(b, &v, 4);
}

/* AML PkgLength (ACPI 6.4, 20.2.4): the length counts its own bytes. */
static void aml_pkg(struct buf *out, const struct buf *body, const uint8_t *op, size_t oplen)
{
    size_t n = body->len;

    buf_put(out, op, oplen);
    if (n + 1 < 0x40) {
        buf_u8(out, (uint8_t)(n + 1));
    } else if (n + 2 < 0x1000) {
        n += 2;
        buf_u8(out, (uint8_t)((1 << 6) | (n & 0xf)));
        buf_u8(out, (uint8_t)(n >> 4));
    } else {
        n += 3;
        buf_u8(out, (uint8_t)((2 << 6) | (n & 0xf)));
        buf_u8(out, (uint8_t)(n >> 4));
        buf_u8(out, (uint8_t)(n >> 12));
    }
    buf_put(out, body->p, body->len);
    if (body->oom)
        out->oom = true;
}

static void aml_int(struct buf *b, uint32_t v)
{
    if (v == 0) {
        buf_u8(b, 0x00); /* ZeroOp */
    } else if (v == 1) {
        buf_u8(b, 0x01); /* OneOp */
    } else if (v <= 0xff) {
        buf_u8(b, 0x0a);
        buf_u8(b, (uint8_t)v);
    } else if (v <= 0xffff) {
        buf_u8(b, 0x0b);
        buf_u16(b, (uint16_t)v);
    } else {
        buf_u8(b, 0x0c);
        buf_u32(b, v);
    }
}

/* Name(SEG, "string") */
static void aml_name_str(struct buf *b, const char *seg, const char *s)
{
    buf_u8(b, 0x08);
    buf_put(b, seg, 4);
    buf_u8(b, 0x0d);
    buf_put(b, s, strlen(s) + 1);
}

static void aml_name_int(struct buf *b, const char *seg, uint32_t v)
{
    buf_u8(b, 0x08);
    buf_put(b, seg, 4);
    aml_int(b, v);
}

/* Name(_CRS, ResourceTemplate() { ... }) from raw resource descriptors. */
static void aml_crs(struct buf *b, const struct buf *res)
{
    struct buf body = {0};
    static const uint8_t op = 0x11; /* BufferOp */

    buf_u8(b, 0x08);
    buf_put(b, "_CRS", 4);
    aml_int(&body, (uint32_t)res->len + 2);
    buf_put(&body, res->p, res->len);
    buf_u8(&body, 0x79); /* EndTag, checksum 0 */
    buf_u8(&body, 0x00);
    aml_pkg(b, &body, &op, 1);
    free(body.p);
}

static void res_mem32(struct buf *r, uint32_t base, uint32_t len)
{
    buf_u8(r, 0x86); /* Memory32Fixed, read-write (ACPI 6.4, 6.4.3.4) */
    buf_u16(r, 9);
    buf_u8(r, 1);
    buf_u32(r, base);
    buf_u32(r, len);
}

static void res_irq(struct buf *r, uint32_t gsi, bool edge)
{
    buf_u8(r, 0x89); /* Extended Interrupt (6.4.3.6): consumer, active high, exclusive */
    buf_u16(r, 6);
    buf_u8(r, (uint8_t)(0x01 | (edge ? 0x02 : 0)));
    buf_u8(r, 1);
    buf_u32(r, gsi);
}

static void res_io(struct buf *r, uint16_t port, uint8_t len)
{
    buf_u8(r, 0x47); /* I/O port (6.4.2.5), 16-bit decode */
    buf_u8(r, 1);
    buf_u16(r, port);
    buf_u16(r, port);
    buf_u8(r, 1);
    buf_u8(r, len);
}

static void aml_device(struct buf *b, const char *seg, const char *hid, uint32_t uid,
                       const struct buf *res)
{
    static const uint8_t op[] = {0x5b, 0x82}; /* DeviceOp */
    struct buf body = {0};

    buf_put(&body, seg, 4);
    aml_name_str(&body, "_HID", hid);
    aml_name_int(&body, "_UID", uid);
    aml_crs(&body, res);
    aml_pkg(b, &body, op, sizeof(op));
    free(body.p);
}

/*
 * The power button of a hardware-reduced machine (ACPI 6.4, 5.6.9 "Interrupt-
 * signaled ACPI events"; QEMU's microvm does the same):
 *   Device(PWRB) { Name(_HID, "PNP0C0C") Name(_UID, 0) }
 *   Device(GED0) { Name(_HID, "ACPI0013") Name(_UID, 0)
 *                  Name(_CRS, ResourceTemplate() { Interrupt(Edge) { GSI } })
 *                  Method(_EVT, 1) { Notify(PWRB, 0x80) } }
 * Linux's evged runs _EVT on each edge of the GSI; 0x80 on a PNP0C0C device
 * is "button pressed" (ACPI 6.4, 5.6.6): the button driver reports KEY_POWER.
 */
static void aml_power_button(struct buf *b, uint32_t gsi)
{
    static const uint8_t dev_op[] = {0x5b, 0x82}, method_op = 0x14;
    struct buf body = {0}, res = {0}, method = {0};

    buf_put(&body, "PWRB", 4);
    aml_name_str(&body, "_HID", "PNP0C0C");
    aml_name_int(&body, "_UID", 0);
    aml_pkg(b, &body, dev_op, sizeof(dev_op));
    body.len = 0;
    buf_put(&body, "GED0", 4);
    aml_name_str(&body, "_HID", "ACPI0013");
    aml_name_int(&body, "_UID", 0);
    res_irq(&res, gsi, true);
    aml_crs(&body, &res);
    buf_put(&method, "_EVT", 4);
    buf_u8(&method, 0x01); /* MethodFlags: 1 argument, not serialized */
    buf_u8(&method, 0x86); /* NotifyOp */
    buf_put(&method, "PWRB", 4);
    aml_int(&method, 0x80);
    aml_pkg(&body, &method, &method_op, 1);
    aml_pkg(b, &body, dev_op, sizeof(dev_op));
    if (res.oom || method.oom)
        b->oom = true;
    free(body.p);
    free(res.p);
    free(method.p);
}

int acpi_dsdt(const struct vm_machine *m, uint8_t **aml, size_t *len, struct err **err)
{
    struct buf sb = {0}, scope = {0}, out = {0}, pkg = {0}, res = {0};
    static const uint8_t scope_op = 0x10, pkg_op = 0x12;
    unsigned int nvirtio = 0;
    char seg[5];

    /* COM1 and the pvpanic port. */
    res_io(&res, VM_PORT_COM1, 8);
    buf_u8(&res, 0x22); /* IRQNoFlags {4} */
    buf_u16(&res, 1u << VM_IRQ_COM1);
    aml_device(&sb, "COM1", "PNP0501", 0, &res);
    res.len = 0;
    res_io(&res, VM_PORT_PVPANIC, 1);
    aml_device(&sb, "PEVT", "QEMU0001", 0, &res);
    for (unsigned int i = 0; i < m->bus.ndevs; i++) {
        const struct vm_dev *d = &m->bus.devs[i];
        if (!d->acpi_virtio_mmio)
            continue;
        res.len = 0;
        res_mem32(&res, (uint32_t)d->base, (uint32_t)d->size);
        res_irq(&res, d->irq.gsi, true);
        snprintf(seg, sizeof(seg), "V%03u", nvirtio % 1000);
        aml_device(&sb, seg, "LNRO0005", nvirtio, &res);
        nvirtio++;
    }
    if (m->ged_gsi != 0)
        aml_power_button(&sb, m->ged_gsi);
    /* Scope(\_SB) { ... } */
    buf_put(&scope, "\\_SB_", 5);
    buf_put(&scope, sb.p, sb.len);
    if (sb.oom)
        scope.oom = true;
    aml_pkg(&out, &scope, &scope_op, 1);
    /* Name(_S5, Package() {5, 0}): SLP_TYP 5 for the sleep control register. */
    buf_u8(&pkg, 2);
    aml_int(&pkg, 5);
    aml_int(&pkg, 0);
    buf_u8(&out, 0x08);
    buf_put(&out, "_S5_", 4);
    aml_pkg(&out, &pkg, &pkg_op, 1);
    free(sb.p);
    free(scope.p);
    free(pkg.p);
    free(res.p);
    if (out.oom || res.oom) {
        free(out.p);
        return err_set(err, ENOMEM, "ACPI DSDT");
    }
    *aml = out.p;
    *len = out.len;
    return 0;
}

static uint8_t acpi_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

/* Standard table header (ACPI 6.4, 5.2.6); length and checksum set by acpi_finish. */
static void acpi_header(struct buf *t, const char *sig, uint8_t rev)
{
    buf_put(t, sig, 4);
    buf_u32(t, 0);
    buf_u8(t, rev);
    buf_u8(t, 0);
    buf_put(t, "ISOLA ", 6);
    buf_put(t, "ISOLAVM ", 8);
    buf_u32(t, 1);
    buf_put(t, "ISLA", 4);
    buf_u32(t, 1);
}

static void acpi_finish(struct buf *t)
{
    uint32_t len = (uint32_t)t->len;

    if (t->oom)
        return;
    memcpy(t->p + 4, &len, 4);
    t->p[9] = 0;
    t->p[9] = (uint8_t)(0x100 - acpi_sum(t->p, t->len));
}

/* Generic Address Structure (5.2.3.2) in system I/O space. */
static void acpi_gas_io(struct buf *t, uint16_t port, uint8_t bits)
{
    buf_u8(t, 1);
    buf_u8(t, bits);
    buf_u8(t, 0);
    buf_u8(t, 1); /* byte access */
    uint64_t a = port;
    buf_put(t, &a, 8);
}

static void acpi_fadt(struct buf *t, uint64_t dsdt)
{
    uint8_t zero[128] = {0}; /* longest run of zero fields: 96 bytes */
    uint64_t x = dsdt;

    acpi_header(t, "FACP", 6);
    buf_u32(t, 0);              /* 36 FIRMWARE_CTRL */
    buf_u32(t, 0);              /* 40 DSDT (32-bit; X_DSDT used) */
    buf_put(t, zero, 109 - 44); /* 44..108: legacy fields, all zero */
    /* 109 IAPC_BOOT_ARCH: no VGA, no CMOS RTC, no MSI disable; 111 reserved */
    buf_u16(t, (1 << 2) | (1 << 4) | (1 << 5));
    buf_u8(t, 0);
    /* 112 Flags: WBINVD, RESET_REG_SUP, HW_REDUCED_ACPI */
    buf_u32(t, (1 << 0) | (1 << 10) | (1 << 20));
    acpi_gas_io(t, 0x64, 8);              /* 116 RESET_REG: i8042 command port */
    buf_u8(t, 0xfe);                      /* 128 RESET_VALUE */
    buf_u16(t, 0);                        /* 129 ARM_BOOT_ARCH */
    buf_u8(t, 4);                         /* 131 FADT minor version */
    buf_put(t, zero, 8);                  /* 132 X_FIRMWARE_CTRL */
    buf_put(t, &x, 8);                    /* 140 X_DSDT */
    buf_put(t, zero, 244 - 148);          /* 148..243: X_PM1a.. X_GPE1, unused */
    acpi_gas_io(t, VM_PORT_SLEEP_CTL, 8); /* 244 SLEEP_CONTROL_REG */
    acpi_gas_io(t, VM_PORT_SLEEP_STS, 8); /* 256 SLEEP_STATUS_REG */
    buf_put(t, "ISOLAVMM", 8);            /* 268 hypervisor vendor identity */
    acpi_finish(t);
}

static void acpi_madt(struct buf *t, unsigned int ncpus)
{
    acpi_header(t, "APIC", 5);
    buf_u32(t, (uint32_t)VM_LAPIC_ADDR);
    buf_u32(t, 1); /* PCAT_COMPAT: there is an 8259 pair (KVM's) */
    for (unsigned int i = 0; i < ncpus; i++) {
        buf_u8(t, 0); /* Processor Local APIC (5.2.12.2) */
        buf_u8(t, 8);
        buf_u8(t, (uint8_t)i);
        buf_u8(t, (uint8_t)i);
        buf_u32(t, 1); /* enabled */
    }
    buf_u8(t, 1); /* I/O APIC (5.2.12.3) */
    buf_u8(t, 12);
    buf_u8(t, 0);
    buf_u8(t, 0);
    buf_u32(t, (uint32_t)VM_IOAPIC_ADDR);
    buf_u32(t, 0);
    buf_u8(t, 2); /* Interrupt Source Override: ISA IRQ 0 -> GSI 2 */
    buf_u8(t, 10);
    buf_u8(t, 0);
    buf_u8(t, 0);
    buf_u32(t, 2);
    buf_u16(t, 0);
    acpi_finish(t);
}

int acpi_build(struct vm_machine *m, uint64_t *rsdp_at, struct err **err)
{
    struct buf fadt = {0}, madt = {0}, xsdt = {0}, dsdt = {0}, rsdp = {0};
    _cleanup_free_ uint8_t *aml = NULL;
    size_t aml_len;
    const uint64_t base = BOOT_ACPI_BASE;
    uint64_t xsdt_at = base + 64, fadt_at, madt_at, dsdt_at, a;
    int r = 0;

    if (acpi_dsdt(m, &aml, &aml_len, err) < 0)
        return -1;
    acpi_header(&dsdt, "DSDT", 2);
    buf_put(&dsdt, aml, aml_len);
    acpi_finish(&dsdt);
    fadt_at = xsdt_at + 64;
    madt_at = fadt_at + 512;
    dsdt_at = madt_at + 1024;
    acpi_fadt(&fadt, dsdt_at);
    acpi_madt(&madt, m->ncpus);
    acpi_header(&xsdt, "XSDT", 1);
    a = fadt_at;
    buf_put(&xsdt, &a, 8);
    a = madt_at;
    buf_put(&xsdt, &a, 8);
    acpi_finish(&xsdt);
    /* RSDP (5.2.5.3), revision 2, 36 bytes. */
    buf_put(&rsdp, "RSD PTR ", 8);
    buf_u8(&rsdp, 0);
    buf_put(&rsdp, "ISOLA ", 6);
    buf_u8(&rsdp, 2);
    buf_u32(&rsdp, 0);
    buf_u32(&rsdp, 36);
    buf_put(&rsdp, &xsdt_at, 8);
    buf_u8(&rsdp, 0);
    buf_put(&rsdp, "\0\0\0", 3);
    if (fadt.oom || madt.oom || xsdt.oom || dsdt.oom || rsdp.oom) {
        r = err_set(err, ENOMEM, "ACPI tables");
        goto out;
    }
    rsdp.p[8] = (uint8_t)(0x100 - acpi_sum(rsdp.p, 20));
    rsdp.p[32] = (uint8_t)(0x100 - acpi_sum(rsdp.p, 36));
    if (xsdt.len > 64 || fadt.len > 512 || madt.len > 1024 || dsdt_at + dsdt.len > BOOT_HIMEM) {
        r = err_val(err, E2BIG, "ACPI tables do not fit below 1 MiB");
        goto out;
    }
    if (!vm_mem_write(&m->mem, base, rsdp.p, rsdp.len) ||
        !vm_mem_write(&m->mem, xsdt_at, xsdt.p, xsdt.len) ||
        !vm_mem_write(&m->mem, fadt_at, fadt.p, fadt.len) ||
        !vm_mem_write(&m->mem, madt_at, madt.p, madt.len) ||
        !vm_mem_write(&m->mem, dsdt_at, dsdt.p, dsdt.len)) {
        r = err_val(err, ENOMEM, "ACPI tables: guest RAM too small");
        goto out;
    }
    *rsdp_at = base;
out:
    free(fadt.p);
    free(madt.p);
    free(xsdt.p);
    free(dsdt.p);
    free(rsdp.p);
    return r;
}
