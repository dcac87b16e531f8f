/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/boot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

/* boot_params offsets (arch/x86/include/uapi/asm/bootparam.h, boot.rst). */
#define BP_ACPI_RSDP     0x070
#define BP_EXT_RAMDISK   0x0c0
#define BP_EXT_RD_SIZE   0x0c4
#define BP_EXT_CMDLINE   0x0c8
#define BP_E820_ENTRIES  0x1e8
#define BP_HDR           0x1f1 /* struct setup_header */
#define BP_SETUP_SECTS   0x1f1
#define BP_BOOT_FLAG     0x1fe
#define BP_JUMP          0x200
#define BP_HEADER        0x202
#define BP_VERSION       0x206
#define BP_TYPE_OF_LOADR 0x210
#define BP_LOADFLAGS     0x211
#define BP_CODE32_START  0x214
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE  0x21c
#define BP_HEAP_END      0x224
#define BP_CMD_LINE_PTR  0x228
#define BP_INITRD_MAX    0x22c
#define BP_KERNEL_ALIGN  0x230
#define BP_XLOADFLAGS    0x236
#define BP_CMDLINE_SIZE  0x238
#define BP_E820_TABLE    0x2d0
#define BP_E820_MAX      128

#define HDRS_MAGIC    0x53726448 /* "HdrS" */
#define XLF_KERNEL_64 (1 << 0)
#define LOADED_HIGH   (1 << 0)
#define CAN_USE_HEAP  (1 << 7)

#define E820_RAM      1
#define E820_RESERVED 2

/* XEN_ELFNOTE_PHYS32_ENTRY (xen/include/public/elfnote.h) and start_info. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC          0x336ec578

struct kfile {
    const uint8_t *p;
    size_t len;
};

static void kfile_unmap(struct kfile *k)
{
    if (k->p != NULL && k->len > 0)
        munmap((void *)k->p, k->len);
    k->p = NULL;
}

static int kfile_map(const char *path, const char *what, struct kfile *k, struct err **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    void *p;

    k->p = NULL;
    k->len = 0;
    if (fd < 0)
        return err_sys(err, "%s `%s`", what, path);
    if (fstat(fd, &st) < 0)
        return err_sys(err, "%s `%s`: stat", what, path);
    if (!S_ISREG(st.st_mode))
        return err_val(err, EINVAL, "%s `%s`: not a regular file", what, path);
    if (st.st_size == 0)
        return err_val(err, EINVAL, "%s `%s`: empty file", what, path);
    p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return err_sys(err, "%s `%s`: mmap", what, path);
    k->p = p;
    k->len = st.st_size;
    return 0;
}

static void put16(uint8_t *b, size_t off, uint16_t v)
{
    memcpy(b + off, &v, 2);
}
static void put32(uint8_t *b, size_t off, uint32_t v)
{
    memcpy(b + off, &v, 4);
}
static void put64(uint8_t *b, size_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}
static uint16_t get16(const uint8_t *b, size_t off)
{
    uint16_t v;
    memcpy(&v, b + off, 2);
    return v;
}
static uint32_t get32(const uint8_t *b, size_t off)
{
    uint32_t v;
    memcpy(&v, b + off, 4);
    return v;
}

/* RAM below 4 GiB ends here. */
static uint64_t boot_low_ram_end(const struct vm_machine *m)
{
    return m->ram_size < VM_MMIO_HOLE ? m->ram_size : VM_MMIO_HOLE;
}

struct e820 {
    uint64_t addr, size;
    uint32_t type;
};

static unsigned int boot_e820(const struct vm_machine *m, struct e820 *e)
{
    unsigned int n = 0;

    e[n++] = (struct e820){0, BOOT_EBDA, E820_RAM};
    e[n++] = (struct e820){BOOT_EBDA, 0xa0000 - BOOT_EBDA, E820_RESERVED};
    e[n++] = (struct e820){BOOT_ACPI_BASE, BOOT_HIMEM - BOOT_ACPI_BASE, E820_RESERVED};
    e[n++] = (struct e820){BOOT_HIMEM, boot_low_ram_end(m) - BOOT_HIMEM, E820_RAM};
    if (m->ram_size > VM_MMIO_HOLE)
        e[n++] = (struct e820){1ULL << 32, m->ram_size - VM_MMIO_HOLE, E820_RAM};
    return n;
}

