/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.json -> struct spec (runtime-spec config.md, config-linux.md). */
#include "runtime/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/ioprio.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/annotations.h"
#include "runtime/cgroup.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const int spec_ns_order[SPEC_NS_MAX] = {CLONE_NEWUSER, CLONE_NEWIPC,    CLONE_NEWUTS,  CLONE_NEWNET,
                                        CLONE_NEWPID,  CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS};

static const struct {
    const char *name, *proc;
    int type;
} ns_names[] = {
    {"pid", "pid", CLONE_NEWPID},          {"network", "net", CLONE_NEWNET},
    {"mount", "mnt", CLONE_NEWNS},         {"ipc", "ipc", CLONE_NEWIPC},
    {"uts", "uts", CLONE_NEWUTS},          {"user", "user", CLONE_NEWUSER},
    {"cgroup", "cgroup", CLONE_NEWCGROUP}, {"time", "time", CLONE_NEWTIME},
};

const char *spec_ns_name(int type)
{
    for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
        if (ns_names[i].type == type)
            return ns_names[i].name;
    return "?";
}

const char *spec_ns_proc_name(int type)
{
    for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
        if (ns_names[i].type == type)
            return ns_names[i].proc;
    return "?";
}

const struct spec_ns *spec_ns_find(const struct spec *s, int type)
{
    for (size_t i = 0; i < s->nns; i++)
        if (s->ns[i].type == type)
            return &s->ns[i];
    return NULL;
}

/* ---- mount options (config.md "Mounts", mount(8) option names) ---- */

static const struct {
    const char *name;
    bool clear;
    unsigned long flag;
} mount_flags[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
};

