/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Placeholders for caps.h, seccomp.h and cgroup.h until their implementations
 * (branch runtime-sec) are merged: meson.build builds this file only while
 * caps.c is absent. Every entry point that would have to enforce something
 * fails, so nothing runs with a silently missing restriction.
 */
#include <errno.h>
#include <string.h>

#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/seccomp.h"

#define MISSING(what) err_val(err, ENOSYS, "%s: not built into this isola-oci", what)

int caps_parse(json_t *capabilities, struct caps *out, struct err **err)
{
    memset(out, 0, sizeof(*out));
    return MISSING("process.capabilities");
}
int caps_from_name(const char *name, int *cap)
{
    return -1;
}
const char *caps_name(int cap)
{
    return "?";
}
int caps_last_cap(void)
{
    return 40;
}
int caps_apply(const struct caps *c, struct err **err)
{
    return MISSING("capabilities");
}
int seccomp_compile(json_t *seccomp, struct seccomp_filter **out, struct err **err)
{
    *out = NULL;
    return seccomp == NULL ? 0 : MISSING("linux.seccomp");
}
bool seccomp_needs_notify(const struct seccomp_filter *f)
{
    return false;
}
const char *seccomp_listener_path(const struct seccomp_filter *f)
{
    return NULL;
}
const char *seccomp_listener_metadata(const struct seccomp_filter *f)
{
    return NULL;
}
int seccomp_install(const struct seccomp_filter *f, int *notify_fd, struct err **err)
{
    return MISSING("seccomp");
}
void seccomp_filter_free(struct seccomp_filter *f)
{
}
int cgroup_manager_parse(const char *s, enum cgroup_manager *out, struct err **err)
{
    if (strcmp(s, "cgroupfs") == 0)
        *out = CGROUP_MANAGER_CGROUPFS;
    else if (strcmp(s, "disabled") == 0)
        *out = CGROUP_MANAGER_DISABLED;
    else
        return err_val(err, EINVAL, "cgroup manager `%s`: expected cgroupfs or disabled", s);
    return 0;
}
int cgroup_create(enum cgroup_manager mgr, const char *id, const char *cgroups_path,
                  json_t *resources, pid_t pid, struct cgroup **out, struct err **err)
{
    *out = NULL;
    if (mgr == CGROUP_MANAGER_DISABLED)
        return 0;
    return MISSING("cgroups");
}
int cgroup_validate(json_t *resources, struct err **err)
{
    return 0;
}
int cgroup_update(struct cgroup *cg, json_t *resources, struct err **err)
{
    return MISSING("cgroups");
}
int cgroup_freeze(struct cgroup *cg, bool frozen, struct err **err)
{
    return MISSING("cgroups");
}
const char *cgroup_freezer_state(struct cgroup *cg)
{
    return "unknown";
}
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct err **err)
{
    return MISSING("cgroups");
}
int cgroup_kill(struct cgroup *cg, int sig, struct err **err)
{
    return MISSING("cgroups");
}
int cgroup_destroy(struct cgroup *cg, struct err **err)
{
    return 0;
}
json_t *cgroup_to_json(const struct cgroup *cg)
{
    return json_null();
}
int cgroup_from_json(json_t *j, struct cgroup **out, struct err **err)
{
    *out = NULL;
    return 0;
}
void cgroup_free(struct cgroup *cg)
{
}
const char *cgroup_layout_name(void)
{
    return "hybrid";
}
