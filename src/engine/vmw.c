/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Managed VMs (vmw.h, docs/vm.md "Managed VMs"). */
#include "engine/vmw.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/compose.h"
#include "engine/restart.h"
#include "engine/vm_image.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

char *vmw_control_path(const struct ctr_env *env, const char *id)
{
    _cleanup_free_ char *dir = ctr_run_dir(env, id);
    char *p = NULL;

    if (!dir || asprintf(&p, "%s/vmm.sock", dir) < 0)
        return NULL;
    return p;
}

/* The kernel command line of an image's VM: its root, its init (args after
 * `--` go to init; one with a space is quoted as the kernel's parser allows),
 * then the user's. */
static char *vmw_image_cmdline(json_t *init, const char *user)
{
    size_t i;
    json_t *a;
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);

    if (!f)
        return NULL;
    fprintf(f, "console=ttyS0 root=/dev/vda rw");
    if (json_array_size(init) > 0)
        fprintf(f, " init=%s", json_string_value(json_array_get(init, 0)) ?: "/sbin/init");
    if (user && *user)
        fprintf(f, " %s", user);
    if (json_array_size(init) > 1) {
        fprintf(f, " --");
        json_array_foreach (init, i, a) {
            const char *v = json_string_value(a) ?: "";
            if (i > 0)
                fprintf(f, strpbrk(v, " \t") ? " \"%s\"" : " %s", v);
        }
    }
    fclose(f);
    return s;
}

/* --image: the root disk in the bundle, first in the VM's disks, and the
 * command line that boots it. */
static int vmw_image_setup(const struct ctr_env *env, const char *id,
                           const struct vmw_create_opts *o, json_t *vm, char **digest,
                           struct err **err)
{
    _cleanup_free_ char *bundle = ctr_bundle_dir(env, id), *disk = NULL, *cmdline = NULL;
    _cleanup_json_ json_t *init = NULL;

    if (!bundle || asprintf(&disk, "%s/root.ext4", bundle) < 0)
        return err_set(err, ENOMEM, "VM image");
    if (fs_mkdir_p(bundle, 0700, err) < 0 ||
        vm_image_disk(o->store, env->state_root, o->image, disk, o->mkfs_exe, digest, &init, err) <
            0)
        return -1;
    if (!(cmdline = vmw_image_cmdline(init, json_string_value(json_object_get(vm, "cmdline")))))
        return err_set(err, ENOMEM, "VM image");
    json_t *disks = json_object_get(vm, "disks");
    if (!disks) {
        disks = json_array();
        json_object_set_new(vm, "disks", disks);
    }
    json_array_insert_new(disks, 0, json_pack("{s:s, s:b}", "path", disk, "readonly", 0));
    json_object_set_new(vm, "cmdline", json_string(cmdline));
    return 0;
}

static int vmw_write_bundle(const struct ctr_env *env, const char *id,
                            const struct vmw_create_opts *o, struct err **err)
{
    _cleanup_free_ char *bundle = ctr_bundle_dir(env, id), *cfgp = NULL, *launchp = NULL,
                        *ctl = vmw_control_path(env, id);
    _cleanup_json_ json_t *launch = NULL;

    if (!bundle || !ctl || asprintf(&cfgp, "%s/vm.json", bundle) < 0 ||
        asprintf(&launchp, "%s/launch.json", bundle) < 0)
        return err_set(err, ENOMEM, "VM bundle");
    if (o->restore)
        launch = json_pack("{s:[s, s, s, s, s, s]}", "argv", o->vmm_exe, "run", "--restore",
                           o->restore, "--control", ctl);
    else
        launch = json_pack("{s:[s, s, s, s, s, s]}", "argv", o->vmm_exe, "run", "--config", cfgp,
                           "--control", ctl);
    if (!launch)
        return err_set(err, ENOMEM, "VM bundle");
    if (fs_mkdir_p(bundle, 0700, err) < 0 || js_write_file(cfgp, o->vm, 0600, err) < 0 ||
        js_write_file(launchp, launch, 0600, err) < 0)
        return -1;
    return 0;
}

int vmw_create(struct db *db, const struct ctr_env *env, const struct vmw_create_opts *o,
               struct db_container **out, struct err **err)
{
    _cleanup_db_container_ struct db_container *row = NULL;
    _cleanup_free_ char *logp = NULL, *rundir = NULL, *cfgtext = NULL, *bundle = NULL;
    _cleanup_json_ json_t *cfg = NULL;
    struct restart_policy rp = {0};
    struct db_container c = {0};
    char timeout[16];
    struct err *e = NULL;