static const struct {
    const char *name;
    unsigned long flag;
} mount_props[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Recursive variants (runtime-spec 1.1, mount_setattr(2)). */
static const struct {
    const char *name;
    bool clear;
    uint64_t attr;
} mount_rattrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
    {"nosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
};

static int append_data(char **data, const char *opt)
{
    char *n = NULL;

    if (*data == NULL)
        n = strdup(opt);
    else if (asprintf(&n, "%s,%s", *data, opt) < 0)
        n = NULL;
    if (n == NULL)
        return -1;
    free(*data);
    *data = n;
    return 0;
}

int spec_mount_options(json_t *options, const char *where, struct spec_mount *m, struct err **err)
{
    size_t i;
    json_t *o;

    if (options == NULL)
        return 0;
    if (!json_is_array(options))
        return err_val(err, EINVAL, "%s.options: expected an array, got %s", where,
                       js_type_name(options));
    json_array_foreach (options, i, o) {
        if (!json_is_string(o))
            return err_val(err, EINVAL, "%s.options[%zu]: expected a string, got %s", where, i,
                           js_type_name(o));
        const char *s = json_string_value(o);
        bool done = false;
        if (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0) {
            m->bind = true;
            m->rec = m->rec || s[0] == 'r';
            continue;
        }
        for (size_t k = 0; k < ARRAY_SIZE(mount_flags) && !done; k++)
            if (strcmp(s, mount_flags[k].name) == 0) {
                if (mount_flags[k].clear)
                    m->flags &= ~mount_flags[k].flag;
                else
                    m->flags |= mount_flags[k].flag;
                done = true;
            }
        for (size_t k = 0; k < ARRAY_SIZE(mount_props) && !done; k++)
            if (strcmp(s, mount_props[k].name) == 0) {
                m->propagation = mount_props[k].flag;
                done = true;
            }
        for (size_t k = 0; k < ARRAY_SIZE(mount_rattrs) && !done; k++)
            if (strcmp(s, mount_rattrs[k].name) == 0) {
                if (mount_rattrs[k].clear) {
                    m->attr_clr |= mount_rattrs[k].attr;
                    m->attr_set &= ~mount_rattrs[k].attr;
                } else {
                    m->attr_set |= mount_rattrs[k].attr;
                    m->attr_clr &= ~mount_rattrs[k].attr;
                }
                done = true;
            }
        if (done)
            continue;
        if (strcmp(s, "tmpcopyup") == 0) {
            if (m->type == NULL || strcmp(m->type, "tmpfs") != 0)
                return err_val(err, EINVAL, "%s.options[%zu]: `tmpcopyup` needs a tmpfs", where, i);
            m->tmpcopyup = true;
            continue;
        }
        if (strcmp(s, "idmap") == 0 || strcmp(s, "ridmap") == 0) {
            m->idmap = true;
            m->ridmap = m->ridmap || s[0] == 'r';
            continue;
        }
        if (strcmp(s, "copy-symlink") == 0)
            return err_val(err, ENOTSUP, "%s.options[%zu]: `%s` is not supported", where, i, s);
        if (strchr(s, '=') == NULL && m->type == NULL)
            return err_val(err, EINVAL, "%s.options[%zu]: unknown bind mount option `%s`", where, i,
                           s);
        if (append_data(&m->data, s) < 0)
            return err_set(err, ENOMEM, "%s.options", where);
    }
    return 0;
}

static const char *const mount_types[] = {"bind",   "tmpfs",   "proc",   "sysfs",
                                          "mqueue", "devpts",  "cgroup", "cgroup2",
                                          "none",   "overlay", NULL};

static int parse_idmaps(json_t *arr, const char *where, struct spec_idmap **out, size_t *n,
                        struct err **err);

/* uidMappings/gidMappings of a mount (config.md "Mounts"): both or neither;
 * an idmapped mount is a bind mount here. */
static int parse_mount_idmaps(json_t *j, const char *where, struct spec_mount *m, struct err **err)
{
    json_t *um = NULL, *gm = NULL;
    char w[96];

    if (js_get_arr(j, where, "uidMappings", false, &um, err) < 0 ||
        js_get_arr(j, where, "gidMappings", false, &gm, err) < 0)
        return -1;
    snprintf(w, sizeof(w), "%s.uidMappings", where);
    if (parse_idmaps(um, w, &m->uidmap, &m->nuidmap, err) < 0)
        return -1;
    snprintf(w, sizeof(w), "%s.gidMappings", where);
    if (parse_idmaps(gm, w, &m->gidmap, &m->ngidmap, err) < 0)
        return -1;
    if ((m->nuidmap == 0) != (m->ngidmap == 0))
        return err_val(err, EINVAL, "%s: an idmapped mount needs both uidMappings and gidMappings",
                       where);
    if (m->nuidmap != 0)
        m->idmap = true;
    if (m->idmap && !m->bind)
        return err_val(err, ENOTSUP, "%s: idmapped mounts are supported on bind mounts only",
                       where);
    return 0;
}

static int parse_mount(json_t *j, const char *where, const char *bundle, struct spec_mount *m,
                       struct err **err)
{
    static const char *const keys[] = {"destination", "type",        "source", "options",
                                       "uidMappings", "gidMappings", NULL};
    const char *type = NULL, *source = NULL;
    json_t *options = NULL;

    if (!json_is_object(j))
        return err_val(err, EINVAL, "%s: expected an object, got %s", where, js_type_name(j));
    if (js_check_keys(j, where, keys, err) < 0 ||
        js_get_str(j, where, "destination", true, &m->destination, err) < 0 ||
        js_get_str(j, where, "type", false, &type, err) < 0 ||
        js_get_str(j, where, "source", false, &source, err) < 0 ||
        js_get_arr(j, where, "options", false, &options, err) < 0)
        return -1;
    if (m->destination[0] != '/')
        return err_val(err, EINVAL, "%s.destination: `%s` is not an absolute path", where,
                       m->destination);
    if (type != NULL && type[0] != '\0') {
        size_t k;
        for (k = 0; mount_types[k] != NULL; k++)
            if (strcmp(type, mount_types[k]) == 0)
                break;
        if (mount_types[k] == NULL)
            return err_val(err, ENOTSUP, "%s.type: unsupported filesystem type `%s`", where, type);
        if (strcmp(type, "bind") == 0 || strcmp(type, "none") == 0)
            type = NULL;
        m->type = type;
        if (m->type == NULL)
            m->bind = true;
    }
    if (spec_mount_options(options, where, m, err) < 0)
        return -1;
    if (m->bind)
        m->type = NULL;
    m->idmap_fd = -1;
    if (parse_mount_idmaps(j, where, m, err) < 0)
        return -1;
    if (m->bind && (source == NULL || source[0] == '\0'))
        return err_val(err, EINVAL, "%s.source: a bind mount needs a source", where);
    if (m->type == NULL && !m->bind)
        return err_val(err, EINVAL, "%s: no type and no bind option", where);
    if (source == NULL)
        source = m->type;
    if (m->bind && source[0] != '/') {
        if (asprintf(&m->source, "%s/%s", bundle, source) < 0)
            return err_set(err, ENOMEM, "%s.source", where);
    } else if ((m->source = strdup(source)) == NULL) {
        return err_set(err, ENOMEM, "%s.source", where);
    }
    return 0;
}

/* ---- process (config.md "Process") ---- */

static const struct {
    const char *name;
    int res;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(json_t *arr, const char *where, struct spec_process *p, struct err **err)
{
    static const char *const keys[] = {"type", "soft", "hard", NULL};
    size_t i;
    json_t *r;

    p->rlimits = calloc(json_array_size(arr) + 1, sizeof(*p->rlimits));
    if (p->rlimits == NULL)
        return err_set(err, ENOMEM, "%s.rlimits", where);
    json_array_foreach (arr, i, r) {
        char w[64];
        const char *type = NULL;
        struct spec_rlimit *rl = &p->rlimits[i];
        size_t k;

        snprintf(w, sizeof(w), "%s.rlimits[%zu]", where, i);
        if (!json_is_object(r))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(r));
        if (js_check_keys(r, w, keys, err) < 0 || js_get_str(r, w, "type", true, &type, err) < 0 ||
            js_get_u64(r, w, "soft", true, &rl->soft, err) < 0 ||
            js_get_u64(r, w, "hard", true, &rl->hard, err) < 0)
            return -1;
        for (k = 0; k < ARRAY_SIZE(rlimit_names); k++)
            if (strcmp(type, rlimit_names[k].name) == 0)
                break;
        if (k == ARRAY_SIZE(rlimit_names))
            return err_val(err, EINVAL, "%s.type: unknown rlimit `%s`", w, type);
        rl->resource = rlimit_names[k].res;
        for (size_t q = 0; q < i; q++)
            if (p->rlimits[q].resource == rl->resource)
                return err_val(err, EINVAL, "%s.type: `%s` is given twice", w, type);
        if (rl->soft > rl->hard)
            return err_val(err, EINVAL, "%s: soft limit %llu is above the hard limit %llu", w,
                           (unsigned long long)rl->soft, (unsigned long long)rl->hard);
        p->nrlimits++;
    }
    return 0;
}

static int parse_user(json_t *u, const char *where, struct spec_process *p, struct err **err)
{
    static const char *const keys[] = {"uid", "gid", "umask", "additionalGids", NULL};
    char w[64];
    json_t *gids = NULL, *g;
    uint32_t v;
    size_t i;

    snprintf(w, sizeof(w), "%s.user", where);
    if (js_check_keys(u, w, keys, err) < 0 || js_get_u32(u, w, "uid", true, &p->uid, err) < 0 ||
        js_get_u32(u, w, "gid", true, &p->gid, err) < 0)
        return -1;
    int r = js_get_u32(u, w, "umask", false, &v, err);
    if (r < 0)
        return -1;
    if (r > 0) {
        if (v > 0777)
            return err_val(err, EINVAL, "%s.umask: %u is not a file mode mask", w, v);
        p->has_umask = true;
        p->umask = v;
    }
    if (js_get_arr(u, w, "additionalGids", false, &gids, err) < 0)
        return -1;
    if (gids == NULL)
        return 0;
    p->gids = calloc(json_array_size(gids) + 1, sizeof(gid_t));
    if (p->gids == NULL)
        return err_set(err, ENOMEM, "%s.additionalGids", w);
    json_array_foreach (gids, i, g) {
        if (!json_is_integer(g) || json_integer_value(g) < 0 ||
            json_integer_value(g) > UINT32_MAX - 1)
            return err_val(err, EINVAL, "%s.additionalGids[%zu]: expected a gid, got %s", w, i,
                           js_type_name(g));
        p->gids[p->ngids++] = (gid_t)json_integer_value(g);
    }
    return 0;
}

static int parse_sched(json_t *s, const char *where, struct spec_sched *out, struct err **err)
{
    static const char *const keys[] = {"policy",  "nice",     "priority", "flags",
                                       "runtime", "deadline", "period",   NULL};
    static const char *const policies[] = {"SCHED_OTHER",   "SCHED_FIFO", "SCHED_RR",
                                           "SCHED_BATCH",   "SCHED_ISO",  "SCHED_IDLE",
                                           "SCHED_DEADLINE"};
    static const char *const flags[] = {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",
                                        "SCHED_FLAG_DL_OVERRUN",    "SCHED_FLAG_KEEP_POLICY",
                                        "SCHED_FLAG_KEEP_PARAMS",   "SCHED_FLAG_UTIL_CLAMP_MIN",
                                        "SCHED_FLAG_UTIL_CLAMP_MAX"};
    char w[64];
    const char *policy = NULL;
    int64_t nice = 0;
    json_t *fl = NULL, *f;
    size_t i, k;

    snprintf(w, sizeof(w), "%s.scheduler", where);
    if (js_check_keys(s, w, keys, err) < 0 || js_get_str(s, w, "policy", true, &policy, err) < 0 ||
        js_get_range(s, w, "nice", false, -20, 19, &nice, err) < 0 ||
        js_get_u32(s, w, "priority", false, &out->priority, err) < 0 ||
        js_get_u64(s, w, "runtime", false, &out->runtime, err) < 0 ||
        js_get_u64(s, w, "deadline", false, &out->deadline, err) < 0 ||
        js_get_u64(s, w, "period", false, &out->period, err) < 0 ||
        js_get_arr(s, w, "flags", false, &fl, err) < 0)
        return -1;
    for (k = 0; k < ARRAY_SIZE(policies); k++)
        if (strcmp(policy, policies[k]) == 0)
            break;
    if (k == ARRAY_SIZE(policies) || k == 4)
        return err_val(err, EINVAL, "%s.policy: unknown policy `%s`", w, policy);
    out->policy = (uint32_t)k;
    out->nice = (int32_t)nice;
    json_array_foreach (fl, i, f) {
        size_t q;
        for (q = 0; q < ARRAY_SIZE(flags); q++)
            if (json_is_string(f) && strcmp(json_string_value(f), flags[q]) == 0)
                break;
        if (q == ARRAY_SIZE(flags))
            return err_val(err, EINVAL, "%s.flags[%zu]: unknown scheduler flag", w, i);
        out->flags |= 1ULL << q;
    }
    out->set = true;
    return 0;
}

static bool apparmor_enabled(void)
{
    _cleanup_free_ char *buf = NULL;
    size_t len;
    struct err *e = NULL;

    if (fs_read_file("/sys/module/apparmor/parameters/enabled", &buf, &len, &e) < 0) {
        err_free(&e);
        return false;
    }
    return buf[0] == 'Y';
}

int spec_process_parse(json_t *p, const char *where, struct spec_process *out, struct err **err)
{
    static const char *const keys[] = {"terminal",
                                       "consoleSize",
                                       "cwd",
                                       "env",
                                       "args",
                                       "rlimits",
                                       "apparmorProfile",
                                       "capabilities",
                                       "noNewPrivileges",
                                       "oomScoreAdj",
                                       "scheduler",
                                       "selinuxLabel",
                                       "ioPriority",
                                       "user",
                                       "execCPUAffinity",
                                       "commandLine",
                                       NULL};
    char w[64];
    json_t *cs = NULL, *user = NULL, *caps = NULL, *rl = NULL, *sched = NULL, *io = NULL,
           *aff = NULL;
    const char *selinux = NULL, *cmdline = NULL;
    int64_t v;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(p))
        return err_val(err, EINVAL, "%s: expected an object, got %s", where, js_type_name(p));
    if (js_check_keys(p, where, keys, err) < 0 ||
        js_get_bool(p, where, "terminal", false, &out->terminal, err) < 0 ||
        js_get_obj(p, where, "consoleSize", false, &cs, err) < 0 ||
        js_get_str(p, where, "cwd", true, &out->cwd, err) < 0 ||
        js_get_strv(p, where, "env", false, &out->env, err) < 0 ||
        js_get_strv(p, where, "args", true, &out->args, err) < 0 ||
        js_get_arr(p, where, "rlimits", false, &rl, err) < 0 ||
        js_get_str(p, where, "apparmorProfile", false, &out->apparmor, err) < 0 ||
        js_get_obj(p, where, "capabilities", false, &caps, err) < 0 ||
        js_get_bool(p, where, "noNewPrivileges", false, &out->no_new_privs, err) < 0 ||
        js_get_obj(p, where, "scheduler", false, &sched, err) < 0 ||
        js_get_str(p, where, "selinuxLabel", false, &selinux, err) < 0 ||
        js_get_obj(p, where, "ioPriority", false, &io, err) < 0 ||
        js_get_obj(p, where, "user", true, &user, err) < 0 ||
        js_get_obj(p, where, "execCPUAffinity", false, &aff, err) < 0 ||
        js_get_str(p, where, "commandLine", false, &cmdline, err) < 0)
        return -1;
    if (out->args[0] == NULL)
        return err_val(err, EINVAL, "%s.args: must name the program to run", where);
    if (out->cwd[0] != '/')
        return err_val(err, EINVAL, "%s.cwd: `%s` is not an absolute path", where, out->cwd);
    for (char **e = out->env; e && *e; e++)
        if (strchr(*e, '=') == NULL)
            return err_val(err, EINVAL, "%s.env[%zu]: `%s` is not NAME=VALUE", where,
                           (size_t)(e - out->env), *e);
    if (cs != NULL) {
        snprintf(w, sizeof(w), "%s.consoleSize", where);
        static const char *const cskeys[] = {"height", "width", NULL};
        if (js_check_keys(cs, w, cskeys, err) < 0 ||
            js_get_u32(cs, w, "height", true, &out->console_h, err) < 0 ||
            js_get_u32(cs, w, "width", true, &out->console_w, err) < 0)
            return -1;
    }
    if (parse_user(user, where, out, err) < 0)
        return -1;
    if (rl != NULL && parse_rlimits(rl, where, out, err) < 0)
        return -1;
    if (caps != NULL) {
        if (caps_parse(caps, &out->caps, err) < 0)
            return -1;
        out->has_caps = true;
    }
    int r = js_get_range(p, where, "oomScoreAdj", false, -1000, 1000, &v, err);
    if (r < 0)
        return -1;
    if (r > 0) {
        out->has_oom = true;
        out->oom_score_adj = (int)v;
    }
    if (sched != NULL && parse_sched(sched, where, &out->sched, err) < 0)
        return -1;
    if (io != NULL) {
        static const char *const iokeys[] = {"class", "priority", NULL};
        const char *cls = NULL;
        int64_t prio = 0;
        int c;
        snprintf(w, sizeof(w), "%s.ioPriority", where);
        if (js_check_keys(io, w, iokeys, err) < 0 ||
            js_get_str(io, w, "class", true, &cls, err) < 0 ||
            js_get_range(io, w, "priority", false, 0, 7, &prio, err) < 0)
            return -1;
        if (strcmp(cls, "IOPRIO_CLASS_RT") == 0)
            c = IOPRIO_CLASS_RT;
        else if (strcmp(cls, "IOPRIO_CLASS_BE") == 0)
            c = IOPRIO_CLASS_BE;
        else if (strcmp(cls, "IOPRIO_CLASS_IDLE") == 0)
            c = IOPRIO_CLASS_IDLE;
        else
            return err_val(err, EINVAL, "%s.class: unknown class `%s`", w, cls);
        out->has_ioprio = true;
        out->ioprio = IOPRIO_PRIO_VALUE(c, prio);
    }
    if (selinux != NULL && selinux[0] != '\0')
        return err_val(err, ENOTSUP, "%s.selinuxLabel: SELinux is not supported by isola-oci",
                       where);
    if (out->apparmor != NULL && out->apparmor[0] != '\0' && !apparmor_enabled())
        return err_val(err, ENOTSUP,
                       "%s.apparmorProfile: `%s` cannot be applied: AppArmor is not enabled "
                       "on this host",
                       where, out->apparmor);
    if (aff != NULL)
        return err_val(err, ENOTSUP, "%s.execCPUAffinity: not supported", where);
    if (cmdline != NULL)
        return err_val(err, ENOTSUP, "%s.commandLine: Windows only", where);
    return 0;
}

