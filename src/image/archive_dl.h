/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libarchive, opened on first use (util/dl.h): only layer unpacking, diffs,
 * save and load need it, and it pulls in libxml2 and ICU (several MB mapped,
 * milliseconds of relocations) that every other command would load for
 * nothing. The entry points of those modules call archive_dl_load() before
 * any sym_archive_*().
 */
#ifndef ISOLA_IMAGE_ARCHIVE_DL_H
#define ISOLA_IMAGE_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "util/dl.h"

/* Every libarchive function isola calls, in one place. */
#define ARCHIVE_DL_SYMS(X)                   \
    X(archive_entry_atime)                   \
    X(archive_entry_atime_is_set)            \
    X(archive_entry_atime_nsec)              \
    X(archive_entry_copy_stat)               \
    X(archive_entry_filetype)                \
    X(archive_entry_free)                    \
    X(archive_entry_gid)                     \
    X(archive_entry_hardlink)                \
    X(archive_entry_mode)                    \
    X(archive_entry_mtime)                   \
    X(archive_entry_mtime_nsec)              \
    X(archive_entry_new)                     \
    X(archive_entry_pathname)                \
    X(archive_entry_rdev)                    \
    X(archive_entry_set_filetype)            \
    X(archive_entry_set_gname)               \
    X(archive_entry_set_hardlink)            \
    X(archive_entry_set_mtime)               \
    X(archive_entry_set_pathname)            \
    X(archive_entry_set_perm)                \
    X(archive_entry_set_size)                \
    X(archive_entry_set_symlink)             \
    X(archive_entry_set_uname)               \
    X(archive_entry_size)                    \
    X(archive_entry_symlink)                 \
    X(archive_entry_uid)                     \
    X(archive_entry_xattr_add_entry)         \
    X(archive_entry_xattr_next)              \
    X(archive_entry_xattr_reset)             \
    X(archive_error_string)                  \
    X(archive_read_data)                     \
    X(archive_read_data_block)               \
    X(archive_read_free)                     \
    X(archive_read_new)                      \
    X(archive_read_next_header)              \
    X(archive_read_open_fd)                  \
    X(archive_read_open_filename)            \
    X(archive_read_support_filter_all)       \
    X(archive_read_support_filter_bzip2)     \
    X(archive_read_support_filter_gzip)      \
    X(archive_read_support_filter_none)      \
    X(archive_read_support_filter_xz)        \
    X(archive_read_support_filter_zstd)      \
    X(archive_read_support_format_gnutar)    \
    X(archive_read_support_format_raw)       \
    X(archive_read_support_format_tar)       \
    X(archive_write_close)                   \
    X(archive_write_data)                    \
    X(archive_write_free)                    \
    X(archive_write_header)                  \
    X(archive_write_new)                     \
    X(archive_write_open)                    \
    X(archive_write_open_fd)                 \
    X(archive_write_open_filename)           \
    X(archive_write_set_bytes_in_last_block) \
    X(archive_write_set_format_pax_restricted)

#define ARCHIVE_DL_PROTO_(s) DL_SYM_PROTOTYPE(s);
ARCHIVE_DL_SYMS(ARCHIVE_DL_PROTO_)
#undef ARCHIVE_DL_PROTO_

/* Load libarchive.so.13 (package libarchive13) and every symbol above, once. */
int archive_dl_load(struct err **err);

#endif
