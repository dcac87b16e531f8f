/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/js.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (j == NULL)
        printf("# bad test JSON: %s\n", e.text);
    return j;
}

static unsigned long long status_hex(const char *key)
{
    char line[256];
    unsigned long long v = ~0ULL;
    FILE *f = fopen("/proc/self/status", "re");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtoull(line + strlen(key), NULL, 16);
    if (f != NULL)
        fclose(f);
    return v;
}

int main(void)
{
    struct err *e = NULL;
    struct caps c;
    int cap = -1;

    ok(caps_from_name("CAP_NET_ADMIN", &cap) == 0 && cap == 12, "CAP_NET_ADMIN is 12");
    ok(caps_from_name("net_admin", &cap) == 0 && cap == 12, "net_admin (no prefix, any case)");
    ok(caps_from_name("CAP_FOO", &cap) < 0, "CAP_FOO unknown");
    is_str(caps_name(0), "CAP_CHOWN", "name of 0");
    ok(caps_name(200) == NULL, "no name for 200");
    ok(caps_last_cap() >= 36 && caps_last_cap() < 64, "cap_last_cap %d", caps_last_cap());

    json_t *j = J("{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
                  "\"ambient\":[]}");
    ok(caps_parse(j, &c, &e) == 0, "parse");
    ok(c.bounding == ((1ULL << 0) | (1ULL << 5)) && c.effective == (1ULL << 5) &&
           c.permitted == 0 && c.ambient == 0,
       "sets parsed");
    json_decref(j);

    j = J("{\"bounding\":[\"CAP_CHOWN\",\"CAP_FOO\"]}");
    ok(caps_parse(j, &c, &e) < 0, "unknown name fails");
    is_str(e ? e->msg : NULL, "process.capabilities.bounding[1]: unknown capability `CAP_FOO`",
           "error names set and index");
    err_free(&e);
    json_decref(j);

    j = J("{\"bounding\":[1]}");
    ok(caps_parse(j, &c, &e) < 0 && e && strstr(e->msg, "bounding[0]"), "non-string fails");
    err_free(&e);
    json_decref(j);

    /* runtime-spec config.md: unknown properties are ignored (runc does). */
    j = J("{\"bonding\":[\"CAP_KILL\"]}");
    ok(caps_parse(j, &c, &e) == 0 && e == NULL && c.bounding == 0, "unknown set ignored");
    err_free(&e);
    json_decref(j);

    ok(caps_parse(NULL, &c, &e) == 0 && c.bounding == 0, "NULL: all empty");

    /* Apply in a child and read back what the kernel reports. */
    if (getuid() != 0) {
        skip("caps_apply needs root");
        return done_testing();
    }
    pid_t pid = fork();
    if (pid == 0) {
        struct caps want = {
            .bounding = (1ULL << 0) | (1ULL << 5) | (1ULL << 8),
            .effective = (1ULL << 0) | (1ULL << 5),
            .permitted = (1ULL << 0) | (1ULL << 5),
            .inheritable = 1ULL << 5,
            .ambient = 1ULL << 5,
        };
        struct err *ce = NULL;
        if (caps_apply(&want, &ce) < 0) {
            fprintf(stderr, "# %s\n", ce->msg);
            _exit(2);
        }
        if (status_hex("CapBnd:") != want.bounding || status_hex("CapEff:") != want.effective ||
            status_hex("CapPrm:") != want.permitted || status_hex("CapInh:") != want.inheritable ||
            status_hex("CapAmb:") != want.ambient)
            _exit(3);
        _exit(0);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "caps_apply: kernel reports the five sets (%d)",
       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return done_testing();
}
