/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static const char doc[] = "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\",\"-c\",\"echo "
                          "hi\"],\"user\":{\"uid\":0,\"gid\":1000},\"terminal\":false},"
                          "\"big\":9007199254740993,\"neg\":-5,\"unicode\":\"caf\\u00e9\"}";

int main(void)
{
    struct err *e = NULL;
    json_t *j = NULL, *proc = NULL, *user = NULL;
    const char *s = NULL;
    int64_t n = 0;
    uint32_t u = 0;
    bool b = true;
    char **argv = NULL;

    ok(js_load_buf(doc, strlen(doc), "config.json", &j, &e) == 0, "parse valid document");
    ok(js_get_str(j, "", "ociVersion", true, &s, &e) == 1, "get string");
    is_str(s, "1.2.0", "string value");
    ok(js_get_obj(j, "", "process", true, &proc, &e) == 1, "get object");
    ok(js_get_strv(proc, "process", "args", true, &argv, &e) == 1 && argv && argv[2] && !argv[3],
       "get string array");
    is_str(argv ? argv[2] : NULL, "echo hi", "string array element");
    strv_free(argv);
    ok(js_get_obj(proc, "process", "user", true, &user, &e) == 1, "nested object");
    ok(js_get_u32(user, "process.user", "gid", true, &u, &e) == 1 && u == 1000, "u32");
    ok(js_get_bool(proc, "process", "terminal", true, &b, &e) == 1 && !b, "bool");
    ok(js_get_i64(j, "", "big", true, &n, &e) == 1 && n == 9007199254740993LL,
       "64-bit integers are exact");

    /* Absent fields. */
    s = "unchanged";
    ok(js_get_str(proc, "process", "cwd", false, &s, &e) == 0 && e == NULL, "optional absent");
    is_str(s, "unchanged", "absent leaves output alone");
    ok(js_get_str(proc, "process", "cwd", true, &s, &e) < 0, "required absent fails");
    is_str(e ? e->msg : NULL, "process.cwd: required field is missing", "names the field");
    err_free(&e);

    /* Wrong types and ranges name the field path. */
    ok(js_get_str(user, "process.user", "uid", true, &s, &e) < 0, "wrong type fails");
    is_str(e ? e->msg : NULL, "process.user.uid: expected a string, got integer",
           "type error names field and both types");
    err_free(&e);
    ok(js_get_u32(j, "", "neg", true, &u, &e) < 0 && e && e->code == ERANGE, "range check");
    err_free(&e);
    ok(js_get_u32(j, "", "big", true, &u, &e) < 0, "u32 overflow refused");
    err_free(&e);

    const char *const known[] = {"args", "user", NULL};
    ok(js_check_keys(proc, "process", known, &e) == 0 && e == NULL, "unknown key ignored");
    ok(js_check_keys_strict(proc, "process", known, &e) < 0, "strict: unknown key found");
    is_str(e ? e->msg : NULL, "process.terminal: unknown field", "unknown key named");
    err_free(&e);

    /* Round trip through a file: written atomically, read back equal. */
    char dir[] = "/tmp/isola-test-js-XXXXXX";
    ok(mkdtemp(dir) != NULL, "temp dir");
    _cleanup_free_ char *path = NULL;
    ok(asprintf(&path, "%s/state.json", dir) > 0, "path");
    ok(js_write_file(path, j, 0600, &e) == 0, "write JSON file");
    json_t *back = NULL;
    ok(js_load_file(path, &back, &e) == 0, "read JSON file back");
    ok(back && json_equal(j, back), "round trip is exact (incl. unicode and 64-bit)");
    _cleanup_free_ char *d1 = js_dump(j), *d2 = back ? js_dump(back) : NULL;
    is_str(d1, d2, "key order kept");
    json_decref(back);

    /* Malformed input: line and column are reported. */
    const char bad[] = "{\n  \"a\": 1,\n  \"b\": [1, 2,\n}";
    ok(js_load_buf(bad, strlen(bad), "bad.json", &back, &e) < 0, "malformed JSON fails");
    ok(e && strstr(e->msg, "parse `bad.json`: line 4") != NULL, "error has file and line: %s",
       e ? e->msg : "");
    err_free(&e);
    const char dup[] = "{\"readonly\": false, \"readonly\": true}";
    ok(js_load_buf(dup, strlen(dup), "dup.json", &back, &e) < 0, "duplicate keys refused");
    ok(e && strstr(e->msg, "duplicate") != NULL, "says duplicate: %s", e ? e->msg : "");
    err_free(&e);
    const char nul[] = "{\"a\": \"x\\u0000y\"}";
    json_t *jn = NULL;
    ok(js_load_buf(nul, strlen(nul), "nul.json", &jn, &e) < 0 ||
           js_get_str(jn, "", "a", true, &s, &e) < 0,
       "embedded NUL in a string refused");
    err_free(&e);
    json_decref(jn);
    ok(js_load_file("/nonexistent/config.json", &back, &e) < 0 && e->code == ENOENT,
       "missing file");
    is_str(e ? e->msg : NULL, "open `/nonexistent/config.json`: No such file or directory",
           "missing file named");
    err_free(&e);

    fs_rm_rf(dir, &e);
    json_decref(j);
    return done_testing();
}
