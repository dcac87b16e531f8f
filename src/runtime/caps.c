/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * process.capabilities (runtime-spec config.md "POSIX process" / capabilities):
 * five sets of names, applied with raw capset(2) and prctl(2) so the container's
 * child needs no library state (capabilities(7)).
 */
#include "runtime/caps.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/js.h"
#include "util/log.h"

/* Index = capability number (linux/capability.h, through Linux 5.9). */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int caps_from_name(const char *name, int *cap)
{
    if (name == NULL)
        return -1;
    const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++) {
        if (strcasecmp(cap_names[i] + 4, bare) == 0) {
            *cap = (int)i;
            return 0;
        }
    }
    return -1;
}

const char *caps_name(int cap)
{
    if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
        return NULL;
    return cap_names[cap];
}

int caps_last_cap(void)
{
    static int last = -1;
    char buf[32];

    if (last >= 0)
        return last;
    _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
        int v = atoi(buf);
        if (v > 0 && v < 64)
            last = v;
    }
    if (last < 0) {
        /* No /proc (early in a container): probe the bounding set. */
        int v = 0;
        while (v < 63 && prctl(PR_CAPBSET_READ, v + 1, 0, 0, 0) >= 0)
            v++;
        last = v;
    }
    return last;
}

static int parse_set(json_t *caps, const char *key, uint64_t *out, struct err **err)
{
    json_t *arr = NULL, *v;
    size_t i;
    int last = caps_last_cap();
    int r = js_get_arr(caps, "process.capabilities", key, false, &arr, err);

    *out = 0;
    if (r <= 0)
        return r;
    json_array_foreach (arr, i, v) {
        int cap;
        if (!json_is_string(v))
            return err_val(err, EINVAL, "process.capabilities.%s[%zu]: expected a string, got %s",
                           key, i, js_type_name(v));
        if (caps_from_name(json_string_value(v), &cap) < 0)
            return err_val(err, EINVAL, "process.capabilities.%s[%zu]: unknown capability `%s`",
                           key, i, json_string_value(v));
        if (cap > last) {
            log_warn("process.capabilities.%s[%zu]: %s is not known to the running kernel, "
                     "ignored",
                     key, i, cap_names[cap]);
            continue;
        }
        *out |= UINT64_C(1) << cap;
    }
    return 0;
}

int caps_parse(json_t *capabilities, struct caps *out, struct err **err)
{
    static const char *const known[] = {"bounding",  "effective", "inheritable",
                                        "permitted", "ambient",   NULL};
    struct caps c = {0};

    if (capabilities != NULL && !json_is_null(capabilities)) {
        if (!json_is_object(capabilities))
            return err_val(err, EINVAL, "process.capabilities: expected an object, got %s",
                           js_type_name(capabilities));
        if (js_check_keys(capabilities, "process.capabilities", known, err) < 0)
            return -1;
        if (parse_set(capabilities, "bounding", &c.bounding, err) < 0 ||
            parse_set(capabilities, "effective", &c.effective, err) < 0 ||
            parse_set(capabilities, "inheritable", &c.inheritable, err) < 0 ||
            parse_set(capabilities, "permitted", &c.permitted, err) < 0 ||
            parse_set(capabilities, "ambient", &c.ambient, err) < 0)
            return -1;
    }
    *out = c;
    return 0;
}

/*
 * Ambient capabilities must be in both permitted and inheritable
 * (capabilities(7)); the kernel refuses others with EPERM. `runc spec` and
 * `crun spec` list three ambient capabilities without an inheritable set, and
 * both runtimes raise what the kernel allows and log the rest at debug level:
 * do the same, so their default configs run here.
 */
static int caps_raise_ambient(uint64_t ambient, int last, struct err **err)
{
    for (int cap = 0; cap <= last; cap++) {
        if (!(ambient & (UINT64_C(1) << cap)))
            continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) == 0)
            continue;
        if (errno != EPERM)
            return err_sys(err, "raise ambient capability %s", caps_name(cap));
        log_debug("process.capabilities.ambient: %s not raised (it must be in the permitted "
                  "and inheritable sets): %s",
                  caps_name(cap), strerror(errno));
    }
    return 0;
}

int caps_apply(const struct caps *c, struct err **err)
{
    int last = caps_last_cap();
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];

    /* Bounding set first: dropping needs CAP_SETPCAP in the effective set,
     * which the capset below may remove. */
    for (int cap = 0; cap <= last; cap++) {
        if (c->bounding & (UINT64_C(1) << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return err_sys(err, "drop %s from the bounding set", caps_name(cap));
    }
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(c->effective >> (32 * i));
        data[i].permitted = (uint32_t)(c->permitted >> (32 * i));
        data[i].inheritable = (uint32_t)(c->inheritable >> (32 * i));
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return err_sys(err, "capset (effective %#llx, permitted %#llx, inheritable %#llx)",
                       (unsigned long long)c->effective, (unsigned long long)c->permitted,
                       (unsigned long long)c->inheritable);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return err_sys(err, "clear the ambient capability set");
    return caps_raise_ambient(c->ambient, last, err);
}