void spec_process_release(struct spec_process *p)
{
    strv_free(p->args);
    strv_free(p->env);
    free(p->gids);
    free(p->rlimits);
    memset(p, 0, sizeof(*p));
}

/* ---- linux ---- */

static int parse_namespaces(json_t *arr, struct spec *s, struct err **err)
{
    static const char *const keys[] = {"type", "path", NULL};
    size_t i;
    json_t *n;

    json_array_foreach (arr, i, n) {
        char w[64];
        const char *type = NULL, *path = NULL;
        size_t k;

        snprintf(w, sizeof(w), "linux.namespaces[%zu]", i);
        if (!json_is_object(n))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(n));
        if (js_check_keys(n, w, keys, err) < 0 || js_get_str(n, w, "type", true, &type, err) < 0 ||
            js_get_str(n, w, "path", false, &path, err) < 0)
            return -1;
        for (k = 0; k < ARRAY_SIZE(ns_names); k++)
            if (strcmp(type, ns_names[k].name) == 0)
                break;
        if (k == ARRAY_SIZE(ns_names))
            return err_val(err, EINVAL, "%s.type: unknown namespace type `%s`", w, type);
        if (spec_ns_find(s, ns_names[k].type) != NULL)
            return err_val(err, EINVAL, "%s.type: namespace `%s` is given twice", w, type);
        if (path != NULL && path[0] == '\0')
            path = NULL;
        if (path != NULL && path[0] != '/')
            return err_val(err, EINVAL, "%s.path: `%s` is not an absolute path", w, path);
        s->ns[s->nns].type = ns_names[k].type;
        s->ns[s->nns].path = path;
        s->nns++;
    }
    return 0;
}

