/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crun's run.oci.* annotations (see annotations.h). */
#include "runtime/annotations.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "util/cleanup.h"

enum verdict {
    HONOURED,
    NO_EFFECT_EMPTY, /* allowed when empty: what isola does anyway */
    NO_EFFECT,       /* allowed: it changes nothing without a feature isola refuses */
    REFUSED,
};

static const struct {
    const char *key;
    enum verdict v;
    const char *why; /* for REFUSED: what to use instead, or what is missing */
} known[] = {
    {"run.oci.keep_original_groups", HONOURED, NULL},
    {"run.oci.seccomp_fail_unknown_syscall", HONOURED, NULL},
    {"run.oci.hooks.stdout", HONOURED, NULL},
    {"run.oci.hooks.stderr", HONOURED, NULL},
    {"run.oci.mount_context_type", NO_EFFECT, NULL}, /* SELinux mount labels are refused */
    {"run.oci.systemd.subgroup", NO_EFFECT_EMPTY,
     "a sub-cgroup belongs to the systemd cgroup manager, which isola-oci does not have"},
    {"run.oci.seccomp.receiver", REFUSED, "use linux.seccomp.listenerPath"},
    {"run.oci.seccomp.plugins", REFUSED, "seccomp notify plugins are not supported"},
    {"run.oci.seccomp_bpf_data", REFUSED, "raw BPF is not supported: use linux.seccomp"},
    {"run.oci.pidfd_receiver", REFUSED, "sending the container's pidfd is not supported"},
    {"run.oci.systemd.force_cgroup_v1", REFUSED,
     "a name=systemd cgroup v1 mount is not supported: use a cgroup mount in `mounts`"},
    {"run.oci.timens_offset", REFUSED, "use linux.timeOffsets"},
    {"run.oci.delegate-cgroup", REFUSED, "cgroup delegation to a sub-cgroup is not supported"},
    {"run.oci.handler", REFUSED, "the krun and wasm handlers are not supported"},
};

/* crun: with the annotation, a syscall name the kernel (libseccomp) does not
 * know is an error instead of being skipped. */
static int seccomp_names_known(json_t *seccomp, struct err **err)
{
    json_t *rule, *name;
    size_t i, k;

    json_array_foreach (json_object_get(seccomp, "syscalls"), i, rule)
        json_array_foreach (json_object_get(rule, "names"), k, name) {
            const char *n = json_string_value(name);
            if (n != NULL && seccomp_syscall_resolve_name(n) == __NR_SCMP_ERROR)
                return err_val(err, EINVAL,
                               "linux.seccomp.syscalls[%zu].names[%zu]: unknown syscall `%s` "
                               "(annotation run.oci.seccomp_fail_unknown_syscall)",
                               i, k, n);
        }
    return 0;
}

int annotations_apply(struct spec *s, struct err **err)
{
    const char *key;
    json_t *val;

    json_object_foreach (s->annotations, key, val) {
        const char *v = json_string_value(val);
        size_t i;
        if (strncmp(key, "run.oci.", 8) != 0)
            continue;
        for (i = 0; i < ARRAY_SIZE(known); i++)
            if (strcmp(key, known[i].key) == 0)
                break;
        if (i == ARRAY_SIZE(known))
            return err_val(err, ENOTSUP,
                           "annotations.%s: unknown crun annotation, not supported by isola-oci",
                           key);
        if (known[i].v == REFUSED || (known[i].v == NO_EFFECT_EMPTY && v && v[0]))
            return err_val(err, ENOTSUP, "annotations.%s: not supported by isola-oci (%s)", key,
                           known[i].why);
    }
    if (json_object_get(s->annotations, "run.oci.keep_original_groups") != NULL)
        s->process.keep_groups = true;
    if (json_object_get(s->annotations, "run.oci.seccomp_fail_unknown_syscall") != NULL &&
        s->seccomp != NULL && seccomp_names_known(s->seccomp, err) < 0)
        return -1;
    for (const char *const *k =
             (const char *const[]){"run.oci.hooks.stdout", "run.oci.hooks.stderr", NULL};
         *k; k++) {
        const char *path = json_string_value(json_object_get(s->annotations, *k));
        if (path != NULL && path[0] == '\0')
            return err_val(err, EINVAL, "annotations.%s: empty path", *k);
    }
    return 0;
}
