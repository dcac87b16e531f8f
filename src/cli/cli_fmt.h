/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output helpers shared by the `isola` object commands (network, volume). */
#ifndef ISOLA_CLI_FMT_H
#define ISOLA_CLI_FMT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* tpl (cli_template.h) on one JSON object, then a newline; an error is
 * printed on stderr after `prog: `. */
int cli_template_print(const char *prog, const char *tpl, json_t *obj);

/* KEY=VALUE into a JSON object (Docker: a missing "=" is an empty value);
 * -1 for an empty key. */
int cli_kv_add(json_t *obj, const char *kv);

/* Docker's units.HumanSize: decimal units, 4 significant digits ("4.26MB",
 * "0B"). */
void cli_human_size(int64_t n, char *buf, size_t len);

#endif
