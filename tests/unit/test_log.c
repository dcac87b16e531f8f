/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"

int main(void)
{
    struct err *e = NULL;
    char path[] = "/tmp/isola-test-log-XXXXXX";
    int fd = mkstemp(path);
    enum log_format f;

    ok(fd >= 0, "temp file");
    close(fd);
    ok(log_parse_format("json", &f, &e) == 0 && f == LOGF_JSON, "parse json");
    ok(log_parse_format("yaml", &f, &e) < 0, "bad format refused");
    is_str(e ? e->msg : NULL, "log format `yaml`: expected `text` or `json`", "names the value");
    err_free(&e);

    ok(log_setup(path, LOGF_JSON, LOGL_INFO, &e) == 0, "log to file as JSON");
    log_error("container `%s` failed: \"quoted\"", "c1");
    log_debug("not shown at info level");
    log_setup(NULL, LOGF_TEXT, LOGL_DEBUG, &e);
    log_info("text line");

    char *buf = NULL;
    ok(fs_read_file(path, &buf, NULL, &e) == 0, "read log");
    char *nl = buf ? strchr(buf, '\n') : NULL;
    ok(nl != NULL, "one line per entry");
    json_t *j = NULL;
    ok(nl && js_load_buf(buf, (size_t)(nl - buf), "log", &j, &e) == 0, "line is JSON");
    const char *s = NULL;
    js_get_str(j, "", "level", true, &s, &e);
    is_str(s, "error", "level field");
    js_get_str(j, "", "msg", true, &s, &e);
    is_str(s, "container `c1` failed: \"quoted\"", "msg field with escaping");
    ok(js_get_str(j, "", "time", true, &s, &e) == 1 && strlen(s) > 20 && s[strlen(s) - 1] == 'Z',
       "RFC 3339 UTC time");
    ok(strstr(buf, "not shown") == NULL, "level filter");
    is_str(nl ? nl + 1 : NULL, "isola: info: text line\n", "text line format");
    json_decref(j);
    free(buf);
    unlink(path);
    return done_testing();
}
