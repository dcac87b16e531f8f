/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The `docker run` options of `isola run`: see run_flags.h. */
#include "cli/run_flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/size.h"

const char run_flags_help[] =
    "  -e, --env KEY=VAL  set a variable (KEY alone: its value here); over --env-file\n"
    "  --env-file FILE    KEY=VAL lines (# comments), over the image's Env\n"
    "  -w, --workdir DIR  working directory\n"
    "  -u, --user U       user: name (the image's /etc/passwd), uid, name:group, uid:gid\n"
    "  --entrypoint CMD   replace the image's Entrypoint (\"\": none)\n"
    "  --read-only        read-only root filesystem\n"
    "  --tmpfs DIR[:OPTS] a tmpfs (noexec,nosuid,nodev, then OPTS; size= takes -m's units)\n"
    "  --memory-swap MEM  memory + swap limit (-1: unlimited)\n"
    "  --shm-size MEM     size of /dev/shm (default 64m)\n"
    "  --cpus N           CPU quota (1.5: one and a half CPUs)\n"
    "  --cpu-shares N     CPU weight\n"
    "  --cpuset-cpus L    CPUs allowed (0-1,3)\n"
    "  --pids-limit N     at most N tasks (-1: unlimited)\n"
    "  --ulimit NAME=SOFT[:HARD]  a resource limit (nofile, nproc, core, ...)\n"
    "  --cap-add CAP, --cap-drop CAP  capabilities (ALL: every one)\n"
    "  --privileged       all capabilities and devices, no seccomp, no masked paths\n"
    "  --security-opt O   no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json\n"
    "  --device HOST[:CONTAINER[:rwm]]  a host device in the container\n"
    "  --init             run an init (tini, catatonit) as PID 1; --init-path PATH\n"
    "  --stop-signal SIG  signal that stops the container (annotation)\n"
    "  -l, --label K=V    an annotation, over the image's Labels\n";

int run_flags_init(struct run_flags *f, int argc, struct err **err)
{
    size_t n = (size_t)argc + 1;

    memset(f, 0, sizeof(*f));
    f->env = calloc(n, sizeof(char *));
    f->env_file_paths = calloc(n, sizeof(char *));
    f->cap_add = calloc(n, sizeof(char *));
    f->cap_drop = calloc(n, sizeof(char *));
    f->labels = calloc(n, sizeof(char *));
    f->owned = calloc(3 * n, sizeof(char *));
    f->mounts = calloc(n, sizeof(*f->mounts));
    f->ulimits = calloc(n, sizeof(*f->ulimits));
    f->devices = calloc(n, sizeof(*f->devices));
    if (!f->env || !f->env_file_paths || !f->cap_add || !f->cap_drop || !f->labels || !f->owned ||
        !f->mounts || !f->ulimits || !f->devices)
        return err_set(err, ENOMEM, "isola run");
    return 0;
}

static char *own(struct run_flags *f, char *s)
{
    if (s)
        f->owned[f->n_owned++] = s;
    return s;
}

static int take_size(const char *flag, const char *arg, int64_t *out, struct err **err)
{
    if (size_parse(arg, 1, out, err) < 0)
        return err_wrap(err, "%s", flag);
    return 1;
}

static int take_int(const char *flag, const char *arg, int64_t *out, struct err **err)
{
    char *end;

    errno = 0;
    *out = strtoll(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno)
        return err_val(err, EINVAL, "%s `%s`: expected an integer", flag, arg);
    return 1;
}

/* --device HOST[:CONTAINER[:PERMS]] (Docker: a lone second part of r, w, m is PERMS). */
static int take_device(struct run_flags *f, const char *arg, struct err **err)
{
    struct compose_device *d = &f->devices[f->co.n_devices];
    char *s = own(f, strdup(arg)), *c, *p = NULL;

    if (s == NULL)
        return err_set(err, ENOMEM, "--device");
    if ((c = strchr(s, ':')) != NULL) {
        *c++ = '\0';
        if ((p = strchr(c, ':')) != NULL)
            *p++ = '\0';
        else if (*c && strspn(c, "rwm") == strlen(c))
            p = c, c = NULL;
    }
    d->host = s;
    d->container = c && *c ? c : NULL;
    d->permissions = p;
    f->co.n_devices++;
    return 1;
}

