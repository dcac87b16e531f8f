/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v2 device controller is an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup (cgroup-v2.rst "Device
 * controller"); this file turns linux.resources.devices (runtime-spec
 * config-linux.md "Allowed Device Rules") into one and attaches it.
 *
 * Semantics follow the v1 device cgroup list as runc does: the rules are read
 * in order and the last one that matches decides; nothing matching is denied.
 * An allow rule matches when every requested access is in its access set; a
 * deny rule matches when any requested access is.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/cgroup_priv.h"
#include "util/cleanup.h"
#include "util/js.h"
#include "util/log.h"

#define INSN(c, d, s, o, i)          ((struct bpf_insn){(c), (d), (s), (o), (i)})
#define LDX_W(dst, src, off)         INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm)      INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_REG(dst, src)          INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm)          INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP32_IMM(op, dst, imm, off) INSN(BPF_JMP32 | (op) | BPF_K, dst, 0, off, imm)
#define EXIT_INSN()                  INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

struct rule {
    bool allow;
    int type;             /* BPF_DEVCG_DEV_*, 0 = all */
    int64_t major, minor; /* -1 = any */
    int access;           /* BPF_DEVCG_ACC_* */
};

static int parse_rule(json_t *d, size_t i, struct rule *out, struct err **err)
{
    static const char *const known[] = {"allow", "type", "major", "minor", "access", NULL};
    char w[64];
    const char *type = "a", *access = "rwm";

    snprintf(w, sizeof(w), "linux.resources.devices[%zu]", i);
    out->major = out->minor = -1;
    if (!json_is_object(d))
        return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(d));
    if (js_check_keys(d, w, known, err) < 0 ||
        js_get_bool(d, w, "allow", true, &out->allow, err) < 0 ||
        js_get_str(d, w, "type", false, &type, err) < 0 ||
        js_get_range(d, w, "major", false, -1, UINT32_MAX, &out->major, err) < 0 ||
        js_get_range(d, w, "minor", false, -1, UINT32_MAX, &out->minor, err) < 0 ||
        js_get_str(d, w, "access", false, &access, err) < 0)
        return -1;
    if (strcmp(type, "a") == 0)
        out->type = 0;
    else if (strcmp(type, "c") == 0 || strcmp(type, "u") == 0)
        out->type = BPF_DEVCG_DEV_CHAR;
    else if (strcmp(type, "b") == 0)
        out->type = BPF_DEVCG_DEV_BLOCK;
    else
        return err_val(err, EINVAL, "%s.type: `%s` is not one of a, b, c", w, type);
    out->access = access[0] ? 0 : ACC_ALL;
    for (const char *c = access; *c; c++) {
        if (*c == 'r')
            out->access |= BPF_DEVCG_ACC_READ;
        else if (*c == 'w')
            out->access |= BPF_DEVCG_ACC_WRITE;
        else if (*c == 'm')
            out->access |= BPF_DEVCG_ACC_MKNOD;
        else
            return err_val(err, EINVAL, "%s.access: `%s` is not a combination of r, w, m", w,
                           access);
    }
    return 0;
}

/* One rule: jumps out of the block go to the next rule; falling through
 * means it matched. */
static size_t emit_rule(const struct rule *r, struct bpf_insn *out)
{
    struct bpf_insn b[16];
    size_t n = 0, jumps[8], nj = 0;

    if (r->type != 0) {
        jumps[nj++] = n;
        b[n++] = JMP32_IMM(BPF_JNE, BPF_REG_2, r->type, 0);
    }
    if (r->access != ACC_ALL) {
        b[n++] = MOV64_REG(BPF_REG_1, BPF_REG_3);
        if (r->allow) {
            b[n++] = ALU32_IMM(BPF_AND, BPF_REG_1, ~r->access & ACC_ALL);
            jumps[nj++] = n;
            b[n++] = JMP32_IMM(BPF_JNE, BPF_REG_1, 0, 0);
        } else {
            b[n++] = ALU32_IMM(BPF_AND, BPF_REG_1, r->access);
            jumps[nj++] = n;
            b[n++] = JMP32_IMM(BPF_JEQ, BPF_REG_1, 0, 0);
        }
    }
    if (r->major >= 0) {
        jumps[nj++] = n;
        b[n++] = JMP32_IMM(BPF_JNE, BPF_REG_4, (int32_t)(uint32_t)r->major, 0);
    }
    if (r->minor >= 0) {
        jumps[nj++] = n;
        b[n++] = JMP32_IMM(BPF_JNE, BPF_REG_5, (int32_t)(uint32_t)r->minor, 0);
    }
    b[n++] = MOV64_IMM(BPF_REG_0, r->allow ? 1 : 0);
    b[n++] = EXIT_INSN();
    for (size_t j = 0; j < nj; j++)
        b[jumps[j]].off = (int16_t)(n - jumps[j] - 1);
    memcpy(out, b, n * sizeof(*b));
    return n;
}

