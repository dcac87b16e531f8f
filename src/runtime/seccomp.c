/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.seccomp (runtime-spec config-linux.md "Seccomp") compiled with
 * libseccomp into a classic BPF program in the runtime, installed with
 * seccomp(2) in the container's process (seccomp(2), SECCOMP_SET_MODE_FILTER).
 */
#include "runtime/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/seccomp_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/log.h"

#define W "linux.seccomp"

static void cleanup_ctxp(scmp_filter_ctx *ctx)
{
    if (*ctx != NULL)
        seccomp_release(*ctx);
    *ctx = NULL;
}
#define _cleanup_ctx_ __attribute__((cleanup(cleanup_ctxp)))

void seccomp_filter_free(struct seccomp_filter *f)
{
    if (f == NULL)
        return;
    free(f->prog);
    free(f->listener_path);
    free(f->listener_metadata);
    free(f);
}

bool seccomp_needs_notify(const struct seccomp_filter *f)
{
    return f != NULL && f->notify;
}

const char *seccomp_listener_path(const struct seccomp_filter *f)
{
    return f != NULL ? f->listener_path : NULL;
}

const char *seccomp_listener_metadata(const struct seccomp_filter *f)
{
    return f != NULL ? f->listener_metadata : NULL;
}

static const struct {
    const char *name;
    uint32_t flag;
} flag_table[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

/* Action name -> libseccomp action; `errno_ret` is the errnoRet in effect
 * (EPERM when absent, as runc). Returns -1 for an unknown name. */
static int seccomp_action_parse(const char *name, uint32_t errno_ret, uint32_t *act)
{
    if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
        *act = SCMP_ACT_KILL_THREAD;
    else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
        *act = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
        *act = SCMP_ACT_TRAP;
    else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
        *act = SCMP_ACT_ERRNO(errno_ret);
    else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
        *act = SCMP_ACT_TRACE(errno_ret);
    else if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
        *act = SCMP_ACT_ALLOW;
    else if (strcmp(name, "SCMP_ACT_LOG") == 0)
        *act = SCMP_ACT_LOG;
    else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
        *act = SCMP_ACT_NOTIFY;
    else
        return -1;
    return 0;
}

static int parse_op(const char *name, enum scmp_compare *op)
{
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        if (strcmp(ops[i].name, name) == 0) {
            *op = ops[i].op;
            return 0;
        }
    }
    return -1;
}

/* "SCMP_ARCH_X86_64" -> libseccomp token, 0 when unknown. */
static uint32_t parse_arch(const char *name)
{
    char buf[64];
    size_t i;

    if (strncmp(name, "SCMP_ARCH_", 10) != 0)
        return 0;
    for (i = 0; name[10 + i] != '\0' && i + 1 < sizeof(buf); i++)
        buf[i] = (char)tolower((unsigned char)name[10 + i]);
    buf[i] = '\0';
    return seccomp_arch_resolve_name(buf);
}

