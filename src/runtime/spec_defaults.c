/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container engine's defaults: see spec_defaults.h and docs/security.md. */
#include "runtime/spec_defaults.h"

#include <errno.h>
#include <string.h>

#include "runtime/seccomp_default.h"
#include "util/cleanup.h"
#include "util/js.h"

const char *const spec_defaults_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
    NULL,
};

/* podman 4.3's mounts (pkg/specgen, runc's defaults it starts from): /proc and
 * /dev noexec and nosuid as well, /dev/pts owned by the tty group. */
static const char mounts[] =
    "["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":["
    "\"nosuid\",\"noexec\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":["
    "\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":["
    "\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":["
    "\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":["
    "\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}]";

/* containers-common's defaults (pkg/config: DefaultMaskedPaths, DefaultReadOnlyPaths). */
static const char masked[] =
    "[\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
    "\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/proc/scsi\","
    "\"/sys/firmware\",\"/sys/fs/selinux\",\"/sys/dev/block\"]";
static const char readonly[] = "[\"/proc/asound\",\"/proc/bus\",\"/proc/fs\",\"/proc/irq\","
                               "\"/proc/sys\",\"/proc/sysrq-trigger\"]";

json_t *spec_defaults_caps_json(void)
{
    json_t *a = json_array();

    for (const char *const *c = spec_defaults_caps; a && *c; c++)
        if (json_array_append_new(a, json_string(*c)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int set_rlimit_nofile(json_t *proc, uint64_t nofile)
{
    json_t *rl = json_object_get(proc, "rlimits"), *r;
    size_t i;

    if (rl == NULL) {
        if ((rl = json_array()) == NULL || json_object_set_new(proc, "rlimits", rl) < 0)
            return -1;
    }
    json_array_foreach (rl, i, r)
        if (json_is_string(json_object_get(r, "type")) &&
            strcmp(json_string_value(json_object_get(r, "type")), "RLIMIT_NOFILE") == 0) {
            json_array_remove(rl, i);
            break;
        }
    return json_array_append_new(rl, json_pack("{s:s,s:I,s:I}", "type", "RLIMIT_NOFILE", "soft",
                                               (json_int_t)nofile, "hard", (json_int_t)nofile));
}

int spec_defaults_engine(json_t *spec, uint64_t nofile, struct err **err)
{
    json_t *proc = json_object_get(spec, "process");
    json_t *lnx = json_object_get(spec, "linux");
    _cleanup_json_ json_t *caps = spec_defaults_caps_json();
    json_t *capobj, *seccomp = NULL;

    if (!json_is_object(proc) || !json_is_object(lnx))
        return err_val(err, EINVAL, "config.json: no process or linux object");
    if (caps == NULL)
        return err_set(err, ENOMEM, "config.json");
    capobj = json_object_get(proc, "capabilities");
    if (capobj == NULL) {
        if ((capobj = json_object()) == NULL ||
            json_object_set_new(proc, "capabilities", capobj) < 0)
            return err_set(err, ENOMEM, "config.json");
    }
    json_object_del(capobj, "inheritable");
    json_object_del(capobj, "ambient");
    if (json_object_set(capobj, "bounding", caps) < 0 ||
        json_object_set(capobj, "effective", caps) < 0 ||
        json_object_set(capobj, "permitted", caps) < 0 ||
        json_object_set_new(spec, "mounts", json_loads(mounts, 0, NULL)) < 0 ||
        json_object_set_new(lnx, "maskedPaths", json_loads(masked, 0, NULL)) < 0 ||
        json_object_set_new(lnx, "readonlyPaths", json_loads(readonly, 0, NULL)) < 0)
        return err_set(err, ENOMEM, "config.json");
    if (nofile > 0 && set_rlimit_nofile(proc, nofile) < 0)
        return err_set(err, ENOMEM, "config.json: process.rlimits");
    if (json_object_get(lnx, "seccomp") == NULL) {
        if (seccomp_default_spec(caps, &seccomp, err) < 0)
            return -1;
        if (json_object_set_new(lnx, "seccomp", seccomp) < 0)
            return err_set(err, ENOMEM, "config.json: linux.seccomp");
    }
    return 0;
}