/* --tmpfs DIR[:OPTS] */
static int take_tmpfs(struct run_flags *f, const char *arg, struct err **err)
{
    struct compose_mount *m = &f->mounts[f->co.n_mounts];
    char *s = own(f, strdup(arg)), *o;

    if (s == NULL)
        return err_set(err, ENOMEM, "--tmpfs");
    if ((o = strchr(s, ':')) != NULL)
        *o++ = '\0';
    m->type = COMPOSE_MOUNT_TMPFS;
    m->destination = s;
    m->options = o;
    f->co.n_mounts++;
    return 1;
}

static int take_security_opt(struct run_flags *f, const char *arg, struct err **err)
{
    if (strcmp(arg, "no-new-privileges") == 0 || strcmp(arg, "no-new-privileges:true") == 0 ||
        strcmp(arg, "no-new-privileges=true") == 0) {
        f->co.no_new_privileges = true;
        return 1;
    }
    if (strncmp(arg, "seccomp=", 8) == 0 || strncmp(arg, "seccomp:", 8) == 0) {
        f->co.seccomp = arg + 8;
        return 1;
    }
    return err_val(err, EINVAL,
                   "--security-opt `%s`: expected no-new-privileges, seccomp=unconfined or "
                   "seccomp=PROFILE",
                   arg);
}

int run_flags_take(struct run_flags *f, int c, const char *arg, struct err **err)
{
    struct compose_opts *o = &f->co;
    int64_t v;

    switch (c) {
    case 'e':
    case RF_ENV:
        /* `-e NAME`: NAME's value here, or nothing when unset (Docker's rule). */
        if (strchr(arg, '=') == NULL) {
            const char *val = getenv(arg);
            char *kv = NULL;
            if (val == NULL)
                return 1;
            if (asprintf(&kv, "%s=%s", arg, val) < 0)
                return err_set(err, ENOMEM, "-e");
            arg = own(f, kv);
        }
        f->env[f->n_env++] = (char *)arg;
        return 1;
    case RF_ENV_FILE:
        f->env_file_paths[f->n_env_file_paths++] = (char *)arg;
        return 1;
    case 'w':
    case RF_WORKDIR:
        if (arg[0] != '/')
            return err_val(err, EINVAL, "--workdir `%s`: expected an absolute path", arg);
        o->workdir = arg;
        return 1;
    case 'u':
    case RF_USER:
        o->user = arg;
        return 1;
    case RF_ENTRYPOINT:
        o->entrypoint = arg;
        return 1;
    case RF_READ_ONLY:
        o->read_only = true;
        return 1;
    case RF_TMPFS:
        return take_tmpfs(f, arg, err);
    case RF_MEMORY_SWAP:
        if (strcmp(arg, "-1") == 0) {
            o->memory_swap = -1;
            return 1;
        }
        return take_size("--memory-swap", arg, &o->memory_swap, err);
    case RF_SHM_SIZE:
        return take_size("--shm-size", arg, &o->shm_size, err);
    case RF_CPUS: {
        char *end;
        o->cpus = strtod(arg, &end);
        if (*arg == '\0' || *end != '\0' || !(o->cpus > 0))
            return err_val(err, EINVAL, "--cpus `%s`: expected a positive number", arg);
        return 1;
    }
    case RF_CPU_SHARES:
        if (take_int("--cpu-shares", arg, &v, err) < 0)
            return -1;
        if (v < 0)
            return err_val(err, EINVAL, "--cpu-shares `%s`: expected a positive integer", arg);
        o->cpu_shares = (uint64_t)v;
        return 1;
    case RF_CPUSET_CPUS:
        o->cpuset_cpus = arg;
        return 1;
    case RF_PIDS_LIMIT:
        /* Docker: 0 or -1 is unlimited. */
        if (take_int("--pids-limit", arg, &v, err) < 0)
            return -1;
        o->pids_limit = v > 0 ? v : -1;
        return 1;
    case RF_ULIMIT:
        if (compose_parse_ulimit(arg, &f->ulimits[o->n_ulimits], err) < 0)
            return err_wrap(err, "--ulimit");
        o->n_ulimits++;
        return 1;
    case RF_CAP_ADD:
        f->cap_add[f->n_cap_add++] = (char *)arg;
        return 1;
    case RF_CAP_DROP:
        f->cap_drop[f->n_cap_drop++] = (char *)arg;
        return 1;
    case RF_PRIVILEGED:
        o->privileged = true;
        return 1;
    case RF_SECURITY_OPT:
        return take_security_opt(f, arg, err);
    case RF_DEVICE:
        return take_device(f, arg, err);
    case RF_INIT:
        f->init = true;
        return 1;
    case RF_INIT_PATH:
        f->init = true;
        f->init_path = arg;
        return 1;
    case RF_STOP_SIGNAL:
        o->stop_signal = arg;
        return 1;
    case 'l':
    case RF_LABEL:
        f->labels[f->n_labels++] = (char *)arg;
        return 1;
    }
    return 0;
}