static int boot_copy(struct vm_machine *m, uint64_t gpa, const void *src, uint64_t len,
                     const char *what, struct err **err)
{
    if (!vm_mem_write(&m->mem, gpa, src, len))
        return err_val(err, ENOMEM, "%s: 0x%llx bytes at 0x%llx do not fit in guest RAM (%llu MiB)",
                       what, (unsigned long long)len, (unsigned long long)gpa,
                       (unsigned long long)(m->ram_size >> 20));
    return 0;
}

/* Load an ELF64 x86-64 image; *pvh gets the PVH entry if it has the note. */
static int boot_load_elf(struct vm_machine *m, const char *path, const struct kfile *k,
                         uint64_t *entry, uint64_t *pvh, struct err **err)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)k->p;

    *pvh = 0;
    if (k->len < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
        eh->e_type != ET_EXEC)
        return err_val(err, ENOEXEC, "kernel `%s`: not an x86-64 executable ELF file", path);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > k->len ||
        (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > k->len - eh->e_phoff)
        return err_val(err, ENOEXEC, "kernel `%s`: bad ELF program headers", path);
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(k->p + eh->e_phoff);
    unsigned int loaded = 0;
    for (unsigned int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_offset > k->len || p->p_filesz > k->len - p->p_offset || p->p_filesz > p->p_memsz)
            return err_val(err, ENOEXEC, "kernel `%s`: ELF segment %u outside the file", path, i);
        if (p->p_type == PT_LOAD) {
            void *dst = vm_mem_ptr(&m->mem, p->p_paddr, p->p_memsz);
            if (dst == NULL)
                return err_val(err, ENOMEM,
                               "kernel `%s`: segment at 0x%llx (+0x%llx) is outside guest RAM "
                               "(%llu MiB)",
                               path, (unsigned long long)p->p_paddr, (unsigned long long)p->p_memsz,
                               (unsigned long long)(m->ram_size >> 20));
            memcpy(dst, k->p + p->p_offset, p->p_filesz);
            memset((uint8_t *)dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
            loaded++;
        } else if (p->p_type == PT_NOTE) {
            /* Elf64_Nhdr records, 4-byte aligned (gABI "Note Section"). */
            const uint8_t *n = k->p + p->p_offset, *end = n + p->p_filesz;
            while ((size_t)(end - n) >= sizeof(Elf64_Nhdr)) {
                const Elf64_Nhdr *nh = (const Elf64_Nhdr *)n;
                size_t nsz = (nh->n_namesz + 3) & ~3ULL, dsz = (nh->n_descsz + 3) & ~3ULL;
                const uint8_t *desc = n + sizeof(*nh) + nsz;
                if (nsz > (size_t)(end - n) || dsz > (size_t)(end - desc) + 0 || desc > end)
                    break;
                if (nh->n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh->n_namesz == 4 &&
                    memcmp(n + sizeof(*nh), "Xen", 4) == 0 && nh->n_descsz >= 4)
                    *pvh = get32(desc, 0);
                n = desc + dsz;
            }
        }
    }
    if (loaded == 0)
        return err_val(err, ENOEXEC, "kernel `%s`: ELF file has no loadable segment", path);
    *entry = eh->e_entry;
    return 0;
}

static int boot_load_initrd(struct vm_machine *m, const char *path, uint64_t max_addr,
                            uint64_t kernel_end, uint64_t *addr, uint64_t *size, struct err **err)
{
    struct kfile k;
    uint64_t top = boot_low_ram_end(m), at;
    int r;

    if (kfile_map(path, "initrd", &k, err) < 0)
        return -1;
    /* boot.rst: the initrd goes as high as possible below initrd_addr_max. */
    if (max_addr != 0 && top > max_addr + 1)
        top = max_addr + 1;
    at = (top - k.len) & ~0xfffULL;
    if (k.len > top || at < kernel_end) {
        r = err_val(err, ENOMEM, "initrd `%s` (%zu MiB) does not fit in guest RAM (%llu MiB)", path,
                    k.len >> 20, (unsigned long long)(m->ram_size >> 20));
    } else {
        r = boot_copy(m, at, k.p, k.len, "initrd", err);
        *addr = at;
        *size = k.len;
    }
    kfile_unmap(&k);
    return r;
}