    if (o->restart && restart_policy_parse(o->restart, &rp, err) < 0)
        return -1;
    if (ctr_new_id(c.id, err) < 0)
        return -1;
    rundir = ctr_run_dir(env, c.id);
    bundle = ctr_bundle_dir(env, c.id);
    if (!rundir || !bundle || asprintf(&logp, "%s/ctr.log", rundir) < 0)
        return err_set(err, ENOMEM, "create VM");
    snprintf(timeout, sizeof(timeout), "%d",
             o->stop_timeout >= 0 ? o->stop_timeout : VMW_STOP_TIMEOUT);
    /* The row's config: the VM's, and the annotations ctr_start() reads to
     * start its monitor (container.h): the stop signal and timeout, and an
     * open stdin (the serial console's input). */
    cfg = json_pack("{s:O, s:{s:s, s:s, s:s}}", "vm", o->vm, "annotations", COMPOSE_ANN_STOP_SIGNAL,
                    VMW_STOP_SIGNAL, CTR_ANN_STOP_TIMEOUT, timeout, CTR_ANN_OPEN_STDIN, "true");
    if (!cfg || !(cfgtext = js_dump(cfg)))
        return err_set(err, ENOMEM, "create VM");
    c.name = (char *)o->name;
    c.image_ref = (char *)(o->image_ref ? o->image_ref : "");
    c.image_id = (char *)(o->image_id ? o->image_id : "");
    c.config = cfgtext;
    c.status = DB_STATUS_CREATED;
    c.restart_policy = rp.mode;
    c.restart_max_retries = (int)rp.max_retries;
    c.isolation = DB_ISOLATION_VM;
    c.log_path = logp;
    c.health = DB_HEALTH_NONE;
    if (db_container_insert(db, &c, &row, err) < 0)
        return err_wrap(err, "create VM");
    _cleanup_free_ char *digest = NULL;
    struct vmw_create_opts o2 = *o;
    _cleanup_json_ json_t *vm2 = json_deep_copy(o->vm);
    o2.vm = vm2;
    int r = vm2 ? 0 : err_set(err, ENOMEM, "create VM");
    if (r == 0 && o->image && (r = vmw_image_setup(env, c.id, o, vm2, &digest, err)) == 0) {
        /* the row as booted: the image's disk and command line */
        json_object_set(cfg, "vm", vm2);
        free(cfgtext);
        cfgtext = js_dump(cfg);
        c.config = cfgtext;
        r = cfgtext ? db_container_set_config(db, c.id, cfgtext, err)
                    : err_set(err, ENOMEM, "create VM");
    }
    if (r < 0 || vmw_write_bundle(env, c.id, &o2, err) < 0) {
        if (fs_rm_rf(bundle, &e) < 0)
            err_free(&e);
        if (db_container_delete(db, c.id, &e) < 0)
            err_free(&e);
        return err_wrap(err, "create VM %s", c.id);
    }
    *out = row;
    row = NULL;
    return 0;
}

static int vmw_check(struct db_container *c, const char *ref, struct err **err)
{
    if (c->isolation != DB_ISOLATION_VM)
        return err_val(err, ENOENT, "No such VM: %s (that is a container)", ref);
    return 0;
}

int vmw_get(struct db *db, const struct ctr_env *env, const char *ref, struct db_container **out,
            struct err **err)
{
    struct db_container *c = NULL;

    if (ctr_get(db, env, ref, &c, err) < 0) {
        if (*err && (*err)->code == ENOENT) {
            err_free(err);
            return err_val(err, ENOENT, "No such VM: %s", ref);
        }
        return -1;
    }
    if (vmw_check(c, ref, err) < 0) {
        db_container_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int vmw_list(struct db *db, const struct ctr_env *env, bool all, struct db_container ***out,
             size_t *n, struct err **err)
{
    struct db_container **v = NULL;
    size_t nv = 0, k = 0;

    if (ctr_list(db, env, all, &v, &nv, err) < 0)
        return -1;
    for (size_t i = 0; i < nv; i++) {
        if (v[i]->isolation == DB_ISOLATION_VM)
            v[k++] = v[i];
        else
            db_container_free(v[i]);
    }
    *out = v;
    *n = k;
    return 0;
}

static bool vmw_live(const struct db_container *c)
{
    return c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_PAUSED ||
           c->status == DB_STATUS_RESTARTING;
}

static int vmw_timeout(const struct db_container *c)
{
    _cleanup_json_ json_t *cfg = NULL;
    const char *v;

    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, NULL) == 0 &&
        (v = json_string_value(
             json_object_get(json_object_get(cfg, "annotations"), CTR_ANN_STOP_TIMEOUT))))
        return atoi(v);
    return VMW_STOP_TIMEOUT;
}

