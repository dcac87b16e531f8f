/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RUN steps of isola build, run by the engine: see build_step.h. */
#include "engine/build_step.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "engine/compose.h"
#include "engine/ctr_fg.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/proc.h"

static void step_delete(const char *runtime, const char *state, const char *id)
{
    if (runtime) {
        char *const del[] = {(char *)runtime, "--root", (char *)state, "delete", "-f",
                             (char *)id,      NULL};
        proc_run(del, 30000, NULL, NULL);
    } else {
        container_delete(state, id, true, NULL);
    }
}

/* The step's network: none, the host's (net NULL or host), or a network of
 * the engine's, wired as a foreground run's (a row owns its address). */
static int step_net(const struct build_step_engine *e, const struct build_step *step,
                    struct compose_opts *o, struct ctr_fg *fg, struct err **err)
{
    if (!e->net || (e->net->network && strcmp(e->net->network, "host") == 0))
        return 0;
    o->host_network = false;
    if (!ctr_fg_wants_network(e->net))
        return 0;
    if (ctr_fg_setup(e->db, e->env, step->id, "build", step->dir, step->hostname, e->net, NULL, fg,
                     err) < 0)
        return err_wrap(err, "RUN");
    o->netns_path = fg->cn.netns;
    return 0;
}

static void step_bind(json_t *spec, const char *src, const char *dst)
{
    json_array_append_new(json_object_get(spec, "mounts"),
                          json_pack("{s:s, s:s, s:s, s:[s,s]}", "destination", dst, "type", "bind",
                                    "source", src, "options", "rbind", "ro"));
}

static int step_run(void *data, const struct build_step *step, int *status, struct err **err)
{
    struct build_step_engine *e = data;
    const char *runtime = e->runtime;
    struct ctr_fg fg = {0};
    _cleanup_free_ char *cfgpath = NULL, *state = NULL;
    _cleanup_json_ json_t *spec = NULL;
    struct compose_opts o = {.args = step->args,
                             .entrypoint = "",
                             .env = step->env,
                             .hostname = step->hostname,
                             .rootfs = step->rootfs,
                             /* without a network: the host's (step_net) */
                             .host_network = true};
    int rc;

    if (asprintf(&cfgpath, "%s/config.json", step->dir) < 0 ||
        asprintf(&state, "%s/state", step->dir) < 0)
        return err_set(err, ENOMEM, "RUN");
    if (step_net(e, step, &o, &fg, err) < 0)
        return -1;
    if (compose_spec(step->image_config, "build", step->rootfs, &o, &spec, err) < 0)
        goto out;
    if (fg.cn.resolv) {
        step_bind(spec, fg.cn.resolv, "/etc/resolv.conf");
        step_bind(spec, fg.cn.hosts, "/etc/hosts");
    } else {
        step_bind(spec, "/etc/resolv.conf", "/etc/resolv.conf");
    }
    if (js_write_file(cfgpath, spec, 0644, err) < 0)
        goto out;
    if (runtime == NULL) {
        struct container_opts co = {.root = state,
                                    .id = step->id,
                                    .bundle = step->dir,
                                    .cgroup_manager = CGROUP_MANAGER_CGROUPFS};
        rc = container_run(&co, status, err);
    } else {
        char *const rargv[] = {(char *)runtime,   "--root",         (char *)state, "run", "-b",
                               (char *)step->dir, (char *)step->id, NULL};
        struct proc_opts po = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
        pid_t pid = -1;
        int ws = 0;
        rc = proc_spawn(rargv, &po, &pid, err);
        if (rc == 0 && (rc = proc_wait(pid, -1, &ws, err)) < 0)
            proc_kill_reap(pid);
        if (rc == 0)
            *status = proc_exit_code(ws);
    }
    step_delete(runtime, state, step->id);
    ctr_fg_teardown(e->db, e->env, &fg);
    return rc;
out:
    ctr_fg_teardown(e->db, e->env, &fg);
    return -1;
}

static void step_reap(void *data, const char *dir)
{
    const char *runtime = ((struct build_step_engine *)data)->runtime;
    _cleanup_free_ char *state = NULL;
    _cleanup_json_ json_t *list = NULL;
    json_t *c;
    size_t i;

    if (asprintf(&state, "%s/state", dir) < 0 || !fs_exists(state))
        return;
    /* isola's state format; runc's is read by runc: delete what it lists. */
    if (runtime == NULL) {
        if (container_list(state, &list, NULL) < 0)
            return;
        json_array_foreach (list, i, c) {
            const char *id = json_string_value(json_object_get(c, "id"));
            if (id)
                container_delete(state, id, true, NULL);
        }
        return;
    }
    {
        _cleanup_free_ char *out = NULL;
        char *const ls[] = {(char *)runtime, "--root", state, "list", "-q", NULL};
        char *save = NULL;
        if (proc_run(ls, 30000, &out, NULL) < 0 || out == NULL)
            return;
        for (char *id = strtok_r(out, "\n", &save); id; id = strtok_r(NULL, "\n", &save))
            step_delete(runtime, state, id);
    }
}

void build_step_engine_init(struct build_step_engine *e, const char *runtime)
{
    e->runtime = runtime && *runtime ? runtime : NULL;
    e->ops = (struct build_step_ops){.run = step_run, .reap = step_reap, .data = e};
    e->db = NULL;
    e->env = NULL;
    e->net = NULL;
}

void build_step_engine_network(struct build_step_engine *e, struct db *db,
                               const struct ctr_env *env, const struct ctr_net_opts *net)
{
    e->db = db;
    e->env = env;
    e->net = net;
}