int run_flags_finish(struct run_flags *f, struct err **err)
{
    struct compose_opts *o = &f->co;
    size_t n = 0;

    /* The lines of every --env-file, in order. */
    for (size_t i = 0; i < f->n_env_file_paths; i++) {
        _cleanup_strv_ char **lines = NULL;
        size_t k = 0;
        if (compose_read_env_file(f->env_file_paths[i], getenv, &lines, err) < 0)
            return -1;
        while (lines[k])
            k++;
        char **grown = realloc(f->env_file, (n + k + 1) * sizeof(char *));
        if (grown == NULL)
            return err_set(err, ENOMEM, "--env-file");
        f->env_file = grown;
        for (size_t j = 0; j < k; j++) {
            f->env_file[n++] = lines[j];
            lines[j] = NULL;
        }
        f->env_file[n] = NULL;
    }
    if (f->init) {
        static const char *const inits[] = {"/usr/bin/tini-static", "/usr/bin/tini",
                                            "/usr/libexec/podman/catatonit", "/usr/bin/catatonit",
                                            NULL};
        for (const char *const *p = inits; f->init_path == NULL && *p; p++)
            if (access(*p, X_OK) == 0)
                f->init_path = *p;
        if (f->init_path == NULL)
            return err_val(err, ENOENT,
                           "--init: no init binary (install tini or catatonit, or give "
                           "--init-path PATH)");
        if (f->init_path[0] != '/')
            return err_val(err, EINVAL, "--init-path `%s`: expected an absolute path",
                           f->init_path);
        o->init = f->init_path;
    }
    o->env = f->env;
    o->env_file = f->env_file;
    o->cap_add = f->cap_add;
    o->cap_drop = f->cap_drop;
    o->labels = f->labels;
    o->mounts = f->mounts;
    o->ulimits = f->ulimits;
    o->devices = f->devices;
    return 0;
}

void run_flags_release(struct run_flags *f)
{
    for (size_t i = 0; f->owned && i < f->n_owned; i++)
        free(f->owned[i]);
    strv_free(f->env_file);
    free(f->owned);
    free(f->env);
    free(f->env_file_paths);
    free(f->cap_add);
    free(f->cap_drop);
    free(f->labels);
    free(f->mounts);
    free(f->ulimits);
    free(f->devices);
    memset(f, 0, sizeof(*f));
}
