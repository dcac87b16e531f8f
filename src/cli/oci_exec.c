/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci exec [OPTIONS] ID [COMMAND ARG...] (runc's options). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci.h"
#include "runtime/caps.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/js.h"

static char **strv_add(char **v, const char *s)
{
    size_t n = 0;

    while (v && v[n])
        n++;
    char **nv = realloc(v, (n + 2) * sizeof(char *));
    if (nv == NULL)
        return v;
    nv[n] = strdup(s);
    nv[n + 1] = NULL;
    return nv;
}

/* Replace NAME=... in env or append it. */
static char **env_set(char **env, const char *kv)
{
    size_t klen = strcspn(kv, "=");

    for (char **e = env; e && *e; e++)
        if (strncmp(*e, kv, klen) == 0 && (*e)[klen] == '=') {
            free(*e);
            *e = strdup(kv);
            return env;
        }
    return strv_add(env, kv);
}

int oci_exec(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"process", required_argument, NULL, 'p'},
        {"detach", no_argument, NULL, 'd'},
        {"tty", no_argument, NULL, 't'},
        {"console-socket", required_argument, NULL, 'C'},
        {"pid-file", required_argument, NULL, 'P'},
        {"cwd", required_argument, NULL, 'w'},
        {"env", required_argument, NULL, 'e'},
        {"user", required_argument, NULL, 'u'},
        {"additional-gids", required_argument, NULL, 'g'},
        {"cap", required_argument, NULL, 'c'},
        {"no-new-privs", no_argument, NULL, 'N'},
        {"preserve-fds", required_argument, NULL, 'F'},
        {"process-label", required_argument, NULL, 'L'},
        {"apparmor", required_argument, NULL, 'A'},
        {"ignore-paused", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct exec_opts eo = {0};
    struct err *e = NULL;
    struct spec *s = NULL;
    struct spec_process proc = {0};
    const char *process_file = NULL, *cwd = NULL, *user = NULL, *label = NULL;
    bool tty = false, nnp = false;
    _cleanup_strv_ char **envs = NULL, **caps = NULL, **gids = NULL;
    int c, status = 0;
    _cleanup_json_ json_t *j = NULL; /* --process: proc's strings point into it */

    while ((c = getopt_long_only(argc, argv, "+p:dtu:e:g:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            process_file = optarg;
            break;
        case 'd':
            eo.detach = true;
            break;
        case 't':
            tty = true;
            break;
        case 'C':
            eo.console_socket = optarg;
            break;
        case 'P':
            eo.pid_file = optarg;
            break;
        case 'w':
            cwd = optarg;
            break;
        case 'e':
            envs = strv_add(envs, optarg);
            break;
        case 'u':
            user = optarg;
            break;
        case 'g':
            gids = strv_add(gids, optarg);
            break;
        case 'c':
            caps = strv_add(caps, optarg);
            break;
        case 'N':
            nnp = true;
            break;
        case 'F':
            eo.preserve_fds = atoi(optarg);
            break;
        case 'L':
        case 'A':
            label = optarg;
            break;
        case 'I':
            break;
        case 'h':
            return oci_help("exec");
        default:
            return oci_usage("exec", "bad option");
        }
    }
    if (optind >= argc)
        return oci_usage("exec", "missing the container id");
    const char *id = argv[optind++];
    if (label && label[0]) {
        err_val(&e, ENOTSUP, "exec: --process-label/--apparmor are not supported");
        return oci_fail(e);
    }
    if (process_file) {
        if (optind < argc)
            return oci_usage("exec", "--process and a command are exclusive");
        if (js_load_file(process_file, &j, &e) < 0 ||
            spec_process_parse(j, "process", &proc, &e) < 0)
            return oci_fail(e);
    } else {
        if (optind >= argc)
            return oci_usage("exec", "missing the command (or --process FILE)");
        /* the container's process settings, with the command and overrides */
        if (container_load_spec(g->root, id, &s, &e) < 0)
            return oci_fail(e);
        proc = s->process;
        memset(&s->process, 0, sizeof(s->process));
        strv_free(proc.args);
        proc.args = NULL;
        for (int i = optind; i < argc; i++)
            proc.args = strv_add(proc.args, argv[i]);
        proc.terminal = tty;
        proc.console_h = proc.console_w = 0;
        if (cwd)
            proc.cwd = cwd;
        for (char **v = envs; v && *v; v++)
            proc.env = env_set(proc.env, *v);
        if (user) {
            char *colon = strchr(user, ':');
            proc.uid = (uid_t)strtoul(user, NULL, 10);
            if (colon)
                proc.gid = (gid_t)strtoul(colon + 1, NULL, 10);
        }
        if (gids) {
            size_t n = 0;
            while (gids[n])
                n++;
            free(proc.gids);
            proc.gids = calloc(n + 1, sizeof(gid_t));
            proc.ngids = n;
            for (size_t i = 0; i < n && proc.gids; i++)
                proc.gids[i] = (gid_t)strtoul(gids[i], NULL, 10);
        }
        for (char **v = caps; v && *v; v++) {
            int cap;
            if (caps_from_name(*v, &cap) < 0) {
                err_val(&e, EINVAL, "exec --cap: unknown capability `%s`", *v);
                spec_free(s);
                return oci_fail(e);
            }
            uint64_t bit = 1ULL << cap;
            proc.caps.bounding |= bit;
            proc.caps.effective |= bit;
            proc.caps.permitted |= bit;
            /* as runc: ambient only where the process has inheritable caps
             * already (ambient needs them); --cap adds no inheritable one */
            if (proc.caps.inheritable != 0)
                proc.caps.ambient |= bit;
            proc.has_caps = true;
        }
        proc.no_new_privs = proc.no_new_privs || nnp;
    }
    int rc = container_exec(g->root, id, &proc, &eo, &status, &e);
    /* cwd may point into s (borrowed strings): release proc before s */
    spec_process_release(&proc);
    spec_free(s);
    if (rc < 0)
        return oci_fail(e);
    return status;
}
