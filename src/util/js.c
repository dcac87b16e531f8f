/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "js.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fs.h"
#include "log.h"

int js_load_file(const char *path, json_t **out, struct err **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;

    if (fs_read_file(path, &buf, &len, err) < 0)
        return -1;
    return js_load_buf(buf, len, path, out, err);
}

int js_load_buf(const char *buf, size_t len, const char *what, json_t **out, struct err **err)
{
    json_error_t jerr;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

    if (j == NULL)
        return err_val(err, EINVAL, "parse `%s`: line %d column %d: %s", what, jerr.line,
                       jerr.column, jerr.text);
    *out = j;
    return 0;
}

char *js_dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

int js_write_file(const char *path, const json_t *j, mode_t mode, struct err **err)
{
    _cleanup_free_ char *s = js_dump(j);
    _cleanup_free_ char *line = NULL;

    if (s == NULL || asprintf(&line, "%s\n", s) < 0)
        return err_set(err, ENOMEM, "serialise JSON for `%s`", path);
    return fs_write_atomic(path, line, strlen(line), mode, err);
}

int js_write_file_replace(const char *path, const json_t *j, mode_t mode, struct err **err)
{
    _cleanup_free_ char *s = js_dump(j);
    _cleanup_free_ char *line = NULL;

    if (s == NULL || asprintf(&line, "%s\n", s) < 0)
        return err_set(err, ENOMEM, "serialise JSON for `%s`", path);
    return fs_write_replace(path, line, strlen(line), mode, err);
}

const char *js_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

#define DOT(where) ((where)[0] ? "." : "")

/* Look up obj[key]; 0 = absent (error if required), 1 = present. */
static int field(json_t *obj, const char *where, const char *key, bool required, json_t **v,
                 struct err **err)
{
    *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (*v == NULL || json_is_null(*v)) {
        if (required)
            return err_val(err, EINVAL, "%s%s%s: required field is missing", where, DOT(where),
                           key);
        return 0;
    }
    return 1;
}

static int type_error(const char *where, const char *key, const char *want, json_t *v,
                      struct err **err)
{
    return err_val(err, EINVAL, "%s%s%s: expected %s, got %s", where, DOT(where), key, want,
                   js_type_name(v));
}

int js_get_obj(json_t *obj, const char *where, const char *key, bool required, json_t **out,
               struct err **err)
{
    json_t *v;
    int r = field(obj, where, key, required, &v, err);

    if (r <= 0)
        return r;
    if (!json_is_object(v))
        return type_error(where, key, "an object", v, err);
    *out = v;
    return 1;
}

int js_get_arr(json_t *obj, const char *where, const char *key, bool required, json_t **out,
               struct err **err)
{
    json_t *v;
    int r = field(obj, where, key, required, &v, err);

    if (r <= 0)
        return r;
    if (!json_is_array(v))
        return type_error(where, key, "an array", v, err);
    *out = v;
    return 1;
}

int js_get_str(json_t *obj, const char *where, const char *key, bool required, const char **out,
               struct err **err)
{
    json_t *v;
    int r = field(obj, where, key, required, &v, err);

    if (r <= 0)
        return r;
    if (!json_is_string(v))
        return type_error(where, key, "a string", v, err);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return err_val(err, EINVAL, "%s%s%s: string contains a NUL byte", where, DOT(where), key);
    *out = json_string_value(v);
    return 1;
}

int js_get_bool(json_t *obj, const char *where, const char *key, bool required, bool *out,
                struct err **err)
{
    json_t *v;
    int r = field(obj, where, key, required, &v, err);

    if (r <= 0)
        return r;
    if (!json_is_boolean(v))
        return type_error(where, key, "a boolean", v, err);
    *out = json_is_true(v);
    return 1;
}

int js_get_i64(json_t *obj, const char *where, const char *key, bool required, int64_t *out,
               struct err **err)
{
    return js_get_range(obj, where, key, required, INT64_MIN, INT64_MAX, out, err);
}

int js_get_range(json_t *obj, const char *where, const char *key, bool required, int64_t min,
                 int64_t max, int64_t *out, struct err **err)
{
    json_t *v;
    int r = field(obj, where, key, required, &v, err);

    if (r <= 0)
        return r;
    if (!json_is_integer(v))
        return type_error(where, key, "an integer", v, err);
    int64_t n = json_integer_value(v);
    if (n < min || n > max)
        return err_val(err, ERANGE,
                       "%s%s%s: %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", where,
                       DOT(where), key, n, min, max);
    *out = n;
    return 1;
}

int js_get_u32(json_t *obj, const char *where, const char *key, bool required, uint32_t *out,
               struct err **err)
{
    int64_t n = 0;
    int r = js_get_range(obj, where, key, required, 0, UINT32_MAX, &n, err);

    if (r > 0)
        *out = (uint32_t)n;
    return r;
}

int js_get_u64(json_t *obj, const char *where, const char *key, bool required, uint64_t *out,
               struct err **err)
{
    /* JSON integers from jansson are signed 64-bit: values above INT64_MAX
     * fail to parse, so [0, INT64_MAX] is the whole representable range. */
    int64_t n = 0;
    int r = js_get_range(obj, where, key, required, 0, INT64_MAX, &n, err);

    if (r > 0)
        *out = (uint64_t)n;
    return r;
}

int js_get_strv(json_t *obj, const char *where, const char *key, bool required, char ***out,
                struct err **err)
{
    json_t *arr = NULL, *v;
    size_t i;
    int r = js_get_arr(obj, where, key, required, &arr, err);

    if (r <= 0)
        return r;
    _cleanup_strv_ char **sv = calloc(json_array_size(arr) + 1, sizeof(char *));
    if (sv == NULL)
        return err_set(err, ENOMEM, "%s%s%s", where, DOT(where), key);
    json_array_foreach (arr, i, v) {
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return err_val(err, EINVAL, "%s%s%s[%zu]: expected a string, got %s", where, DOT(where),
                           key, i, js_type_name(v));
        sv[i] = strdup(json_string_value(v));
        if (sv[i] == NULL)
            return err_set(err, ENOMEM, "%s%s%s[%zu]", where, DOT(where), key, i);
    }
    strv_free(*out);
    *out = steal_ptr(&sv);
    return 1;
}

static bool js_key_known(const char *key, const char *const known[])
{
    for (size_t i = 0; known[i] != NULL; i++)
        if (strcmp(known[i], key) == 0)
            return true;
    return false;
}

/*
 * OCI runtime-spec, config.md "Configuration": "implementations [...] MUST
 * ignore unknown properties" (podman and containerd write fields of newer spec
 * versions; runc and crun ignore them). Known keys keep their type and value
 * checks in the callers.
 */
int js_check_keys(json_t *obj, const char *where, const char *const known[], struct err **err)
{
    const char *key;
    json_t *v;

    (void)err;
    json_object_foreach (obj, key, v) {
        if (!js_key_known(key, known))
            log_debug("%s%s%s: unknown field ignored", where, DOT(where), key);
    }
    return 0;
}

int js_check_keys_strict(json_t *obj, const char *where, const char *const known[],
                         struct err **err)
{
    const char *key;
    json_t *v;

    json_object_foreach (obj, key, v) {
        if (!js_key_known(key, known))
            return err_val(err, EINVAL, "%s%s%s: unknown field", where, DOT(where), key);
    }
    return 0;
}