static int errno_field(json_t *obj, const char *where, const char *key, uint32_t *out,
                       struct err **err)
{
    int64_t v = EPERM;
    int r = js_get_range(obj, where, key, false, 0, 4095, &v, err);
    if (r < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_args(json_t *args, const char *where, struct scmp_arg_cmp *cmps, size_t *n,
                      struct err **err)
{
    static const char *const known[] = {"index", "value", "valueTwo", "op", NULL};
    json_t *a;
    size_t i;

    if (json_array_size(args) > 6)
        return err_val(err, EINVAL, "%s: at most 6 argument conditions, got %zu", where,
                       json_array_size(args));
    json_array_foreach (args, i, a) {
        char w[160];
        int64_t index = 0;
        uint64_t value = 0, value2 = 0;
        const char *op = NULL;
        enum scmp_compare cmp;

        snprintf(w, sizeof(w), "%s[%zu]", where, i);
        if (!json_is_object(a))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(a));
        if (js_check_keys(a, w, known, err) < 0 ||
            js_get_range(a, w, "index", true, 0, 5, &index, err) < 0 ||
            js_get_u64(a, w, "value", true, &value, err) < 0 ||
            js_get_u64(a, w, "valueTwo", false, &value2, err) < 0 ||
            js_get_str(a, w, "op", true, &op, err) < 0)
            return -1;
        if (parse_op(op, &cmp) < 0)
            return err_val(err, EINVAL, "%s.op: unknown operator `%s`", w, op);
        /* SCMP_CMP_MASKED_EQ: value is the mask, valueTwo the datum (as runc). */
        cmps[i] = (struct scmp_arg_cmp){(unsigned)index, cmp, value, value2};
    }
    *n = json_array_size(args);
    return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t act, int nr, const char *sys,
                    const struct scmp_arg_cmp *cmps, size_t n, const char *where, struct err **err)
{
    bool repeated = false;

    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            repeated |= cmps[i].arg == cmps[j].arg;
    /* runc: conditions on distinct arguments are ANDed in one rule; if an
     * argument appears twice, each condition becomes its own rule (ORed). */
    if (repeated) {
        for (size_t i = 0; i < n; i++) {
            int r = seccomp_rule_add_array(ctx, act, nr, 1, &cmps[i]);
            if (r < 0)
                return err_set(err, -r, "%s: add rule for `%s`", where, sys);
        }
        return 0;
    }
    int r = seccomp_rule_add_array(ctx, act, nr, (unsigned)n, cmps);
    if (r < 0)
        return err_set(err, -r, "%s: add rule for `%s`", where, sys);
    return 0;
}

static int compile_rule(scmp_filter_ctx ctx, json_t *rule, size_t idx, uint32_t default_act,
                        bool *notify, struct err **err)
{
    static const char *const known[] = {"names",   "name",     "action",   "errnoRet", "args",
                                        "comment", "includes", "excludes", NULL};
    char w[64];
    const char *action = NULL;
    uint32_t errno_ret = EPERM, act;
    json_t *names = NULL, *args = NULL, *v;
    struct scmp_arg_cmp cmps[6];
    size_t n = 0, i;

    snprintf(w, sizeof(w), W ".syscalls[%zu]", idx);
    if (!json_is_object(rule))
        return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(rule));
    if (js_check_keys(rule, w, known, err) < 0 ||
        js_get_str(rule, w, "action", true, &action, err) < 0 ||
        errno_field(rule, w, "errnoRet", &errno_ret, err) < 0 ||
        js_get_arr(rule, w, "names", false, &names, err) < 0 ||
        js_get_arr(rule, w, "args", false, &args, err) < 0)
        return -1;
    /* Pre-1.0 configs name one syscall in "name". */
    _cleanup_json_ json_t *single = NULL;
    if (names == NULL && json_object_get(rule, "name") != NULL) {
        const char *one = NULL;
        if (js_get_str(rule, w, "name", true, &one, err) < 0)
            return -1;
        single = json_pack("[s]", one);
        if (single == NULL)
            return err_set(err, ENOMEM, "%s.name", w);
        names = single;
    }
    if (seccomp_action_parse(action, errno_ret, &act) < 0)
        return err_val(err, EINVAL, "%s.action: unknown action `%s`", w, action);
    if (json_object_get(rule, "errnoRet") != NULL && strcmp(action, "SCMP_ACT_ERRNO") != 0 &&
        strcmp(action, "SCMP_ACT_TRACE") != 0)
        return err_val(err, EINVAL, "%s.errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
                       w);
    if (args != NULL) {
        char aw[80];
        snprintf(aw, sizeof(aw), "%s.args", w);
        if (parse_args(args, aw, cmps, &n, err) < 0)
            return -1;
    }
    if (act == SCMP_ACT_NOTIFY)
        *notify = true;
    json_array_foreach (names, i, v) {
        char nw[96];
        snprintf(nw, sizeof(nw), "%s.names[%zu]", w, i);
        if (!json_is_string(v))
            return err_val(err, EINVAL, "%s: expected a string, got %s", nw, js_type_name(v));
        const char *sys = json_string_value(v);
        int nr = seccomp_syscall_resolve_name(sys);
        if (nr == __NR_SCMP_ERROR) {
            /* Profiles list syscalls of newer kernels and other arches (runc skips them). */
            log_debug("%s: unknown syscall `%s`, skipped", nw, sys);
            continue;
        }
        if (act == default_act)
            continue; /* libseccomp refuses rules that repeat the default action */
        if (add_rule(ctx, act, nr, sys, cmps, n, nw, err) < 0)
            return -1;
    }
    return 0;
}

/* Export the program: libseccomp 2.5 only writes to an fd. */
static int export_prog(scmp_filter_ctx ctx, struct seccomp_filter *f, struct err **err)
{
    _cleanup_close_ int fd = memfd_create("isola-seccomp", MFD_CLOEXEC);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;

    if (fd < 0)
        return err_sys(err, W ": memfd_create");
    int r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return err_set(err, -r, W ": export the BPF program");
    if (lseek(fd, 0, SEEK_SET) < 0)
        return err_sys(err, W ": seek the BPF program");
    if (fs_read_fd(fd, "seccomp BPF program", &buf, &len, err) < 0)
        return -1;
    if (len == 0 || len % sizeof(struct sock_filter) != 0)
        return err_set(err, EINVAL, W ": BPF program of %zu bytes", len);
    /* Classic BPF programs are limited to BPF_MAXINSNS (4096) instructions:
     * say so here, not with a bare EINVAL from seccomp(2) in the child. */
    if (len / sizeof(struct sock_filter) > BPF_MAXINSNS)
        return err_val(err, E2BIG,
                       W ": the filter compiles to %zu BPF instructions, the kernel accepts "
                         "at most %d (too many rules with argument conditions?)",
                       len / sizeof(struct sock_filter), BPF_MAXINSNS);

    f->prog = (struct sock_filter *)steal_ptr(&buf);
    f->len = len / sizeof(struct sock_filter);
    return 0;
}

int seccomp_parse_top(json_t *seccomp, struct seccomp_filter *f, uint32_t *default_act,
                      struct err **err)
{
    static const char *const known[] = {
        "defaultAction", "defaultErrnoRet",  "architectures", "flags",
        "listenerPath",  "listenerMetadata", "syscalls",      NULL};
    const char *def = NULL, *lp = NULL, *lm = NULL;
    uint32_t def_errno = EPERM;
    json_t *flags = NULL, *v;
    size_t i;

