/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm/mem.h"

#include <string.h>

void *vm_mem_ptr(const struct vm_mem *m, uint64_t gpa, uint64_t len)
{
    for (unsigned int i = 0; i < m->nregions; i++) {
        const struct vm_mem_region *r = &m->regions[i];
        if (gpa < r->gpa)
            continue;
        uint64_t off = gpa - r->gpa;
        /* off < size and len <= size - off: no overflow possible. */
        if (off >= r->size || len > r->size - off)
            continue;
        return r->hva + off;
    }
    return NULL;
}

bool vm_mem_write(const struct vm_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
    void *p = vm_mem_ptr(m, gpa, len);

    if (p == NULL)
        return false;
    memcpy(p, src, len);
    return true;
}
