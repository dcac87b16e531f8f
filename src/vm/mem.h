/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest physical memory as the monitor sees it: a few regions of guest RAM, each
 * mapped at a host address. Every access a guest can steer (virtqueue rings,
 * descriptors, buffers, boot structures) goes through vm_mem_ptr(), which checks
 * that [gpa, gpa+len) lies wholly inside one RAM region without overflow.
 */
#ifndef ISOLA_VM_MEM_H
#define ISOLA_VM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_MEM_MAX_REGIONS 4

struct vm_mem_region {
    uint64_t gpa;  /* guest physical start */
    uint64_t size; /* bytes */
    uint8_t *hva;  /* host mapping */
};

struct vm_mem {
    struct vm_mem_region regions[VM_MEM_MAX_REGIONS];
    unsigned int nregions;
};

/* Host pointer for guest range [gpa, gpa + len), or NULL if any byte of it is
 * outside guest RAM (or len is 0 and gpa is not in RAM). */
void *vm_mem_ptr(const struct vm_mem *m, uint64_t gpa, uint64_t len);

/* Copy to guest memory; false if the range is not wholly RAM. */
bool vm_mem_write(const struct vm_mem *m, uint64_t gpa, const void *src, uint64_t len);

#endif