int cgroup_bpf_build(json_t *devices, void **insns, size_t *count, struct err **err)
{
    json_t *d;
    size_t i, n = 0;

    if (!json_is_array(devices))
        return err_val(err, EINVAL, "linux.resources.devices: expected an array, got %s",
                       js_type_name(devices));
    size_t nrules = json_array_size(devices);
    if (nrules > 4096)
        return err_val(err, E2BIG, "linux.resources.devices: %zu rules (at most 4096)", nrules);
    _cleanup_free_ struct rule *rules = calloc(nrules + 1, sizeof(*rules));
    _cleanup_free_ struct bpf_insn *p = calloc(6 + 16 * (nrules + 1), sizeof(*p));
    if (rules == NULL || p == NULL)
        return err_set(err, ENOMEM, "linux.resources.devices");
    json_array_foreach (devices, i, d) {
        if (parse_rule(d, i, &rules[i], err) < 0)
            return -1;
    }
    /* r2 = device type, r3 = access, r4 = major, r5 = minor
     * (struct bpf_cgroup_dev_ctx: access_type = ACC << 16 | DEV). */
    p[n++] = LDX_W(BPF_REG_2, BPF_REG_1, 0);
    p[n++] = MOV64_REG(BPF_REG_3, BPF_REG_2);
    p[n++] = ALU32_IMM(BPF_RSH, BPF_REG_3, 16);
    p[n++] = ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff);
    p[n++] = LDX_W(BPF_REG_4, BPF_REG_1, 4);
    p[n++] = LDX_W(BPF_REG_5, BPF_REG_1, 8);
    /* Last matching rule wins: test them from the end. */
    bool decided = false;
    for (size_t k = nrules; k-- > 0 && !decided;) {
        n += emit_rule(&rules[k], p + n);
        /* A rule matching everything decides: the verifier refuses dead code after it. */
        decided = rules[k].type == 0 && rules[k].access == ACC_ALL && rules[k].major < 0 &&
                  rules[k].minor < 0;
    }
    if (!decided) {
        p[n++] = MOV64_IMM(BPF_REG_0, 0);
        p[n++] = EXIT_INSN();
    }
    *insns = steal_ptr(&p);
    *count = n;
    return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int cgroup_bpf_devices(int dirfd, json_t *devices, struct err **err)
{
    _cleanup_free_ void *insns = NULL;
    _cleanup_close_ int prog = -1;
    char log[4096] = "";
    size_t n = 0;
    union bpf_attr a;
    uint32_t old_ids[64], old_flags = 0, nold = 0;

    if (cgroup_bpf_build(devices, &insns, &n, err) < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = (uint32_t)n;
    a.license = (uint64_t)(uintptr_t) "GPL";
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = sizeof(log);
    a.log_level = 1;
    prog = sys_bpf(BPF_PROG_LOAD, &a);
    if (prog < 0 && errno == ENOSPC) { /* log too small: load without it */
        a.log_buf = 0;
        a.log_size = 0;
        a.log_level = 0;
        prog = sys_bpf(BPF_PROG_LOAD, &a);
    }
    if (prog < 0 && errno == EPERM && geteuid() != 0) {
        /* Rootless (runc does the same): without CAP_BPF no filter can be
         * loaded, and an unprivileged user cannot create device nodes either. */
        log_warn("linux.resources.devices: not enforced, loading an eBPF device filter needs "
                 "CAP_BPF (running as uid %u)",
                 (unsigned)geteuid());
        return 0;
    }
    if (prog < 0)
        return err_sys(err, "linux.resources.devices: load the eBPF device filter (%zu insns)%s%s",
                       n, log[0] ? ": " : "", log);

    /* Programs already attached (an update): replace them after ours is in. */
    memset(&a, 0, sizeof(a));
    a.query.target_fd = (uint32_t)dirfd;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = (uint64_t)(uintptr_t)old_ids;
    a.query.prog_cnt = ARRAY_SIZE(old_ids);
    if (sys_bpf(BPF_PROG_QUERY, &a) == 0) {
        nold = a.query.prog_cnt;
        old_flags = a.query.attach_flags;
    }
    if (nold > 0 && !(old_flags & BPF_F_ALLOW_MULTI)) {
        /* A single non-multi program: BPF_F_REPLACE is multi-only, so swap in place. */
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t)dirfd;
        a.attach_bpf_fd = (uint32_t)prog;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_OVERRIDE;
        if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
            return err_sys(err, "linux.resources.devices: attach the eBPF device filter");
        return 0;
    }
    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)dirfd;
    a.attach_bpf_fd = (uint32_t)prog;
    a.attach_type = BPF_CGROUP_DEVICE;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
        return err_sys(err, "linux.resources.devices: attach the eBPF device filter");
    for (uint32_t k = 0; k < nold && k < ARRAY_SIZE(old_ids); k++) {
        memset(&a, 0, sizeof(a));
        a.prog_id = old_ids[k];
        _cleanup_close_ int old = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
        if (old < 0)
            continue;
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t)dirfd;
        a.attach_bpf_fd = (uint32_t)old;
        a.attach_type = BPF_CGROUP_DEVICE;
        if (sys_bpf(BPF_PROG_DETACH, &a) < 0)
            return err_sys(err, "linux.resources.devices: detach the previous device filter");
    }
    return 0;
}
