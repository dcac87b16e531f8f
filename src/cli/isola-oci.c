/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola-oci: an OCI runtime with runc's command line (and crun's
 * --cgroup-manager), so podman, containerd and CRI-O use it unchanged.
 * Global options come before the verb; options are accepted with one or two
 * dashes, as runc's CLI library does.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/oci.h"
#include "oci_version.h"
#include "runtime/selfexec.h"
#include "runtime/oci_state.h"
#include "util/log.h"

static const struct oci_command commands[] = {
    {"create", oci_create, "create a container (its process waits for `start`)"},
    {"start", oci_start, "start the process of a created container"},
    {"run", oci_run, "create and start a container"},
    {"state", oci_state, "print the state of a container (JSON)"},
    {"kill", oci_kill, "send a signal to the container's init (or all with --all)"},
    {"delete", oci_delete, "delete a stopped container (--force: any)"},
    {"list", oci_list, "list containers"},
    {"ps", oci_ps, "list the processes of a container"},
    {"exec", oci_exec, "run a process in a running container"},
    {"pause", oci_pause, "freeze every process of a container"},
    {"resume", oci_resume, "thaw a paused container"},
    {"update", oci_update, "update a container's resource limits"},
    {"spec", oci_spec, "write a default config.json"},
    {"features", oci_features, "print the runtime-spec features document"},
};

int oci_fail(struct err *e)
{
    err_print(e, "isola-oci", stderr);
    if (log_fd() != 2)
        log_err(e);
    err_free(&e);
    return 1;
}

int oci_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "isola-oci %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see `isola-oci %s --help`)\n", verb);
    return 1;
}

const char *oci_id_arg(const char *verb, int argc, char **argv)
{
    if (optind >= argc) {
        oci_usage(verb, "missing the container id");
        return NULL;
    }
    if (optind + 1 != argc) {
        oci_usage(verb, "unexpected argument `%s`", argv[optind + 1]);
        return NULL;
    }
    return argv[optind];
}

static void usage(FILE *fp)
{
    fprintf(fp, "Usage: isola-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARG...]\n\n"
                "Global options:\n"
                "  --root DIR              state directory (default " STATE_DEFAULT_ROOT ")\n"
                "  --log FILE              log file (default stderr)\n"
                "  --log-format text|json  log format\n"
                "  --debug                 debug logging\n"
                "  --cgroup-manager cgroupfs|disabled\n"
                "  --systemd-cgroup        (not supported: use cgroupfs)\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(fp, "  %-10s  %s\n", commands[i].name, commands[i].summary);
}

/* crun's layout (version, commit, rundir, spec, then the build's features),
 * with runc's libseccomp line: tools read `spec:` and `commit:` from either. */
static void print_version(const char *root)
{
    const struct scmp_version *sv = seccomp_version();

    printf("isola-oci version %s\ncommit: %s\nrundir: %s\nspec: 1.2.0\n", ISOLA_VERSION,
           ISOLA_COMMIT, root);
    if (sv)
        printf("libseccomp: %u.%u.%u\n", sv->major, sv->minor, sv->micro);
    printf("+CAP +SECCOMP +EBPF -SYSTEMD -SELINUX -APPARMOR\n");
}

static bool enters_container(const char *verb)
{
    return strcmp(verb, "exec") == 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"log", required_argument, NULL, 'l'},
        {"log-format", required_argument, NULL, 'f'},
        {"debug", no_argument, NULL, 'd'},
        {"systemd-cgroup", no_argument, NULL, 's'},
        {"cgroup-manager", required_argument, NULL, 'c'},
        {"rootless", required_argument, NULL, 'R'},
        {"criu", required_argument, NULL, 'C'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct oci_global g = {.root = STATE_DEFAULT_ROOT, .cgroup_manager = CGROUP_MANAGER_CGROUPFS};
    const char *log_path = NULL, *cgm = NULL;
    enum log_format fmt = LOGF_TEXT;
    bool systemd = false;
    struct err *e = NULL;
    int c;

    log_set_prog("isola-oci");
    /* The cgroup root for tests and nested setups; read here, passed down. */
    const char *cgroot = getenv("ISOLA_CGROUP_ROOT");
    if (cgroot != NULL && cgroot[0] == '/' && cgroup_set_root(cgroot, &e) < 0)
        return oci_fail(e);
    const char *env_root = getenv("ISOLA_OCI_ROOT");
    static char user_root[4096];
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (env_root && env_root[0]) {
        g.root = env_root;
    } else if (geteuid() != 0 && xdg && xdg[0]) {
        /* rootless: runc's default, $XDG_RUNTIME_DIR/<runtime> */
        snprintf(user_root, sizeof(user_root), "%s/isola-oci", xdg);
        g.root = user_root;
    }
    /* '+': stop at the verb; the verb parses its own options */
    while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            g.root = optarg;
            break;
        case 'l':
            log_path = optarg;
            break;
        case 'f':
            if (log_parse_format(optarg, &fmt, &e) < 0)
                return oci_fail(e);
            break;
        case 'd':
            g.debug = true;
            break;
        case 's':
            systemd = true;
            break;
        case 'c':
            cgm = optarg;
            break;
        case 'R':
        case 'C':
            break;
        case 'v':
            print_version(g.root);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (log_setup(log_path, fmt, g.debug ? LOGL_DEBUG : LOGL_WARN, &e) < 0)
        return oci_fail(e);
    if (systemd || (cgm && strcmp(cgm, "systemd") == 0)) {
        err_val(&e, ENOTSUP,
                "the systemd cgroup manager is not supported (PID 1 is not systemd here); use "
                "--cgroup-manager cgroupfs");
        return oci_fail(e);
    }
    if (cgm && cgroup_manager_parse(cgm, &g.cgroup_manager, &e) < 0)
        return oci_fail(e);
    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    const char *verb = argv[optind];
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(verb, commands[i].name) != 0)
            continue;
        /* CVE-2019-5736: only a sealed copy of this binary enters a container's
         * namespaces; create/run decide once they know the pid namespace */
        selfexec_init(argv);
        if (enters_container(verb) && selfexec_ensure_sealed(argv, &e) < 0)
            return oci_fail(e);
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        optind = 1;
        return commands[i].fn(&g, sub_argc, sub_argv);
    }
    fprintf(stderr, "isola-oci: unknown command `%s` (see `isola-oci --help`)\n", verb);
    return 1;
}