static int parse_idmaps(json_t *arr, const char *where, struct spec_idmap **out, size_t *n,
                        struct err **err)
{
    static const char *const keys[] = {"containerID", "hostID", "size", NULL};
    size_t i;
    json_t *m;

    if (arr == NULL)
        return 0;
    *out = calloc(json_array_size(arr) + 1, sizeof(**out));
    if (*out == NULL)
        return err_set(err, ENOMEM, "%s", where);
    json_array_foreach (arr, i, m) {
        char w[64];
        struct spec_idmap *e = &(*out)[i];
        snprintf(w, sizeof(w), "%s[%zu]", where, i);
        if (!json_is_object(m))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(m));
        if (js_check_keys(m, w, keys, err) < 0 ||
            js_get_u32(m, w, "containerID", true, &e->container_id, err) < 0 ||
            js_get_u32(m, w, "hostID", true, &e->host_id, err) < 0 ||
            js_get_u32(m, w, "size", true, &e->size, err) < 0)
            return -1;
        if (e->size == 0)
            return err_val(err, EINVAL, "%s.size: must be at least 1", w);
        (*n)++;
    }
    return 0;
}

static int parse_devices(json_t *arr, struct spec *s, struct err **err)
{
    static const char *const keys[] = {"path",     "type", "major", "minor",
                                       "fileMode", "uid",  "gid",   NULL};
    size_t i;
    json_t *d;

    s->devices = calloc(json_array_size(arr) + 1, sizeof(*s->devices));
    if (s->devices == NULL)
        return err_set(err, ENOMEM, "linux.devices");
    json_array_foreach (arr, i, d) {
        char w[64];
        const char *type = NULL;
        struct spec_device *dev = &s->devices[i];
        uint32_t mode = 0666;
        snprintf(w, sizeof(w), "linux.devices[%zu]", i);
        if (!json_is_object(d))
            return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(d));
        if (js_check_keys(d, w, keys, err) < 0 ||
            js_get_str(d, w, "path", true, &dev->path, err) < 0 ||
            js_get_str(d, w, "type", true, &type, err) < 0 ||
            js_get_u32(d, w, "fileMode", false, &mode, err) < 0 ||
            js_get_u32(d, w, "uid", false, &dev->uid, err) < 0 ||
            js_get_u32(d, w, "gid", false, &dev->gid, err) < 0)
            return -1;
        if (strcmp(type, "c") == 0 || strcmp(type, "u") == 0)
            dev->type = S_IFCHR;
        else if (strcmp(type, "b") == 0)
            dev->type = S_IFBLK;
        else if (strcmp(type, "p") == 0)
            dev->type = S_IFIFO;
        else
            return err_val(err, EINVAL, "%s.type: unknown device type `%s`", w, type);
        if (dev->type != S_IFIFO && (js_get_u32(d, w, "major", true, &dev->major, err) < 0 ||
                                     js_get_u32(d, w, "minor", true, &dev->minor, err) < 0))
            return -1;
        /* config-linux.md "Devices": any absolute path in the container */
        if (dev->path[0] != '/' || dev->path[1] == '\0')
            return err_val(err, EINVAL, "%s.path: `%s` is not an absolute file path", w, dev->path);
        dev->mode = mode & 07777;
        dev->node_fd = -1;
        s->ndevices++;
    }
    return 0;
}

