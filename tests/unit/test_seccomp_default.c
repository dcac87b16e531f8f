/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The built-in default profile -> linux.seccomp: arch, caps-dependent rules,
 * and that the result compiles. */
#include <stdio.h>
#include <string.h>

#include "runtime/seccomp.h"
#include "runtime/seccomp_default.h"
#include "runtime/spec_defaults.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/js.h"

/* The action of the first rule naming `sys` (NULL if none); its errnoRet in *eret. */
static const char *action_of(json_t *prof, const char *sys, int *eret)
{
    size_t i, k;
    json_t *r, *n;

    json_array_foreach (json_object_get(prof, "syscalls"), i, r)
        json_array_foreach (json_object_get(r, "names"), k, n)
            if (strcmp(json_string_value(n), sys) == 0) {
                *eret = (int)json_integer_value(json_object_get(r, "errnoRet"));
                return json_string_value(json_object_get(r, "action"));
            }
    return NULL;
}

static size_t rules_named(json_t *prof, const char *sys)
{
    size_t i, k, c = 0;
    json_t *r, *n;

    json_array_foreach (json_object_get(prof, "syscalls"), i, r)
        json_array_foreach (json_object_get(r, "names"), k, n)
            c += strcmp(json_string_value(n), sys) == 0;
    return c;
}

int main(void)
{
    struct err *e = NULL;
    _cleanup_json_ json_t *caps = spec_defaults_caps_json();
    _cleanup_json_ json_t *def = NULL, *admin = NULL;
    int er = 0;

    ok(seccomp_default_spec(caps, &def, &e) == 0, "default caps: built");
    is_str(json_string_value(json_object_get(def, "defaultAction")), "SCMP_ACT_ERRNO",
           "default action errno");
    ok(json_integer_value(json_object_get(def, "defaultErrnoRet")) == 38, "ENOSYS by default");
#if defined(__x86_64__)
    ok(json_array_size(json_object_get(def, "architectures")) == 3 &&
           strcmp(json_string_value(json_array_get(json_object_get(def, "architectures"), 0)),
                  "SCMP_ARCH_X86_64") == 0,
       "x86_64 with x86 and x32");
    ok(rules_named(def, "arch_prctl") == 1, "amd64-only rule kept");
#endif
    ok(rules_named(def, "s390_runtime_instr") == 0, "other arches' rules dropped");
    const char *a = action_of(def, "bpf", &er);
    ok(a && strcmp(a, "SCMP_ACT_ERRNO") == 0 && er == 1, "bpf: EPERM without CAP_SYS_ADMIN");
    ok(rules_named(def, "bpf") == 1, "bpf: only the EPERM rule");
    a = action_of(def, "chroot", &er);
    ok(a && strcmp(a, "SCMP_ACT_ALLOW") == 0, "chroot allowed with CAP_SYS_CHROOT");
    ok(rules_named(def, "socket") == 1, "socket: CAP_AUDIT_WRITE allows it whole");
    a = action_of(def, "add_key", &er);
    ok(a && strcmp(a, "SCMP_ACT_ERRNO") == 0 && er == 1, "add_key: EPERM (Docker's)");
    ok(rules_named(def, "keyctl") == 1 && rules_named(def, "request_key") == 1,
       "keyctl, request_key: only the EPERM rule");

    json_array_append_new(caps, json_string("CAP_SYS_ADMIN"));
    ok(seccomp_default_spec(caps, &admin, &e) == 0, "with CAP_SYS_ADMIN: built");
    a = action_of(admin, "bpf", &er);
    ok(a && strcmp(a, "SCMP_ACT_ALLOW") == 0 && rules_named(admin, "bpf") == 1,
       "bpf: allowed with CAP_SYS_ADMIN");
    a = action_of(admin, "keyctl", &er);
    ok(a && strcmp(a, "SCMP_ACT_ALLOW") == 0 && rules_named(admin, "add_key") == 0,
       "keyrings: containers-common's rules with CAP_SYS_ADMIN");

    struct seccomp_filter *f = NULL;
    int rc = seccomp_compile(def, &f, &e);
    size_t len = f ? seccomp_filter_len(f) : 0;
    ok(rc == 0 && len > 200, "compiles (%zu insns)", len);
    seccomp_filter_free(f);
    if (e)
        printf("# %s\n", e->msg);
    err_free(&e);
    return done_testing();
}