static int boot_write_cmdline(struct vm_machine *m, const char *cmdline, struct err **err)
{
    size_t n = cmdline != NULL ? strlen(cmdline) : 0;

    if (n + 1 > BOOT_CMDLINE_MAX)
        return err_val(err, E2BIG, "command line: %zu bytes, at most %d", n, BOOT_CMDLINE_MAX - 1);
    return boot_copy(m, BOOT_CMDLINE, cmdline != NULL ? cmdline : "", n + 1, "command line", err);
}

/* Identity map of the first 4 GiB with 2 MiB pages, and the GDT of boot.rst's
 * 64-bit protocol: __BOOT_CS 0x10, __BOOT_DS 0x18, a TSS at 0x20. */
static int boot_write_tables(struct vm_machine *m, struct err **err)
{
    uint64_t pml4 = BOOT_PDPT | 3, pdpt[4], pd[4 * 512];
    const uint64_t gdt[] = {
        0,
        0,
        0x00af9b000000ffffULL, /* 0x10: 64-bit code */
        0x00cf93000000ffffULL, /* 0x18: data */
        0x008f8b000000ffffULL, /* 0x20: TSS (busy) */
        0x00cf9b000000ffffULL, /* 0x28: 32-bit code (PVH) */
    };

    for (unsigned int i = 0; i < 4; i++)
        pdpt[i] = (BOOT_PD + i * 0x1000ULL) | 3;
    for (unsigned int i = 0; i < 4 * 512; i++)
        pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB page */
    if (boot_copy(m, BOOT_PML4, &pml4, sizeof(pml4), "page tables", err) < 0 ||
        boot_copy(m, BOOT_PDPT, pdpt, sizeof(pdpt), "page tables", err) < 0 ||
        boot_copy(m, BOOT_PD, pd, sizeof(pd), "page tables", err) < 0 ||
        boot_copy(m, BOOT_GDT_ADDR, gdt, sizeof(gdt), "GDT", err) < 0)
        return -1;
    return 0;
}

static int boot_write_pvh(struct vm_machine *m, uint64_t rsdp, uint64_t initrd,
                          uint64_t initrd_size, struct err **err)
{
    struct e820 e[8];
    unsigned int n = boot_e820(m, e);
    uint8_t info[56 + 32] = {0}, mm[8 * 24] = {0};
    const uint64_t mod_at = BOOT_PVH_INFO + 56, map_at = BOOT_PVH_INFO + 0x100;

    /* struct hvm_start_info, version 1. */
    put32(info, 0, HVM_START_MAGIC);
    put32(info, 4, 1);
    put32(info, 12, initrd_size ? 1 : 0);
    put64(info, 16, initrd_size ? mod_at : 0);
    put64(info, 24, BOOT_CMDLINE);
    put64(info, 32, rsdp);
    put64(info, 40, map_at);
    put32(info, 48, n);
    /* struct hvm_modlist_entry */
    put64(info, 56, initrd);
    put64(info, 64, initrd_size);
    for (unsigned int i = 0; i < n; i++) {
        put64(mm, i * 24, e[i].addr);
        put64(mm, i * 24 + 8, e[i].size);
        put32(mm, i * 24 + 16, e[i].type);
    }
    if (boot_copy(m, BOOT_PVH_INFO, info, sizeof(info), "start_info", err) < 0 ||
        boot_copy(m, map_at, mm, n * 24, "start_info memory map", err) < 0)
        return -1;
    return 0;
}

int boot_load(struct vm_machine *m, const struct boot_cfg *cfg, uint64_t acpi_rsdp,
              struct boot_entry *entry, struct err **err)
{
    struct kfile k;
    uint8_t zp[4096] = {0};
    uint64_t kernel_end = BOOT_HIMEM, initrd = 0, initrd_size = 0, initrd_max = 0x37ffffff;
    uint64_t pvh = 0;
    int r = -1;