/* Without a mount namespace the container shares the host's mount table: runc
 * and crun then still make `mounts` (in the host's table, where they stay after
 * the container is gone) and runc refuses masked/readonly paths. isola-oci
 * refuses every field that would mount, and only chroots into root.path. */
static int check_no_mountns(const struct spec *s, json_t *mounts, struct err **err)
{
    static const char why[] = "needs a mount namespace (linux.namespaces has none, and it would "
                              "mount in the host's mount table)";

    if (json_array_size(mounts) > 0)
        return err_val(err, EINVAL, "mounts: %s", why);
    if (s->masked_paths && s->masked_paths[0])
        return err_val(err, EINVAL, "linux.maskedPaths: %s", why);
    if (s->readonly_paths && s->readonly_paths[0])
        return err_val(err, EINVAL, "linux.readonlyPaths: %s", why);
    if (s->root_readonly)
        return err_val(err, EINVAL, "root.readonly: %s", why);
    if (s->rootfs_propagation)
        return err_val(err, EINVAL, "linux.rootfsPropagation: %s", why);
    return 0;
}

/* UTS sysctls against the dedicated fields, as runc and crun: kernel.hostname
 * always conflicts with `hostname` (both refuse it); kernel.domainname conflicts
 * when `domainname` is set (crun refuses; runc 1.1 lets the sysctl win). */
static int check_uts_sysctl(const struct spec *s, const char *key, struct err **err)
{
    if (strcmp(key, "kernel.hostname") == 0)
        return err_val(err, EINVAL,
                       "linux.sysctl.kernel.hostname: conflicts with the OCI field `hostname` "
                       "(set the hostname there)");
    if (s->domainname && s->domainname[0])
        return err_val(err, EINVAL,
                       "linux.sysctl.kernel.domainname: conflicts with the OCI field "
                       "`domainname` (set one of them)");
    return 0;
}

/* runc's validation (libcontainer/configs/validate): a sysctl must belong to a
 * namespace the container owns, or it would change the host. */
static int check_sysctl(struct spec *s, const char *key, struct err **err)
{
    static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                      "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                      "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
        if (strcmp(key, ipc[i]) == 0)
            goto ipcns;
    if (strncmp(key, "fs.mqueue.", 10) == 0)
        goto ipcns;
    if (strncmp(key, "net.", 4) == 0) {
        const struct spec_ns *n = spec_ns_find(s, CLONE_NEWNET);
        if (n == NULL)
            return err_val(err, EINVAL,
                           "linux.sysctl.%s: needs a network namespace (it would change the host)",
                           key);
        return 0;
    }
    if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0) {
        if (spec_ns_find(s, CLONE_NEWUTS) == NULL)
            return err_val(err, EINVAL,
                           "linux.sysctl.%s: needs a uts namespace (it would change the host)",
                           key);
        return check_uts_sysctl(s, key, err);
    }
    return err_val(err, EINVAL, "linux.sysctl.%s: not namespaced; it would change the host", key);
ipcns:
    if (spec_ns_find(s, CLONE_NEWIPC) == NULL)
        return err_val(err, EINVAL,
                       "linux.sysctl.%s: needs an ipc namespace (it would change the host)", key);
    return 0;
}

