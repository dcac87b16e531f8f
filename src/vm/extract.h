/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Take the compressed payload out of a bzImage (setup_header payload_offset /
 * payload_length, boot.rst protocol 2.08+) and decompress it (gzip, xz, zstd)
 * to the ELF vmlinux, which boots without the in-guest decompressor.
 */
#ifndef ISOLA_VM_EXTRACT_H
#define ISOLA_VM_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Decompress the payload of bzImage at `in` into a new ELF file `out`. */
int extract_kernel(const char *in, const char *out, struct err **err);

#endif