/* Resume a paused VM (errors ignored): a shutdown request needs running vCPUs. */
static void vmw_resume_quietly(const struct ctr_env *env, const struct db_container *c);

int vmw_stop(struct db *db, const struct ctr_env *env, const char *ref, int timeout,
             struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *dir = NULL;
    _cleanup_close_ int fd = -1;
    struct err *e = NULL;

    if (vmw_get(db, env, ref, &c, err) < 0)
        return -1;
    if (!vmw_live(c))
        return 0;
    if (timeout < 0)
        timeout = vmw_timeout(c);
    if (!(dir = ctr_run_dir(env, c->id)))
        return err_set(err, ENOMEM, "stop VM %s", c->id);
    vmw_resume_quietly(env, c);
    /* The monitor's stop: the stop signal (the guest's shutdown request),
     * no restart; power off here once the timeout is over. */
    fd = ctr_monitor_connect(dir, "stop", 4);
    if (fd < 0) {
        if (db_container_monitor_alive(c))
            kill(c->monitor_pid, SIGTERM);
    } else if (ctr_await_exit(fd, timeout * 1000, NULL) == 0) {
        if (ctr_kill_monitor(env, c, SIGKILL, &e) < 0)
            err_free(&e);
        ctr_await_exit(fd, 30000, NULL);
    }
    ctr_wait_monitor_gone(c, 30000);
    char id[DB_ID_LEN + 1];
    memcpy(id, c->id, sizeof(id));
    db_container_free(c);
    c = NULL;
    if (db_container_get(db, id, &c, err) < 0)
        return -1;
    return ctr_sync(db, env, c, NULL, err);
}

int vmw_kill(struct db *db, const struct ctr_env *env, const char *ref, int sig, struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;

    if (vmw_get(db, env, ref, &c, err) < 0)
        return -1;
    if (c->status != DB_STATUS_RUNNING && c->status != DB_STATUS_PAUSED)
        return err_val(err, EINVAL, "cannot kill VM %s: it is not running", ref);
    int r = ctr_kill_monitor(env, c, sig, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return err_val(err, ESRCH, "cannot kill VM %s: its monitor does not answer", ref);
    return 0;
}

int vmw_remove(struct db *db, const struct ctr_env *env, const char *ref, bool force,
               struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    struct err *e = NULL;

    if (vmw_get(db, env, ref, &c, err) < 0)
        return -1;
    if (vmw_live(c) && db_container_monitor_alive(c)) {
        if (!force)
            return err_val(err, EBUSY,
                           "cannot remove VM \"%s\": it is running: stop it first (`isola vm "
                           "stop`) or force remove (`-f`)",
                           c->name);
        /* power off at once: SIGKILL of the VMM, no restart */
        if (ctr_kill_monitor(env, c, SIGKILL, &e) < 0)
            err_free(&e);
        ctr_wait_monitor_gone(c, 20000);
        if (db_container_monitor_alive(c)) {
            kill(c->monitor_pid, SIGKILL);
            ctr_wait_monitor_gone(c, 10000);
        }
    }
    return ctr_remove(db, env, c->id, true, false, err);
}

static json_t *vmw_time(int64_t ns)
{
    char b[DB_TIME_LEN];

    return json_string(db_time_format(ns, b));
}

int vmw_inspect(const struct ctr_env *env, const struct db_container *c, json_t **out,
                struct err **err)
{
    _cleanup_json_ json_t *cfg = NULL;
    _cleanup_free_ char *ctl = vmw_control_path(env, c->id);
    char name[512], rp[32];

    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, err) < 0)
        return err_wrap(err, "inspect VM %s", c->id);
    snprintf(name, sizeof(name), "/%s", c->name);
    snprintf(rp, sizeof(rp), "%s", restart_mode_name(c->restart_policy));
    json_t *ann = json_object_get(cfg, "annotations");
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:o, s:{s:s, s:b, s:b, s:b, s:b, s:i, s:i, s:o, s:o}, s:s, s:i, "
        "s:s, s:s, s:O, s:{s:{s:s, s:i}, s:O, s:O}}",
        "Id", c->id, "Name", name, "Kind", "vm", "Created", vmw_time(c->created_ns), "State",
        "Status", db_status_name(c->status), "Running",
        c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_PAUSED, "Paused",
        c->status == DB_STATUS_PAUSED, "Restarting", c->status == DB_STATUS_RESTARTING, "Dead",
        c->status == DB_STATUS_DEAD, "Pid", (int)c->pid, "ExitCode", c->exit_code, "StartedAt",
        vmw_time(c->started_ns), "FinishedAt", vmw_time(c->finished_ns), "Image", c->image_ref,
        "RestartCount", c->restart_count, "LogPath", c->log_path ? c->log_path : "",
        "ControlSocket", ctl ? ctl : "", "Config",
        json_object_get(cfg, "vm") ? json_object_get(cfg, "vm") : json_null(), "HostConfig",
        "RestartPolicy", "Name", rp, "MaximumRetryCount", c->restart_max_retries, "StopSignal",
        json_object_get(ann, COMPOSE_ANN_STOP_SIGNAL) ?: json_null(), "StopTimeout",
        json_object_get(ann, CTR_ANN_STOP_TIMEOUT) ?: json_null());
    if (!doc)
        return err_set(err, ENOMEM, "inspect VM %s", c->id);
    *out = doc;
    return 0;
}