static int parse_time_offset(json_t *o, const char *w, int64_t *secs, int64_t *nsecs,
                             struct err **err)
{
    static const char *const keys[] = {"secs", "nanosecs", NULL};
    if (o == NULL)
        return 0;
    return js_check_keys(o, w, keys, err) < 0 || js_get_i64(o, w, "secs", false, secs, err) < 0 ||
                   js_get_range(o, w, "nanosecs", false, 0, 999999999, nsecs, err) < 0
               ? -1
               : 0;
}

static int parse_linux(json_t *l, struct spec *s, struct err **err)
{
    static const char *const keys[] = {
        "namespaces",   "uidMappings",   "gidMappings", "timeOffsets", "devices",
        "cgroupsPath",  "resources",     "sysctl",      "seccomp",     "rootfsPropagation",
        "maskedPaths",  "readonlyPaths", "mountLabel",  "personality", "intelRdt",
        "memoryPolicy", "netDevices",    "rdmaMaps",    NULL};
    json_t *ns = NULL, *um = NULL, *gm = NULL, *to = NULL, *dev = NULL, *sys = NULL, *pers = NULL,
           *x = NULL;
    const char *prop = NULL, *label = NULL;

    if (js_check_keys(l, "linux", keys, err) < 0 ||
        js_get_arr(l, "linux", "namespaces", false, &ns, err) < 0 ||
        js_get_arr(l, "linux", "uidMappings", false, &um, err) < 0 ||
        js_get_arr(l, "linux", "gidMappings", false, &gm, err) < 0 ||
        js_get_obj(l, "linux", "timeOffsets", false, &to, err) < 0 ||
        js_get_arr(l, "linux", "devices", false, &dev, err) < 0 ||
        js_get_str(l, "linux", "cgroupsPath", false, &s->cgroups_path, err) < 0 ||
        js_get_obj(l, "linux", "resources", false, &s->resources, err) < 0 ||
        js_get_obj(l, "linux", "sysctl", false, &sys, err) < 0 ||
        js_get_obj(l, "linux", "seccomp", false, &s->seccomp, err) < 0 ||
        js_get_str(l, "linux", "rootfsPropagation", false, &prop, err) < 0 ||
        js_get_strv(l, "linux", "maskedPaths", false, &s->masked_paths, err) < 0 ||
        js_get_strv(l, "linux", "readonlyPaths", false, &s->readonly_paths, err) < 0 ||
        js_get_str(l, "linux", "mountLabel", false, &label, err) < 0 ||
        js_get_obj(l, "linux", "personality", false, &pers, err) < 0)
        return -1;
    if ((x = json_object_get(l, "memoryPolicy")) != NULL && !json_is_null(x) &&
        mempolicy_parse(x, &s->mempolicy, err) < 0)
        return -1;
    static const char *const unsupported[] = {"intelRdt", "netDevices", "rdmaMaps"};
    for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
        if ((x = json_object_get(l, unsupported[i])) != NULL && !json_is_null(x))
            return err_val(err, ENOTSUP, "linux.%s: not supported by isola-oci", unsupported[i]);
    if (label != NULL && label[0] != '\0')
        return err_val(err, ENOTSUP, "linux.mountLabel: SELinux is not supported by isola-oci");
    if (ns != NULL && parse_namespaces(ns, s, err) < 0)
        return -1;
    if (parse_idmaps(um, "linux.uidMappings", &s->uidmap, &s->nuidmap, err) < 0 ||
        parse_idmaps(gm, "linux.gidMappings", &s->gidmap, &s->ngidmap, err) < 0)
        return -1;
    const struct spec_ns *user = spec_ns_find(s, CLONE_NEWUSER);
    if ((s->nuidmap || s->ngidmap) && (user == NULL || user->path != NULL))
        return err_val(err, EINVAL,
                       "linux.uidMappings: mappings need a new user namespace in linux.namespaces");
    if (user != NULL && user->path == NULL && (s->nuidmap == 0 || s->ngidmap == 0))
        return err_val(err, EINVAL,
                       "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
    if (to != NULL) {
        static const char *const tokeys[] = {"monotonic", "boottime", NULL};
        json_t *mono = NULL, *boot = NULL;
        const struct spec_ns *t = spec_ns_find(s, CLONE_NEWTIME);
        if (t == NULL || t->path != NULL)
            return err_val(err, EINVAL, "linux.timeOffsets: needs a new time namespace");
        if (js_check_keys(to, "linux.timeOffsets", tokeys, err) < 0 ||
            js_get_obj(to, "linux.timeOffsets", "monotonic", false, &mono, err) < 0 ||
            js_get_obj(to, "linux.timeOffsets", "boottime", false, &boot, err) < 0 ||
            parse_time_offset(mono, "linux.timeOffsets.monotonic", &s->mono_secs, &s->mono_nsecs,
                              err) < 0 ||
            parse_time_offset(boot, "linux.timeOffsets.boottime", &s->boot_secs, &s->boot_nsecs,
                              err) < 0)
            return -1;
        s->has_time_offsets = true;
    }
    if (dev != NULL && parse_devices(dev, s, err) < 0)
        return -1;
    if (s->resources != NULL && cgroup_validate(s->resources, err) < 0)
        return -1;
    if (sys != NULL) {
        const char *k;
        json_t *v;
        s->sysctl = calloc(json_object_size(sys) + 1, sizeof(*s->sysctl));
        if (s->sysctl == NULL)
            return err_set(err, ENOMEM, "linux.sysctl");
        json_object_foreach (sys, k, v) {
            if (!json_is_string(v))
                return err_val(err, EINVAL, "linux.sysctl.%s: expected a string, got %s", k,
                               js_type_name(v));
            if (strchr(k, '/') != NULL || strstr(k, "..") != NULL)
                return err_val(err, EINVAL, "linux.sysctl.%s: invalid name", k);
            if (check_sysctl(s, k, err) < 0)
                return -1;
            s->sysctl[s->nsysctl].key = k;
            s->sysctl[s->nsysctl].value = json_string_value(v);
            s->nsysctl++;
        }
    }
    if (prop != NULL && prop[0] != '\0') {
        size_t k;
        for (k = 0; k < ARRAY_SIZE(mount_props); k++)
            if (strcmp(prop, mount_props[k].name) == 0)
                break;
        if (k == ARRAY_SIZE(mount_props))
            return err_val(err, EINVAL, "linux.rootfsPropagation: unknown propagation `%s`", prop);
        s->rootfs_propagation = mount_props[k].flag;
    }
    if (pers != NULL) {
        static const char *const pkeys[] = {"domain", "flags", NULL};
        const char *domain = NULL;
        json_t *flags = NULL;
        if (js_check_keys(pers, "linux.personality", pkeys, err) < 0 ||
            js_get_str(pers, "linux.personality", "domain", true, &domain, err) < 0 ||
            js_get_arr(pers, "linux.personality", "flags", false, &flags, err) < 0)
            return -1;
        if (strcmp(domain, "LINUX") == 0)
            s->personality = PER_LINUX;
        else if (strcmp(domain, "LINUX32") == 0)
            s->personality = PER_LINUX32;
        else
            return err_val(err, EINVAL, "linux.personality.domain: unknown domain `%s`", domain);
        if (flags != NULL && json_array_size(flags) > 0)
            return err_val(err, ENOTSUP, "linux.personality.flags: not supported");
        s->has_personality = true;
    }
    return 0;
}

/* ---- hooks (config.md "POSIX-platform Hooks") ---- */

static const char *const hook_names[HOOK_KINDS] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

static int parse_hooks(json_t *h, struct spec *s, struct err **err)
{
    static const char *const keys[] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
        NULL};
    static const char *const hkeys[] = {"path", "args", "env", "timeout", NULL};

    if (js_check_keys(h, "hooks", keys, err) < 0)
        return -1;
    for (int k = 0; k < HOOK_KINDS; k++) {
        json_t *arr = NULL, *e;
        size_t i;
        char w[64];
        snprintf(w, sizeof(w), "hooks");
        if (js_get_arr(h, w, hook_names[k], false, &arr, err) < 0)
            return -1;
        if (arr == NULL)
            continue;
        s->hooks[k].v = calloc(json_array_size(arr) + 1, sizeof(struct spec_hook));
        if (s->hooks[k].v == NULL)
            return err_set(err, ENOMEM, "hooks");
        json_array_foreach (arr, i, e) {
            struct spec_hook *hk = &s->hooks[k].v[i];
            int64_t t = 0;
            snprintf(w, sizeof(w), "hooks.%s[%zu]", hook_names[k], i);
            s->hooks[k].n++;
            if (!json_is_object(e))
                return err_val(err, EINVAL, "%s: expected an object, got %s", w, js_type_name(e));
            if (js_check_keys(e, w, hkeys, err) < 0 ||
                js_get_str(e, w, "path", true, &hk->path, err) < 0 ||
                js_get_strv(e, w, "args", false, &hk->args, err) < 0 ||
                js_get_strv(e, w, "env", false, &hk->env, err) < 0 ||
                js_get_range(e, w, "timeout", false, 1, 86400, &t, err) < 0)
                return -1;
            if (hk->path[0] != '/')
                return err_val(err, EINVAL, "%s.path: `%s` is not an absolute path", w, hk->path);
            hk->timeout = (int)t;
        }
    }
    return 0;
}

