/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libcairo, opened on first use (util/dl.h): only `isola compare --output`
 * draws charts, and Debian's libcairo2 pulls in fontconfig, freetype, pixman,
 * libpng and the X libraries, which every other command would load for
 * nothing. Call cairo_dl_load() before any sym_cairo_*().
 */
#ifndef ISOLA_CLI_CAIRO_DL_H
#define ISOLA_CLI_CAIRO_DL_H

#include <cairo-svg.h>
#include <cairo.h>

#include "util/dl.h"

/* Every cairo function isola calls, in one place. */
#define CAIRO_DL_SYMS(X)                   \
    X(cairo_create)                        \
    X(cairo_debug_reset_static_data)       \
    X(cairo_font_face_destroy)             \
    X(cairo_set_font_face)                 \
    X(cairo_toy_font_face_create)          \
    X(cairo_destroy)                       \
    X(cairo_fill)                          \
    X(cairo_image_surface_create)          \
    X(cairo_line_to)                       \
    X(cairo_move_to)                       \
    X(cairo_new_path)                      \
    X(cairo_paint)                         \
    X(cairo_rectangle)                     \
    X(cairo_restore)                       \
    X(cairo_save)                          \
    X(cairo_select_font_face)              \
    X(cairo_set_font_size)                 \
    X(cairo_set_line_width)                \
    X(cairo_set_source_rgb)                \
    X(cairo_show_text)                     \
    X(cairo_status)                        \
    X(cairo_status_to_string)              \
    X(cairo_stroke)                        \
    X(cairo_surface_destroy)               \
    X(cairo_surface_finish)                \
    X(cairo_surface_status)                \
    X(cairo_surface_write_to_png)          \
    X(cairo_svg_surface_create)            \
    X(cairo_svg_surface_create_for_stream) \
    X(cairo_text_extents)

#define CAIRO_DL_PROTO_(s) DL_SYM_PROTOTYPE(s);
CAIRO_DL_SYMS(CAIRO_DL_PROTO_)
#undef CAIRO_DL_PROTO_

/* Load libcairo.so.2 (package libcairo2) and every symbol above, once. */
int cairo_dl_load(struct err **err);

/* Give back the font caches of cairo and fontconfig (which cairo loaded), once
 * no surface is left: what a leak checker would otherwise report at exit. */
void cairo_dl_release_caches(void);

#endif