    if (cfg->kernel == NULL)
        return err_val(err, EINVAL, "no kernel given");
    if (kfile_map(cfg->kernel, "kernel", &k, err) < 0)
        return -1;
    entry->mode = BOOT_LINUX64;
    if (k.len >= 4 && memcmp(k.p, ELFMAG, SELFMAG) == 0) {
        if (boot_load_elf(m, cfg->kernel, &k, &entry->rip, &pvh, err) < 0)
            goto out;
        if (cfg->mode == BOOT_PVH) {
            if (pvh == 0) {
                r = err_val(err, ENOEXEC,
                            "kernel `%s`: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)",
                            cfg->kernel);
                goto out;
            }
            entry->mode = BOOT_PVH;
            entry->rip = pvh;
        }
        /* A synthetic setup header, as Firecracker writes for vmlinux. */
        put16(zp, BP_BOOT_FLAG, 0xaa55);
        put32(zp, BP_HEADER, HDRS_MAGIC);
        put16(zp, BP_VERSION, 0x020f);
        put32(zp, BP_KERNEL_ALIGN, 0x01000000);
        initrd_max = 0x7fffffff;
        kernel_end = 16ULL << 20;
    } else if (k.len >= 0x264 && get16(k.p, BP_BOOT_FLAG) == 0xaa55 &&
               get32(k.p, BP_HEADER) == HDRS_MAGIC) {
        /* bzImage (boot.rst "The real-mode kernel header"). */
        unsigned int setup_sects = k.p[BP_SETUP_SECTS] ? k.p[BP_SETUP_SECTS] : 4;
        size_t hdr_end = 0x202 + k.p[0x201], koff = (size_t)(setup_sects + 1) * 512;
        uint16_t version = get16(k.p, BP_VERSION);
        if (cfg->mode == BOOT_PVH) {
            r = err_val(err, EINVAL,
                        "kernel `%s`: PVH boot needs the ELF vmlinux (isola vm extract-kernel)",
                        cfg->kernel);
            goto out;
        }
        if (version < 0x020c || !(get16(k.p, BP_XLOADFLAGS) & XLF_KERNEL_64)) {
            r = err_val(err, ENOEXEC,
                        "kernel `%s`: boot protocol %x.%02x without a 64-bit entry point "
                        "(needs 2.12 and XLF_KERNEL_64)",
                        cfg->kernel, version >> 8, version & 0xff);
            goto out;
        }
        if (hdr_end > k.len || koff >= k.len || hdr_end > sizeof(zp)) {
            r = err_val(err, ENOEXEC, "kernel `%s`: truncated bzImage", cfg->kernel);
            goto out;
        }
        memcpy(zp + BP_HDR, k.p + BP_HDR, hdr_end - BP_HDR);
        if (boot_copy(m, BOOT_HIMEM, k.p + koff, k.len - koff, "kernel", err) < 0)
            goto out;
        initrd_max = get32(k.p, BP_INITRD_MAX);
        kernel_end = BOOT_HIMEM + (k.len - koff);
        if (get32(k.p, 0x260) > k.len - koff) /* init_size */
            kernel_end = BOOT_HIMEM + get32(k.p, 0x260);
        put32(zp, BP_CODE32_START, BOOT_HIMEM);
        entry->rip = BOOT_HIMEM + 0x200; /* boot.rst "64-bit Boot Protocol" */
    } else {
        r = err_val(err, ENOEXEC,
                    "kernel `%s`: not a Linux kernel (neither a bzImage nor an ELF file)",
                    cfg->kernel);
        goto out;
    }

    if (cfg->initrd != NULL &&
        boot_load_initrd(m, cfg->initrd, initrd_max, kernel_end, &initrd, &initrd_size, err) < 0)
        goto out;
    if (boot_write_cmdline(m, cfg->cmdline, err) < 0 || boot_write_tables(m, err) < 0)
        goto out;
    if (entry->mode == BOOT_PVH) {
        r = boot_write_pvh(m, acpi_rsdp, initrd, initrd_size, err);
        goto out;
    }