int vmw_vmm_request(const char *path, const char *req, char *reply, size_t len, struct err **err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 30};

    if (strlen(path) >= sizeof(a.sun_path))
        return err_val(err, ENAMETOOLONG, "control socket `%s`: path too long", path);
    memcpy(a.sun_path, path, strlen(path));
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys(err, "control socket `%s`: socket", path);
    /* pause waits for every vCPU to leave KVM_RUN, at most 10 s (machine.h) */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return err_sys(err, "control socket `%s`: connect", path);
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
        return err_sys(err, "control socket `%s`: send `%s`", path, req);
    ssize_t n;
    while ((n = recv(fd, reply, len - 1, 0)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return err_sys(err, "control socket `%s`: no reply to `%s`", path, req);
    reply[n] = '\0';
    if (strncmp(reply, "ok", 2) == 0)
        return 0;
    if (strncmp(reply, "error ", 6) == 0)
        return err_val(err, EPROTO, "%s", reply + 6);
    return err_val(err, EPROTO, "control socket `%s`: unexpected reply `%.64s`", path, reply);
}

int vmw_pause(struct db *db, const struct ctr_env *env, const char *ref, bool pause,
              struct err **err)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_free_ char *ctl = NULL;
    char reply[256];

    if (vmw_get(db, env, ref, &c, err) < 0)
        return -1;
    if (pause && c->status == DB_STATUS_PAUSED)
        return err_val(err, EALREADY, "VM %s is already paused", ref);
    if (!pause && c->status != DB_STATUS_PAUSED)
        return err_val(err, EINVAL, "VM %s is not paused", ref);
    if (pause && c->status != DB_STATUS_RUNNING)
        return err_val(err, EINVAL, "VM %s is not running (%s): only a running VM can be paused",
                       ref, db_status_name(c->status));
    if (!(ctl = vmw_control_path(env, c->id)))
        return err_set(err, ENOMEM, "pause VM %s", ref);
    if (vmw_vmm_request(ctl, pause ? "pause" : "resume", reply, sizeof(reply), err) < 0)
        return err_wrap(err, "%s VM %s", pause ? "pause" : "resume", ref);
    c->status = pause ? DB_STATUS_PAUSED : DB_STATUS_RUNNING;
    return db_container_update(db, c, DB_SET_STATUS, err);
}

static void vmw_resume_quietly(const struct ctr_env *env, const struct db_container *c)
{
    _cleanup_free_ char *ctl = NULL;
    struct err *e = NULL;
    char reply[256];

    if (c->status != DB_STATUS_PAUSED || !(ctl = vmw_control_path(env, c->id)))
        return;
    if (vmw_vmm_request(ctl, "resume", reply, sizeof(reply), &e) < 0)
        err_free(&e);
}
