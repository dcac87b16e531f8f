/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci features: runtime-spec features.md (what this runtime implements). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/oci.h"
#include "runtime/caps.h"
#include "runtime/mempolicy.h"
#include "util/js.h"

static json_t *strs(const char *const *v)
{
    json_t *a = json_array();

    for (; *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

int oci_features(struct oci_global *g, int argc, char **argv)
{
    static const char *const hooks[] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
        NULL};
    static const char *const mopts[] = {"async",
                                        "atime",
                                        "bind",
                                        "defaults",
                                        "dev",
                                        "diratime",
                                        "dirsync",
                                        "exec",
                                        "idmap",
                                        "ridmap",
                                        "iversion",
                                        "lazytime",
                                        "loud",
                                        "mand",
                                        "noatime",
                                        "nodev",
                                        "nodiratime",
                                        "noexec",
                                        "noiversion",
                                        "nolazytime",
                                        "nomand",
                                        "norelatime",
                                        "nostrictatime",
                                        "nosuid",
                                        "nosymfollow",
                                        "private",
                                        "rbind",
                                        "rdev",
                                        "rdiratime",
                                        "relatime",
                                        "remount",
                                        "rexec",
                                        "rnoatime",
                                        "rnodev",
                                        "rnodiratime",
                                        "rnoexec",
                                        "rnosuid",
                                        "rnosymfollow",
                                        "ro",
                                        "rprivate",
                                        "rrelatime",
                                        "rro",
                                        "rrw",
                                        "rshared",
                                        "rslave",
                                        "rstrictatime",
                                        "rsuid",
                                        "rsymfollow",
                                        "runbindable",
                                        "rw",
                                        "shared",
                                        "silent",
                                        "slave",
                                        "strictatime",
                                        "suid",
                                        "sync",
                                        "unbindable",
                                        NULL};
    static const char *const ns[] = {"cgroup", "ipc",  "mount", "network", "pid",
                                     "time",   "user", "uts",   NULL};
    static const char *const actions[] = {
        "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
        "SCMP_ACT_TRACE",        "SCMP_ACT_TRAP",        NULL};
    static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                      "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                                      "SCMP_CMP_NE", NULL};
    static const char *const archs[] = {"SCMP_ARCH_X86_64",  "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL};
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c = getopt_long_only(argc, argv, "h", opts, NULL);
    if (c == 'h')
        return oci_help("features");
    if (c != -1)
        return oci_usage("features", "bad option");
    if (optind < argc)
        return oci_usage("features", "unexpected argument `%s`", argv[optind]);
    json_t *caps = json_array();

    for (int i = 0; i <= caps_last_cap(); i++)
        json_array_append_new(caps, json_string(caps_name(i)));
    _cleanup_json_ json_t *j = json_pack(
        "{s:s, s:s, s:o, s:o, s:{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:{s:b, s:o, s:o, s:o},"
        " s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}}, s:{s:s, s:s}}",
        "ociVersionMin", "1.0.0", "ociVersionMax", "1.2.0", "hooks", strs(hooks), "mountOptions",
        strs(mopts), "linux", "namespaces", strs(ns), "capabilities", caps, "cgroup", "v1", 1, "v2",
        1, "systemd", 0, "systemdUser", 0, "rdma", 0, "seccomp", "enabled", 1, "actions",
        strs(actions), "operators", strs(ops), "archs", strs(archs), "apparmor", "enabled", 0,
        "selinux", "enabled", 0, "intelRdt", "enabled", 0, "mountExtensions", "idmap", "enabled", 1,
        "annotations", "io.github.isola.version", ISOLA_VERSION, "io.github.isola.cgroups",
        "v1, v2, hybrid");
    if (j != NULL)
        json_object_set_new(json_object_get(j, "linux"), "memoryPolicy", mempolicy_features());
    char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    if (s == NULL)
        return 1;
    printf("%s\n", s);
    free(s);
    return 0;
}
