/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "image/bundle.h"
#include "image/layer.h"
#include "runtime/spec_defaults.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The defaults of `runc spec`, with Docker's default capability set (set below). */
static const char spec_template[] =
    "{\"ociVersion\":\"1.0.2\","
    "\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[],\"env\":[],"
    "\"cwd\":\"/\",\"capabilities\":{"
    "\"bounding\":@CAPS@,\"effective\":@CAPS@,\"permitted\":@CAPS@},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
    "\"noNewPrivileges\":true},"
    "\"root\":{\"path\":\"rootfs\",\"readonly\":false},"
    "\"hostname\":\"isola\","
    "\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}],"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
    "{\"type\":\"uts\"},{\"type\":\"mount\"}],"
    "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
    "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
    "\"/sys/firmware\",\"/proc/scsi\"],"
    "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
    "\"/proc/sysrq-trigger\"]}}";

/* Filled from spec_defaults_caps (the one owner of Docker's default set). */
static const char caps[] = "[]";

static char *expand_template(void)
{
    size_t n = sizeof(spec_template) + 3 * sizeof(caps);
    char *out = malloc(n), *o = out;
    const char *p = spec_template;

    if (out == NULL)
        return NULL;
    while (*p) {
        if (strncmp(p, "@CAPS@", 6) == 0) {
            o = stpcpy(o, caps);
            p += 6;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* Look a name up in an /etc/passwd-format file inside the root: field 2 (and 3). */
static int lookup(int rootfd, const char *file, const char *name, long *id, long *gid)
{
    _cleanup_close_ int fd = fs_open_in_root(rootfd, file, O_RDONLY, 0, NULL);
    _cleanup_free_ char *buf = NULL;
    char *line, *save = NULL;
    size_t len;

    if (fd < 0 || fs_read_fd(fd, file, &buf, &len, NULL) < 0)
        return -1;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {0};
        char *s2 = NULL, *tok = strtok_r(line, ":", &s2);
        int i = 0;
        for (; tok && i < 4; tok = strtok_r(NULL, ":", &s2))
            f[i++] = tok;
        if (i >= 3 && strcmp(f[0], name) == 0) {
            *id = strtol(f[2], NULL, 10);
            if (gid && i >= 4)
                *gid = strtol(f[3], NULL, 10);
            return 0;
        }
    }
    return -1;
}

static bool numeric(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

/* config.md "User": user, uid, user:group, uid:gid, uid:group, user:gid. */
static int resolve_user(const char *spec, int rootfd, json_t *user, struct err **err)
{
    _cleanup_free_ char *u = strdup(spec);
    char *g;
    long uid = 0, gid = 0;

    if (u == NULL)
        return err_set(err, ENOMEM, "user");
    g = strchr(u, ':');
    if (g)
        *g++ = '\0';
    if (numeric(u)) {
        uid = strtol(u, NULL, 10);
    } else if (*u && lookup(rootfd, "/etc/passwd", u, &uid, &gid) < 0) {
        return err_val(err, ENOENT, "user `%s` is not in the image's /etc/passwd", u);
    }
    if (g && numeric(g))
        gid = strtol(g, NULL, 10);
    else if (g && *g && lookup(rootfd, "/etc/group", g, &gid, NULL) < 0)
        return err_val(err, ENOENT, "group `%s` is not in the image's /etc/group", g);
    json_object_set_new(user, "uid", json_integer(uid));
    json_object_set_new(user, "gid", json_integer(gid));
    return 0;
}

static void append_strv(json_t *arr, json_t *src)
{
    json_t *v;
    size_t i;

    json_array_foreach (src, i, v)
        if (json_is_string(v))
            json_array_append(arr, v);
}

int bundle_spec(json_t *image_config, const char *name, const char *rootfs,
                const struct bundle_opts *o, json_t **out, struct err **err)
{
    _cleanup_free_ char *text = expand_template();
    _cleanup_json_ json_t *spec = NULL;
    _cleanup_close_ int rootfd = -1;
    json_t *cfg = json_object_get(image_config, "config");
    json_t *process, *args, *env, *ann;
    const char *user = o->user, *cwd = o->workdir, *stop = NULL;
    bool has_path = false;
    json_t *v;
    size_t i;

    if (text == NULL)
        return err_set(err, ENOMEM, "config.json");
    if (js_load_buf(text, strlen(text), "spec template", &spec, err) < 0)
        return -1;
    if (cfg != NULL && !json_is_object(cfg))
        return err_val(err, EINVAL, "image config: `config` is %s, not an object",
                       js_type_name(cfg));
    process = json_object_get(spec, "process");
    {
        _cleanup_json_ json_t *dc = spec_defaults_caps_json();
        json_t *co = json_object_get(process, "capabilities");
        if (dc == NULL || json_object_set(co, "bounding", dc) < 0 ||
            json_object_set(co, "effective", dc) < 0 || json_object_set(co, "permitted", dc) < 0)
            return err_set(err, ENOMEM, "config.json");
    }
    args = json_object_get(process, "args");
    env = json_object_get(process, "env");
    /* conversion.md: Entrypoint then Cmd; a command given by the user replaces Cmd. */
    if (o->entrypoint) {
        if (*o->entrypoint)
            json_array_append_new(args, json_string(o->entrypoint));
    } else {
        append_strv(args, json_object_get(cfg, "Entrypoint"));
    }
    if (o->args && o->args[0]) {
        for (char *const *a = o->args; *a; a++)
            json_array_append_new(args, json_string(*a));
    } else {
        append_strv(args, json_object_get(cfg, "Cmd"));
    }
    if (json_array_size(args) == 0)
        return err_val(err, EINVAL, "image %s has no Entrypoint or Cmd; give a command", name);
    append_strv(env, json_object_get(cfg, "Env"));
    for (char *const *e = o->env; e && *e; e++)
        json_array_append_new(env, json_string(*e));
    json_array_foreach (env, i, v)
        if (strncmp(json_string_value(v), "PATH=", 5) == 0)
            has_path = true;
    if (!has_path)
        json_array_insert_new(env, 0, json_string(DEFAULT_PATH));
    if (o->terminal)
        json_object_set_new(process, "terminal", json_true());
    if (cwd == NULL)
        js_get_str(cfg, "config", "WorkingDir", false, &cwd, NULL);
    if (cwd && *cwd)
        json_object_set_new(process, "cwd", json_string(cwd));
    if (user == NULL)
        js_get_str(cfg, "config", "User", false, &user, NULL);
    rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, "open `%s`", rootfs);
    if (user && *user && resolve_user(user, rootfd, json_object_get(process, "user"), err) < 0)
        return -1;
    if (o->hostname)
        json_object_set_new(spec, "hostname", json_string(o->hostname));
    /* conversion.md: Labels become annotations; ExposedPorts and StopSignal
     * have annotation keys of their own. */
    ann = json_object();
    json_object_set_new(spec, "annotations", ann);
    {
        const char *k;
        json_object_foreach (json_object_get(cfg, "Labels"), k, v)
            if (json_is_string(v))
                json_object_set(ann, k, v);
    }
    if (json_object_size(json_object_get(cfg, "ExposedPorts")) > 0) {
        _cleanup_free_ char *ports = NULL;
        const char *k;
        size_t len = 0;
        json_object_foreach (json_object_get(cfg, "ExposedPorts"), k, v) {
            char *np = realloc(ports, len + strlen(k) + 2);
            if (np == NULL)
                return err_set(err, ENOMEM, "config.json");
            ports = np;
            len += (size_t)sprintf(ports + len, "%s%s", len ? "," : "", k);
        }
        json_object_set_new(ann, "org.opencontainers.image.exposedPorts", json_string(ports));
    }
    if (js_get_str(cfg, "config", "StopSignal", false, &stop, NULL) > 0)
        json_object_set_new(ann, "org.opencontainers.image.stopSignal", json_string(stop));
    if (name && strncmp(name, "sha256:", 7) != 0)
        json_object_set_new(ann, "org.opencontainers.image.ref.name", json_string(name));
    /* Volumes: the directories exist in the root (Docker creates them too). */
    {
        const char *k;
        json_object_foreach (json_object_get(cfg, "Volumes"), k, v) {
            int fd = fs_mkdir_in_root(rootfd, k, 0755, err);
            if (fd < 0)
                return err_wrap(err, "volume `%s`", k);
            close(fd);
        }
    }
    *out = steal_ptr(&spec);
    return 0;
}

int bundle_create(struct store *s, const char *image, const char *dir, const struct bundle_opts *o,
                  struct err **err)
{
    _cleanup_image_ struct image *img = NULL;
    _cleanup_json_ json_t *spec = NULL;
    _cleanup_free_ char *rootfs = NULL, *cfgpath = NULL;
    bool mounted = false;

    if (asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&cfgpath, "%s/config.json", dir) < 0)
        return err_set(err, ENOMEM, "bundle");
    if (fs_exists(cfgpath))
        return err_val(err, EEXIST, "bundle `%s` exists already", dir);
    if (image_open(s, image, NULL, &img, err) < 0 || fs_mkdir_p(dir, 0711, err) < 0)
        return -1;
    if (layer_rootfs(s, img, dir, o->copy, &mounted, err) < 0)
        goto fail;
    if (bundle_spec(img->config, img->ref ? img->ref : img->m.config.digest, rootfs, o, &spec,
                    err) < 0 ||
        js_write_file(cfgpath, spec, 0644, err) < 0)
        goto fail;
    return 0;
fail:
    if (mounted)
        umount2(rootfs, MNT_DETACH);
    return err_wrap(err, "bundle `%s` from %s", dir, image);
}

int bundle_remove(const char *dir, struct err **err)
{
    _cleanup_free_ char *rootfs = NULL;

    if (asprintf(&rootfs, "%s/rootfs", dir) < 0)
        return err_set(err, ENOMEM, "bundle");
    if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return err_sys(err, "unmount `%s`", rootfs);
    return fs_rm_rf(dir, err);
}
