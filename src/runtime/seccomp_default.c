/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Built-in default seccomp profile -> OCI linux.seccomp (runtime-spec
 * config-linux.md "Seccomp"). The selection follows containers/common's
 * pkg/seccomp (what podman runs): per rule, excludes.arches / excludes.caps /
 * excludes.minKernel drop it when they match, includes.* drop it unless all
 * match; capabilities are checked against the bounding set.
 */
#include "runtime/seccomp_default.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "runtime/seccomp_default_priv.h"
#include "util/cleanup.h"
#include "util/js.h"

/* Go's GOARCH names (the profile's `arches`) and libseccomp's for this build. */
#if defined(__x86_64__)
#define GO_ARCH     "amd64"
#define SCMP_NATIVE "SCMP_ARCH_X86_64"
#elif defined(__aarch64__)
#define GO_ARCH     "arm64"
#define SCMP_NATIVE "SCMP_ARCH_AARCH64"
#elif defined(__i386__)
#define GO_ARCH     "386"
#define SCMP_NATIVE "SCMP_ARCH_X86"
#elif defined(__arm__)
#define GO_ARCH     "arm"
#define SCMP_NATIVE "SCMP_ARCH_ARM"
#elif defined(__s390x__)
#define GO_ARCH     "s390x"
#define SCMP_NATIVE "SCMP_ARCH_S390X"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define GO_ARCH     "ppc64le"
#define SCMP_NATIVE "SCMP_ARCH_PPC64LE"
#elif defined(__riscv) && __riscv_xlen == 64
#define GO_ARCH     "riscv64"
#define SCMP_NATIVE "SCMP_ARCH_RISCV64"
#else
#error "seccomp_default.c: unknown architecture"
#endif

static bool in_strv(const char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (strcmp(*v, s) == 0)
            return true;
    return false;
}

static bool in_json(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach (arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

/* "4.8" against the running kernel: is the kernel at least that? */
static bool kernel_at_least(const char *min)
{
    struct utsname u;
    unsigned kmaj = 0, kmin = 0, maj = 0, mn = 0;

    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &kmaj, &kmin) < 1 ||
        sscanf(min, "%u.%u", &maj, &mn) < 1)
        return true;
    return kmaj > maj || (kmaj == maj && kmin >= mn);
}

static bool rule_applies(const struct seccomp_default_rule *r, json_t *bounding)
{
    if (r->exc_arches && in_strv(r->exc_arches, GO_ARCH))
        return false;
    for (const char *const *c = r->exc_caps; c && *c; c++)
        if (in_json(bounding, *c))
            return false;
    if (r->exc_min_kernel && kernel_at_least(r->exc_min_kernel))
        return false;
    if (r->inc_arches && !in_strv(r->inc_arches, GO_ARCH))
        return false;
    for (const char *const *c = r->inc_caps; c && *c; c++)
        if (!in_json(bounding, *c))
            return false;
    if (r->inc_min_kernel && !kernel_at_least(r->inc_min_kernel))
        return false;
    return true;
}

static json_t *strv_json(const char *const *v)
{
    json_t *a = json_array();

    for (; a && v && *v; v++)
        if (json_array_append_new(a, json_string(*v)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *rule_json(const struct seccomp_default_rule *r)
{
    json_t *o = json_pack("{s:o,s:s}", "names", strv_json(r->names), "action", r->action);

    if (o == NULL)
        return NULL;
    if (r->errno_ret >= 0 && json_object_set_new(o, "errnoRet", json_integer(r->errno_ret)) < 0)
        goto fail;
    if (r->nargs > 0) {
        json_t *args = json_array();
        if (args == NULL || json_object_set_new(o, "args", args) < 0)
            goto fail;
        for (size_t i = 0; i < r->nargs; i++) {
            const struct seccomp_default_arg *a = &r->args[i];
            json_t *ja =
                json_pack("{s:I,s:I,s:I,s:s}", "index", (json_int_t)a->index, "value",
                          (json_int_t)a->value, "valueTwo", (json_int_t)a->value_two, "op", a->op);
            if (ja == NULL || json_array_append_new(args, ja) < 0)
                goto fail;
        }
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* Docker's profile (not containers-common's) also denies the kernel keyring
 * calls: keyrings are not namespaced, and a container's root is the host's
 * uid 0. isola follows Docker here, unless the container has CAP_SYS_ADMIN. */
static const char *const keyring_calls[] = {"add_key", "keyctl", "request_key", NULL};

static int deny_keyrings(json_t *rules, json_t *bounding)
{
    size_t i, k;
    json_t *r, *n;

    if (in_json(bounding, "CAP_SYS_ADMIN"))
        return 0;
    json_array_foreach (rules, i, r) {
        json_t *names = json_object_get(r, "names");
        for (k = 0; k < json_array_size(names);) {
            n = json_array_get(names, k);
            if (in_strv(keyring_calls, json_string_value(n)))
                json_array_remove(names, k);
            else
                k++;
        }
    }
    return json_array_append_new(rules,
                                 json_pack("{s:o,s:s,s:i}", "names", strv_json(keyring_calls),
                                           "action", "SCMP_ACT_ERRNO", "errnoRet", EPERM));
}

int seccomp_default_spec(json_t *bounding, json_t **out, struct err **err)
{
    const struct seccomp_default_profile *p = &seccomp_default_table;
    _cleanup_json_ json_t *s = json_pack("{s:s}", "defaultAction", p->default_action);
    json_t *arches, *rules;

    if (s == NULL)
        return err_set(err, ENOMEM, "default seccomp profile");
    if (p->default_errno >= 0 &&
        json_object_set_new(s, "defaultErrnoRet", json_integer(p->default_errno)) < 0)
        return err_set(err, ENOMEM, "default seccomp profile");
    if ((arches = json_array()) == NULL || json_object_set_new(s, "architectures", arches) < 0 ||
        (rules = json_array()) == NULL || json_object_set_new(s, "syscalls", rules) < 0)
        return err_set(err, ENOMEM, "default seccomp profile");
    for (const struct seccomp_default_arch *a = p->arch_map; a->arch; a++) {
        if (strcmp(a->arch, SCMP_NATIVE) != 0)
            continue;
        json_array_append_new(arches, json_string(a->arch));
        for (const char *const *sub = a->subs; sub && *sub; sub++)
            json_array_append_new(arches, json_string(*sub));
    }
    for (size_t i = 0; i < p->nrules; i++) {
        if (!rule_applies(&p->rules[i], bounding))
            continue;
        json_t *r = rule_json(&p->rules[i]);
        if (r == NULL || json_array_append_new(rules, r) < 0)
            return err_set(err, ENOMEM, "default seccomp profile: rule %zu", i);
    }
    if (deny_keyrings(rules, bounding) < 0)
        return err_set(err, ENOMEM, "default seccomp profile");
    *out = steal_ptr(&s);
    return 0;
}