    zp[BP_TYPE_OF_LOADR] = 0xff;
    zp[BP_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
    put16(zp, BP_HEAP_END, 0xfe00);
    put32(zp, BP_CMD_LINE_PTR, BOOT_CMDLINE);
    put32(zp, BP_CMDLINE_SIZE, cfg->cmdline != NULL ? strlen(cfg->cmdline) : 0);
    put32(zp, BP_RAMDISK_IMAGE, (uint32_t)initrd);
    put32(zp, BP_RAMDISK_SIZE, (uint32_t)initrd_size);
    put32(zp, BP_EXT_RAMDISK, (uint32_t)(initrd >> 32));
    put32(zp, BP_EXT_RD_SIZE, (uint32_t)(initrd_size >> 32));
    put64(zp, BP_ACPI_RSDP, acpi_rsdp);
    {
        struct e820 e[8];
        unsigned int n = boot_e820(m, e);
        zp[BP_E820_ENTRIES] = (uint8_t)n;
        for (unsigned int i = 0; i < n; i++) {
            put64(zp, BP_E820_TABLE + i * 20, e[i].addr);
            put64(zp, BP_E820_TABLE + i * 20 + 8, e[i].size);
            put32(zp, BP_E820_TABLE + i * 20 + 16, e[i].type);
        }
    }
    r = boot_copy(m, BOOT_ZERO_PAGE, zp, sizeof(zp), "boot_params", err);
out:
    kfile_unmap(&k);
    return r;
}

int boot_probe(const struct boot_cfg *cfg, struct err **err)
{
    struct kfile k;
    int r = 0;

    if (cfg->kernel == NULL)
        return err_val(err, EINVAL, "no kernel given (--kernel PATH)");
    if (kfile_map(cfg->kernel, "kernel", &k, err) < 0)
        return -1;
    if (k.len >= 4 && memcmp(k.p, ELFMAG, SELFMAG) == 0) {
        const Elf64_Ehdr *eh = (const Elf64_Ehdr *)k.p;
        if (k.len < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
            eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
            r = err_val(err, ENOEXEC, "kernel `%s`: not an x86-64 executable ELF file",
                        cfg->kernel);
    } else if (!(k.len >= 0x264 && get16(k.p, BP_BOOT_FLAG) == 0xaa55 &&
                 get32(k.p, BP_HEADER) == HDRS_MAGIC)) {
        r = err_val(err, ENOEXEC,
                    "kernel `%s`: not a Linux kernel (neither a bzImage nor an ELF file)",
                    cfg->kernel);
    }
    kfile_unmap(&k);
    if (r == 0 && cfg->initrd != NULL) {
        if (kfile_map(cfg->initrd, "initrd", &k, err) < 0)
            return -1;
        kfile_unmap(&k);
    }
    return r;
}

/* --- vCPU state --- */

static void boot_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64, bool db)
{
    *s = (struct kvm_segment){
        .base = 0,
        .limit = 0xffffffff,
        .selector = sel,
        .type = type,
        .present = 1,
        .dpl = 0,
        .db = db,
        .s = 1,
        .l = code64,
        .g = 1,
    };
}

static int boot_set_cpuid(struct vm_machine *m, struct vm_vcpu *v, struct err **err)
{
    _cleanup_free_ struct kvm_cpuid2 *c = NULL;

    if (kvm_supported_cpuid(&m->kvm, &c, err) < 0)
        return -1;
    for (unsigned int i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:
            /* Initial APIC id, logical processor count, HTT, hypervisor bit. */
            e->ebx = (e->ebx & 0x0000ffff) | (v->id << 24) | ((m->ncpus & 0xff) << 16);
            e->edx |= 1u << 28;
            e->ecx |= 1u << 31;
            break;
        case 0xb:
        case 0x1f:
            e->edx = v->id; /* x2APIC id */
            break;
        default:
            break;
        }
    }
    if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
        return err_sys(err, "vCPU %u: KVM_SET_CPUID2", v->id);
    return 0;
}

