/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON on jansson. Why jansson (over yajl and json-c, also in Debian):
 *  - it rejects duplicate object keys on request (JSON_REJECT_DUPLICATES): a
 *    config.json with two "readonly" keys must not mean whichever came last;
 *  - its parse errors carry line, column and a reason, which our messages pass on;
 *  - integers are 64-bit (json_int_t is long long) and object key order is kept,
 *    so configs and state round-trip;
 *  - it is maintained (yajl, crun's choice, has had no upstream release since 2014).
 *
 * The getters name the field in their errors ("process.user.uid: expected an
 * integer, got string"), so callers pass where the object lives.
 */
#ifndef ISOLA_UTIL_JS_H
#define ISOLA_UTIL_JS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

static inline void cleanup_jsonp(json_t **j)
{
    if (*j != NULL)
        json_decref(*j);
    *j = NULL;
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

/* Parse a file / buffer; `what` names the source in errors. */
int js_load_file(const char *path, json_t **out, struct err **err);
int js_load_buf(const char *buf, size_t len, const char *what, json_t **out, struct err **err);

/* Compact serialisation, NUL-terminated, caller frees. NULL on OOM. */
char *js_dump(const json_t *j);
/* Write j to path atomically (temp file + rename), compact, with a newline. */
int js_write_file(const char *path, const json_t *j, mode_t mode, struct err **err);
/* The same without the fsyncs (fs_write_replace): for files of the run dir. */
int js_write_file_replace(const char *path, const json_t *j, mode_t mode, struct err **err);

const char *js_type_name(const json_t *j);

/*
 * Typed field access. `where` is the dotted path of `obj` ("" for the top).
 * Absent (or JSON null) field: returns 0 and leaves *out unchanged, unless
 * `required`, in which case it is an error. Wrong type or range: error.
 * Returns 1 when the field was present and stored.
 */
int js_get_obj(json_t *obj, const char *where, const char *key, bool required, json_t **out,
               struct err **err);
int js_get_arr(json_t *obj, const char *where, const char *key, bool required, json_t **out,
               struct err **err);
int js_get_str(json_t *obj, const char *where, const char *key, bool required, const char **out,
               struct err **err);
int js_get_bool(json_t *obj, const char *where, const char *key, bool required, bool *out,
                struct err **err);
int js_get_i64(json_t *obj, const char *where, const char *key, bool required, int64_t *out,
               struct err **err);
/* Integer within [min, max]. */
int js_get_range(json_t *obj, const char *where, const char *key, bool required, int64_t min,
                 int64_t max, int64_t *out, struct err **err);
int js_get_u32(json_t *obj, const char *where, const char *key, bool required, uint32_t *out,
               struct err **err);
int js_get_u64(json_t *obj, const char *where, const char *key, bool required, uint64_t *out,
               struct err **err);
/* Array of strings -> NULL-terminated vector (strv_free). */
int js_get_strv(json_t *obj, const char *where, const char *key, bool required, char ***out,
                struct err **err);

/*
 * Keys of obj that are not in the NULL-terminated list `known` are ignored (logged
 * at debug level), as the OCI runtime spec requires of config.json. Never fails;
 * it keeps the error out-parameter so callers chain it with the getters.
 */
int js_check_keys(json_t *obj, const char *where, const char *const known[], struct err **err);
/* Error unless every key of obj is in `known`: for isola's own formats (VM config). */
int js_check_keys_strict(json_t *obj, const char *where, const char *const known[],
                         struct err **err);

#endif