    if (!json_is_object(seccomp))
        return err_val(err, EINVAL, W ": expected an object, got %s", js_type_name(seccomp));
    if (js_check_keys(seccomp, W, known, err) < 0 ||
        js_get_str(seccomp, W, "defaultAction", true, &def, err) < 0 ||
        errno_field(seccomp, W, "defaultErrnoRet", &def_errno, err) < 0 ||
        js_get_arr(seccomp, W, "flags", false, &flags, err) < 0 ||
        js_get_str(seccomp, W, "listenerPath", false, &lp, err) < 0 ||
        js_get_str(seccomp, W, "listenerMetadata", false, &lm, err) < 0)
        return -1;
    if (seccomp_action_parse(def, def_errno, default_act) < 0)
        return err_val(err, EINVAL, W ".defaultAction: unknown action `%s`", def);
    if (*default_act == SCMP_ACT_NOTIFY)
        return err_val(err, EINVAL, W ".defaultAction: SCMP_ACT_NOTIFY cannot be the default");
    json_array_foreach (flags, i, v) {
        bool found = false;
        if (!json_is_string(v))
            return err_val(err, EINVAL, W ".flags[%zu]: expected a string, got %s", i,
                           js_type_name(v));
        for (size_t k = 0; k < ARRAY_SIZE(flag_table); k++) {
            if (strcmp(flag_table[k].name, json_string_value(v)) == 0) {
                f->flags |= flag_table[k].flag;
                found = true;
            }
        }
        if (!found)
            return err_val(err, EINVAL, W ".flags[%zu]: unknown flag `%s`", i,
                           json_string_value(v));
    }
    if (lp != NULL && (f->listener_path = strdup(lp)) == NULL)
        return err_set(err, ENOMEM, W ".listenerPath");
    if (lm != NULL && (f->listener_metadata = strdup(lm)) == NULL)
        return err_set(err, ENOMEM, W ".listenerMetadata");
    return 0;
}

int seccomp_compile(json_t *seccomp, struct seccomp_filter **out, struct err **err)
{
    uint32_t def_act;
    json_t *archs = NULL, *syscalls = NULL, *v;
    size_t i;

    *out = NULL;
    if (seccomp == NULL || json_is_null(seccomp))
        return 0;
    struct seccomp_filter *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return err_set(err, ENOMEM, W);
    __attribute__((cleanup(seccomp_filter_freep))) struct seccomp_filter *fp = f;
    if (seccomp_parse_top(seccomp, f, &def_act, err) < 0 ||
        js_get_arr(seccomp, W, "architectures", false, &archs, err) < 0 ||
        js_get_arr(seccomp, W, "syscalls", false, &syscalls, err) < 0)
        return -1;

    _cleanup_ctx_ scmp_filter_ctx ctx = seccomp_init(def_act);
    if (ctx == NULL)
        return err_set(err, EINVAL, W ".defaultAction: libseccomp refused the action");
    json_array_foreach (archs, i, v) {
        uint32_t arch;
        if (!json_is_string(v))
            return err_val(err, EINVAL, W ".architectures[%zu]: expected a string, got %s", i,
                           js_type_name(v));
        arch = parse_arch(json_string_value(v));
        if (arch == 0)
            return err_val(err, EINVAL, W ".architectures[%zu]: unknown architecture `%s`", i,
                           json_string_value(v));
        int r = seccomp_arch_add(ctx, arch);
        if (r < 0 && r != -EEXIST)
            return err_set(err, -r, W ".architectures[%zu]: add `%s`", i, json_string_value(v));
    }
    json_array_foreach (syscalls, i, v) {
        if (compile_rule(ctx, v, i, def_act, &f->notify, err) < 0)
            return -1;
    }
    if (f->notify) {
        if (f->listener_path == NULL)
            return err_val(err, EINVAL,
                           W ".listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
        if (f->flags & SECCOMP_FILTER_FLAG_TSYNC)
            return err_val(err, EINVAL,
                           W ".flags: SECCOMP_FILTER_FLAG_TSYNC cannot be combined with "
                             "SCMP_ACT_NOTIFY");
    }
    if (export_prog(ctx, f, err) < 0)
        return -1;
    *out = steal_ptr(&fp);
    return 0;
}

int seccomp_install(const struct seccomp_filter *f, int *notify_fd, struct err **err)
{
    struct sock_fprog prog;
    unsigned int flags;

    if (notify_fd != NULL)
        *notify_fd = -1;
    if (f == NULL)
        return 0;
    prog.len = (unsigned short)f->len;
    prog.filter = f->prog;
    flags = f->flags;
    if (f->notify)
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (r < 0)
        return err_sys(err, "seccomp(SECCOMP_SET_MODE_FILTER, flags %#x, %zu instructions)", flags,
                       f->len);
    if (f->notify && notify_fd != NULL)
        *notify_fd = (int)r;
    return 0;
}
