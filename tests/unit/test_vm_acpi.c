/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ACPI tables and the machine-side pieces that need no /dev/kvm: checksums,
 * MADT entries per vCPU, DSDT entries per virtio-mmio device, bus routing. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vm/acpi.h"
#include "vm/boot.h"
#include "vm/bus.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

static const uint8_t *memfind(const uint8_t *h, size_t hn, const char *n)
{
    size_t nn = strlen(n);

    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, n, nn) == 0)
            return h + i;
    return NULL;
}

static uint32_t reads;
static void fake_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
    reads++;
    data[0] = (uint8_t)off;
}

static const struct vm_dev_ops fake_ops = {.name = "fake", .read = fake_read};

int main(void)
{
    struct vm_machine *m = calloc(1, sizeof(*m));
    struct err *e = NULL;
    uint8_t *ram = calloc(1, 2 << 20), *aml = NULL, data[4];
    size_t aml_len = 0;
    uint64_t rsdp = 0, xsdt;
    uint32_t len;

    machine_init(m);
    m->ncpus = 3;
    m->mem.regions[0] = (struct vm_mem_region){.gpa = 0, .size = 2 << 20, .hva = ram};
    m->mem.nregions = 1;
    for (unsigned int i = 0; i < 2; i++) {
        struct vm_dev d = {.ops = &fake_ops,
                           .kind = VM_DEV_MMIO,
                           .base = 0xd0000000 + i * 0x1000,
                           .size = 0x200,
                           .acpi_virtio_mmio = true,
                           .irq = {.gsi = 5 + i}};
        ok(bus_add(&m->bus, &d, &e) == 0, "add virtio-mmio device %u", i);
    }
    {
        struct vm_dev d = {.ops = &fake_ops, .kind = VM_DEV_MMIO, .base = 0xd0000100, .size = 16};
        ok(bus_add(&m->bus, &d, &e) < 0 && e && strstr(e->msg, "overlaps"),
           "overlapping window refused: %s", e ? e->msg : "");
        err_free(&e);
    }
    ok(bus_access(&m->bus, VM_DEV_MMIO, 0xd0001007, data, 1, false) && data[0] == 7 && reads == 1,
       "MMIO read routed with the offset in the window");
    ok(!bus_access(&m->bus, VM_DEV_MMIO, 0xd0000200, data, 4, false) && data[0] == 0xff,
       "unclaimed MMIO reads all ones");
    ok(!bus_access(&m->bus, VM_DEV_MMIO, 0xd00001fe, data, 4, false),
       "access straddling a window's end is not routed");

    ok(acpi_dsdt(m, &aml, &aml_len, &e) == 0, "DSDT AML built");
    ok(memfind(aml, aml_len, "LNRO0005") != NULL, "virtio-mmio device has _HID LNRO0005");
    ok(memfind(aml, aml_len, "V001") != NULL, "one Device() per virtio-mmio device");
    ok(memfind(aml, aml_len, "PNP0501") != NULL, "COM1 described");
    ok(memfind(aml, aml_len, "_S5_") != NULL, "S5 sleep state for power-off");
    ok(memfind(aml, aml_len, "ACPI0013") == NULL, "no GED without its GSI");
    free(aml);
    aml = NULL;
    m->ged_gsi = 21;
    ok(acpi_dsdt(m, &aml, &aml_len, &e) == 0, "DSDT AML built with the power button");
    ok(memfind(aml, aml_len, "ACPI0013") != NULL && memfind(aml, aml_len, "PNP0C0C") != NULL,
       "GED (ACPI0013) and power button (PNP0C0C) described");
    {
        /* _EVT: MethodOp, PkgLength, name, 1 argument, Notify(PWRB, 0x80) */
        static const uint8_t evt[] = {'_', 'E', 'V', 'T', 0x01, 0x86,
                                      'P', 'W', 'R', 'B', 0x0a, 0x80};
        const uint8_t *p = NULL;
        for (size_t i = 0; i + sizeof(evt) <= aml_len && !p; i++)
            if (memcmp(aml + i, evt, sizeof(evt)) == 0)
                p = aml + i;
        ok(p != NULL && p[-2] == 0x14 && p[-1] == sizeof(evt) + 1,
           "_EVT is a one-argument method that notifies PWRB with 0x80");
        /* Extended Interrupt descriptor: edge, GSI 21 */
        static const uint8_t irq[] = {0x89, 6, 0, 0x03, 1, 21, 0, 0, 0};
        const uint8_t *q = NULL;
        for (size_t i = 0; i + sizeof(irq) <= aml_len && !q; i++)
            if (memcmp(aml + i, irq, sizeof(irq)) == 0)
                q = aml + i;
        ok(q != NULL, "the GED's interrupt is GSI 21, edge-triggered");
    }
    m->ged_gsi = 0;
    free(aml);

    ok(acpi_build(m, &rsdp, &e) == 0, "tables written");
    ok(rsdp == BOOT_ACPI_BASE && memcmp(ram + rsdp, "RSD PTR ", 8) == 0, "RSDP signature");
    ok(sum(ram + rsdp, 20) == 0 && sum(ram + rsdp, 36) == 0, "RSDP checksums");
    memcpy(&xsdt, ram + rsdp + 24, 8);
    ok(memcmp(ram + xsdt, "XSDT", 4) == 0, "XSDT at the RSDP's address");
    memcpy(&len, ram + xsdt + 4, 4);
    ok(sum(ram + xsdt, len) == 0 && len == 36 + 16, "XSDT checksum, two entries");
    for (unsigned int i = 0; i < 2; i++) {
        uint64_t t;
        memcpy(&t, ram + xsdt + 36 + 8 * i, 8);
        memcpy(&len, ram + t + 4, 4);
        ok(sum(ram + t, len) == 0, "table %.4s checksum", (const char *)ram + t);
        if (memcmp(ram + t, "APIC", 4) == 0) {
            unsigned int lapics = 0;
            for (uint32_t off = 44; off + 2 <= len; off += ram[t + off + 1])
                lapics += ram[t + off] == 0;
            ok(lapics == 3, "MADT has one local APIC per vCPU (%u)", lapics);
        } else {
            uint64_t dsdt;
            uint32_t flags;
            memcpy(&flags, ram + t + 112, 4);
            ok(flags & (1u << 20), "FADT is hardware-reduced");
            memcpy(&dsdt, ram + t + 140, 8);
            memcpy(&len, ram + dsdt + 4, 4);
            ok(memcmp(ram + dsdt, "DSDT", 4) == 0 && sum(ram + dsdt, len) == 0,
               "X_DSDT points to a valid DSDT");
        }
    }
    free(ram);
    free(m);
    return done_testing();
}