static int boot_set_msrs(struct vm_vcpu *v, struct err **err)
{
    static const uint32_t zero[] = {
        0x174,      /* IA32_SYSENTER_CS */
        0x175,      /* IA32_SYSENTER_ESP */
        0x176,      /* IA32_SYSENTER_EIP */
        0xc0000081, /* STAR */
        0xc0000082, /* LSTAR */
        0xc0000083, /* CSTAR */
        0xc0000084, /* SYSCALL_MASK */
        0xc0000102, /* KERNEL_GS_BASE */
        0x10,       /* TSC */
    };
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[ARRAY_SIZE(zero) + 1];
    } msrs;
    int r;

    memset(&msrs, 0, sizeof(msrs));
    for (unsigned int i = 0; i < ARRAY_SIZE(zero); i++)
        msrs.e[i].index = zero[i];
    msrs.e[ARRAY_SIZE(zero)].index = 0x1a0; /* IA32_MISC_ENABLE: fast strings */
    msrs.e[ARRAY_SIZE(zero)].data = 1;
    msrs.hdr.nmsrs = ARRAY_SIZE(msrs.e);
    r = ioctl(v->fd, KVM_SET_MSRS, &msrs);
    if (r < 0)
        return err_sys(err, "vCPU %u: KVM_SET_MSRS", v->id);
    return 0;
}

/* LINT0 ExtINT, LINT1 NMI, as a BIOS leaves them (Intel SDM 10.5.1). */
static int boot_set_lint(struct vm_vcpu *v, struct err **err)
{
    struct kvm_lapic_state l;
    uint32_t lvt;

    if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
        return err_sys(err, "vCPU %u: KVM_GET_LAPIC", v->id);
    memcpy(&lvt, l.regs + 0x350, 4);
    lvt = (lvt & ~0x700u) | (7u << 8);
    memcpy(l.regs + 0x350, &lvt, 4);
    memcpy(&lvt, l.regs + 0x360, 4);
    lvt = (lvt & ~0x700u) | (4u << 8);
    memcpy(l.regs + 0x360, &lvt, 4);
    if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
        return err_sys(err, "vCPU %u: KVM_SET_LAPIC", v->id);
    return 0;
}

static int boot_set_regs(struct vm_vcpu *v, const struct boot_entry *entry, struct err **err)
{
    struct kvm_sregs s;
    struct kvm_regs r = {.rflags = 2, .rip = entry->rip};

    if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
        return err_sys(err, "vCPU %u: KVM_GET_SREGS", v->id);
    s.gdt.base = BOOT_GDT_ADDR;
    s.gdt.limit = 6 * 8 - 1;
    s.idt.base = 0;
    s.idt.limit = 0;
    s.tr = (struct kvm_segment){
        .base = 0, .limit = 0xfffff, .selector = 0x20, .type = 11, .present = 1, .g = 0};
    if (entry->mode == BOOT_PVH) {
        /* PVH: 32-bit flat protected mode, paging off (docs/x86/pvh? xen pvh.pandoc). */
        boot_seg(&s.cs, 0x28, 11, false, true);
        boot_seg(&s.ds, 0x18, 3, false, true);
        s.cr0 = 0x11; /* PE | ET */
        s.cr4 = 0;
        s.efer = 0;
        r.rbx = BOOT_PVH_INFO;
    } else {
        /* boot.rst "64-bit Boot Protocol": long mode, identity paging, __BOOT_CS/DS. */
        boot_seg(&s.cs, 0x10, 11, true, false);
        boot_seg(&s.ds, 0x18, 3, false, true);
        s.cr3 = BOOT_PML4;
        s.cr4 = 0x20;       /* PAE */
        s.cr0 = 0x80000011; /* PG | ET | PE */
        s.efer = 0x500;     /* LME | LMA */
        r.rsi = BOOT_ZERO_PAGE;
        r.rsp = r.rbp = BOOT_STACK;
    }
    s.es = s.fs = s.gs = s.ss = s.ds;
    if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
        return err_sys(err, "vCPU %u: KVM_SET_SREGS", v->id);
    if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
        return err_sys(err, "vCPU %u: KVM_SET_REGS", v->id);
    return 0;
}

int boot_setup_vcpu(struct vm_machine *m, unsigned int id, const struct boot_entry *entry,
                    struct err **err)
{
    struct vm_vcpu *v = &m->vcpus[id];

    if (boot_set_cpuid(m, v, err) < 0 || boot_set_msrs(v, err) < 0 || boot_set_lint(v, err) < 0)
        return -1;
    if (id == 0)
        return boot_set_regs(v, entry, err);
    return 0;
}