static int parse_root(json_t *j, struct spec *s, struct err **err)
{
    static const char *const keys[] = {"path", "readonly", NULL};
    json_t *root = NULL;
    const char *path = NULL;
    struct stat st;

    if (js_get_obj(j, "", "root", true, &root, err) < 0 ||
        js_check_keys(root, "root", keys, err) < 0 ||
        js_get_str(root, "root", "path", true, &path, err) < 0 ||
        js_get_bool(root, "root", "readonly", false, &s->root_readonly, err) < 0)
        return -1;
    if (path[0] == '/')
        s->rootfs = strdup(path);
    else if (asprintf(&s->rootfs, "%s/%s", s->bundle, path) < 0)
        s->rootfs = NULL;
    if (s->rootfs == NULL)
        return err_set(err, ENOMEM, "root.path");
    if (stat(s->rootfs, &st) < 0)
        return err_sys(err, "root.path: `%s`", s->rootfs);
    if (!S_ISDIR(st.st_mode))
        return err_val(err, ENOTDIR, "root.path: `%s` is not a directory", s->rootfs);
    return 0;
}

int spec_parse(json_t *json, const char *bundle, struct spec **out, struct err **err)
{
    static const char *const keys[] = {
        "ociVersion",  "process", "root",    "hostname", "domainname", "mounts", "hooks",
        "annotations", "linux",   "solaris", "windows",  "vm",         "zos",    NULL};
    struct spec *s = calloc(1, sizeof(*s));
    json_t *proc = NULL, *mounts = NULL, *hooks = NULL, *lnx = NULL;
    char buf[PATH_MAX];

    if (s == NULL)
        return err_set(err, ENOMEM, "config");
    s->json = json_incref(json);
    if (realpath(bundle, buf) == NULL) {
        err_sys(err, "bundle `%s`", bundle);
        goto fail;
    }
    if ((s->bundle = strdup(buf)) == NULL) {
        err_set(err, ENOMEM, "bundle");
        goto fail;
    }
    if (!json_is_object(json)) {
        err_val(err, EINVAL, "config: expected an object, got %s", js_type_name(json));
        goto fail;
    }
    if (js_check_keys(json, "", keys, err) < 0 ||
        js_get_str(json, "", "ociVersion", true, &s->oci_version, err) < 0 ||
        js_get_obj(json, "", "process", false, &proc, err) < 0 ||
        js_get_str(json, "", "hostname", false, &s->hostname, err) < 0 ||
        js_get_str(json, "", "domainname", false, &s->domainname, err) < 0 ||
        js_get_arr(json, "", "mounts", false, &mounts, err) < 0 ||
        js_get_obj(json, "", "hooks", false, &hooks, err) < 0 ||
        js_get_obj(json, "", "annotations", false, &s->annotations, err) < 0 ||
        js_get_obj(json, "", "linux", false, &lnx, err) < 0)
        goto fail;
    static const char *const other[] = {"solaris", "windows", "vm", "zos"};
    for (size_t i = 0; i < ARRAY_SIZE(other); i++)
        if (json_object_get(json, other[i]) != NULL) {
            err_val(err, ENOTSUP, "%s: not supported by isola-oci (Linux only)", other[i]);
            goto fail;
        }
    if (strncmp(s->oci_version, "1.", 2) != 0) {
        err_val(err, EINVAL, "ociVersion: unsupported version `%s` (expected 1.x)", s->oci_version);
        goto fail;
    }
    if (proc == NULL) {
        err_val(err, EINVAL, "process: required field is missing");
        goto fail;
    }
    if (spec_process_parse(proc, "process", &s->process, err) < 0)
        goto fail;
    if (parse_root(json, s, err) < 0)
        goto fail;
    if (s->annotations != NULL) {
        const char *k;
        json_t *v;
        json_object_foreach (s->annotations, k, v)
            if (!json_is_string(v)) {
                err_val(err, EINVAL, "annotations.%s: expected a string, got %s", k,
                        js_type_name(v));
                goto fail;
            }
    }
    if (lnx == NULL) {
        err_val(err, EINVAL, "linux: required field is missing");
        goto fail;
    }
    if (parse_linux(lnx, s, err) < 0)
        goto fail;
    if ((s->hostname && s->hostname[0]) || (s->domainname && s->domainname[0])) {
        const struct spec_ns *u = spec_ns_find(s, CLONE_NEWUTS);
        if (u == NULL) {
            err_val(err, EINVAL, "%s: setting it needs a new uts namespace",
                    s->hostname && s->hostname[0] ? "hostname" : "domainname");
            goto fail;
        }
    }
    if (spec_ns_find(s, CLONE_NEWNS) == NULL && check_no_mountns(s, mounts, err) < 0)
        goto fail;
    if (mounts != NULL) {
        size_t i;
        json_t *m;
        s->mounts = calloc(json_array_size(mounts) + 1, sizeof(*s->mounts));
        if (s->mounts == NULL) {
            err_set(err, ENOMEM, "mounts");
            goto fail;
        }
        json_array_foreach (mounts, i, m) {
            char w[32];
            snprintf(w, sizeof(w), "mounts[%zu]", i);
            s->nmounts++;
            if (parse_mount(m, w, s->bundle, &s->mounts[i], err) < 0)
                goto fail;
        }
    }
    if (hooks != NULL && parse_hooks(hooks, s, err) < 0)
        goto fail;
    if (annotations_apply(s, err) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    spec_free(s);
    return -1;
}

int spec_load(const char *bundle, const char *config, struct spec **out, struct err **err)
{
    _cleanup_json_ json_t *j = NULL;
    _cleanup_free_ char *path = NULL;

    if (config == NULL)
        config = "config.json";
    if (config[0] == '/')
        path = strdup(config);
    else if (asprintf(&path, "%s/%s", bundle, config) < 0)
        path = NULL;
    if (path == NULL)
        return err_set(err, ENOMEM, "config path");
    if (js_load_file(path, &j, err) < 0)
        return -1;
    if (spec_parse(j, bundle, out, err) < 0)
        return err_wrap(err, "%s", path);
    return 0;
}

void spec_free(struct spec *s)
{
    if (s == NULL)
        return;
    spec_process_release(&s->process);
    for (size_t i = 0; i < s->nmounts; i++) {
        free(s->mounts[i].source);
        free(s->mounts[i].data);
        free(s->mounts[i].uidmap);
        free(s->mounts[i].gidmap);
    }
    free(s->mounts);
    free(s->uidmap);
    free(s->gidmap);
    free(s->devices);
    free(s->sysctl);
    strv_free(s->masked_paths);
    strv_free(s->readonly_paths);
    for (int k = 0; k < HOOK_KINDS; k++) {
        for (size_t i = 0; i < s->hooks[k].n; i++) {
            strv_free(s->hooks[k].v[i].args);
            strv_free(s->hooks[k].v[i].env);
        }
        free(s->hooks[k].v);
    }
    free(s->bundle);
    free(s->rootfs);
    if (s->json)
        json_decref(s->json);
    free(s);
}

json_t *spec_default(bool rootless)
{
    static const char def[] =
        "{\"ociVersion\":\"1.2.0\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
        "\"args\":[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/"
        "sbin:/bin\",\"TERM=xterm\"],\"cwd\":\"/\",\"capabilities\":{"
        "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
        "\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
        "\"hostname\":\"isola\",\"mounts\":["
        "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
        "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":["
        "\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":["
        "\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
        "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":["
        "\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":["
        "\"nosuid\",\"noexec\",\"nodev\"]},"
        "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":["
        "\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
        "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
        "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
        "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
        "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
        "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
        "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
        "\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
        "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
        "\"/proc/sysrq-trigger\"]}}";
    json_t *j = json_loads(def, 0, NULL);

    if (j != NULL && rootless) {
        json_t *l = json_object_get(j, "linux");
        json_array_append_new(json_object_get(l, "namespaces"), json_pack("{s:s}", "type", "user"));
        json_object_set_new(l, "uidMappings",
                            json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
                                      (json_int_t)getuid(), "size", 1));
        json_object_set_new(l, "gidMappings",
                            json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
                                      (json_int_t)getgid(), "size", 1));
    }
    return j;
}
