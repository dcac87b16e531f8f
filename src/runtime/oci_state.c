/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container state directories (see state.h). */
#include "runtime/oci_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container_priv.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

int oci_state_check_id(const char *id, struct err **err)
{
    size_t n = strlen(id);

    if (n == 0)
        return err_val(err, EINVAL, "container id is empty");
    if (n > 1024)
        return err_val(err, EINVAL, "container id `%.32s...` is longer than 1024 bytes", id);
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return err_val(err, EINVAL, "invalid container id `%s`", id);
    if (strcmp(id, CONTAINER_SECCOMP_CACHE) == 0)
        return err_val(err, EINVAL, "invalid container id `%s`: reserved for the seccomp cache",
                       id);
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '+' || *c == '-' || *c == '.'))
            return err_val(err, EINVAL,
                           "invalid container id `%s`: only letters, digits and _+-. are allowed",
                           id);
    return 0;
}

char *oci_state_dir(const char *root, const char *id)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", root, id) < 0)
        return NULL;
    return p;
}

int oci_state_create_dir(const char *root, const char *id, struct err **err)
{
    _cleanup_free_ char *dir = oci_state_dir(root, id);

    if (dir == NULL)
        return err_set(err, ENOMEM, "state dir");
    if (fs_mkdir_p(root, 0700, err) < 0)
        return err_wrap(err, "state root");
    if (mkdir(dir, 0711) < 0) {
        if (errno == EEXIST)
            return err_val(err, EEXIST, "container `%s` already exists", id);
        return err_sys(err, "mkdir `%s`", dir);
    }
    return 0;
}

int oci_state_write_file(const char *path, const char *data, size_t len, mode_t mode,
                         struct err **err)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int fd = -1;

    if (asprintf(&tmp, "%s.tmp-%d", path, getpid()) < 0)
        return err_set(err, ENOMEM, "write `%s`", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return err_sys(err, "create `%s`", tmp);
    if (fs_write_all(fd, data, len, tmp, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return err_set(err, e, "rename `%s` to `%s`", tmp, path);
    }
    return 0;
}

int oci_state_write(const char *root, const struct oci_state *st, struct err **err)
{
    _cleanup_json_ json_t *j = oci_state_to_oci(st, st->creating ? "creating" : "created");
    _cleanup_free_ char *path = NULL;

    if (j == NULL || asprintf(&path, "%s/%s/state.json", root, st->id) < 0)
        return err_set(err, ENOMEM, "state of `%s`", st->id);
    json_t *priv = json_pack("{s:I, s:b, s:i}", "startTime", (json_int_t)st->start_time, "creating",
                             st->creating, "cgroupManager", st->cgroup_manager);
    if (priv == NULL)
        return err_set(err, ENOMEM, "state of `%s`", st->id);
    if (st->cgroup)
        json_object_set(priv, "cgroup", st->cgroup);
    if (st->hooks)
        json_object_set(priv, "hooks", st->hooks);
    if (st->creating && st->creator > 0) {
        json_object_set_new(priv, "creatorPid", json_integer(st->creator));
        json_object_set_new(priv, "creatorStartTime",
                            json_integer((json_int_t)st->creator_start_time));
    }
    json_object_set_new(j, "isola", priv);
    _cleanup_free_ char *text = js_dump(j);
    if (text == NULL)
        return err_set(err, ENOMEM, "state of `%s`", st->id);
    return oci_state_write_file(path, text, strlen(text), 0600, err);
}

static int dup_str(json_t *j, const char *key, char **out)
{
    json_t *v = json_object_get(j, key);

    *out = strdup(json_is_string(v) ? json_string_value(v) : "");
    return *out ? 0 : -1;
}

int oci_state_load(const char *root, const char *id, struct oci_state **out, struct err **err)
{
    _cleanup_free_ char *dir = oci_state_dir(root, id);
    _cleanup_free_ char *path = NULL;
    _cleanup_json_ json_t *j = NULL;
    struct stat sb;
    struct oci_state *st;

    if (oci_state_check_id(id, err) < 0)
        return -1;
    if (dir == NULL || asprintf(&path, "%s/state.json", dir) < 0)
        return err_set(err, ENOMEM, "state of `%s`", id);
    if (stat(dir, &sb) < 0) {
        if (errno == ENOENT)
            return err_val(err, ENOENT, "container `%s` does not exist", id);
        return err_sys(err, "state of container `%s`", id);
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return err_set(err, ENOMEM, "state of `%s`", id);
    st->id = strdup(id);
    if (!fs_exists(path)) {
        /* create was interrupted before it wrote anything */
        st->creating = true;
        st->bundle = strdup("");
        st->rootfs = strdup("");
        st->created = strdup("");
        *out = st;
        return 0;
    }
    if (js_load_file(path, &j, err) < 0) {
        oci_state_free(st);
        return err_wrap(err, "state of container `%s`", id);
    }
    json_t *priv = json_object_get(j, "isola");
    st->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
    json_t *owner = json_object_get(j, "owner"); /* a string since oci_state_to_oci() wrote one */
    st->owner = json_is_string(owner) ? (uid_t)strtoul(json_string_value(owner), NULL, 10)
                                      : (uid_t)json_integer_value(owner);
    if (dup_str(j, "bundle", &st->bundle) < 0 || dup_str(j, "rootfs", &st->rootfs) < 0 ||
        dup_str(j, "created", &st->created) < 0) {
        oci_state_free(st);
        return err_set(err, ENOMEM, "state of `%s`", id);
    }
    json_t *a = json_object_get(j, "annotations");
    if (json_is_object(a))
        st->annotations = json_incref(a);
    st->start_time = (unsigned long long)json_integer_value(json_object_get(priv, "startTime"));
    st->creating = json_is_true(json_object_get(priv, "creating"));
    st->cgroup_manager = (int)json_integer_value(json_object_get(priv, "cgroupManager"));
    st->creator = (pid_t)json_integer_value(json_object_get(priv, "creatorPid"));
    st->creator_start_time =
        (unsigned long long)json_integer_value(json_object_get(priv, "creatorStartTime"));
    json_t *cg = json_object_get(priv, "cgroup");
    if (cg != NULL && !json_is_null(cg))
        st->cgroup = json_incref(cg);
    json_t *h = json_object_get(priv, "hooks");
    if (json_is_object(h))
        st->hooks = json_incref(h);
    *out = st;
    return 0;
}

void oci_state_free(struct oci_state *st)
{
    if (st == NULL)
        return;
    free(st->id);
    free(st->bundle);
    free(st->rootfs);
    free(st->created);
    if (st->annotations)
        json_decref(st->annotations);
    if (st->cgroup)
        json_decref(st->cgroup);
    if (st->hooks)
        json_decref(st->hooks);
    free(st);
}

int oci_state_remove(const char *root, const char *id, struct err **err)
{
    _cleanup_free_ char *dir = oci_state_dir(root, id);

    if (dir == NULL)
        return err_set(err, ENOMEM, "state dir");
    return fs_rm_rf(dir, err);
}

unsigned long long oci_state_pid_start_time(pid_t pid)
{
    char path[64], buf[1024];
    _cleanup_close_ int fd = -1;
    ssize_t n;
    unsigned long long t = 0;

    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* proc(5): the comm field may hold spaces and parentheses: skip to the last ')' */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    char state = p[2];
    if (state == 'Z' || state == 'X')
        return 0;
    p += 2;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (p == NULL || sscanf(p, "%llu", &t) != 1)
        return 0;
    return t;
}

bool oci_state_init_alive(const struct oci_state *st)
{
    if (st->pid <= 0)
        return false;
    return oci_state_pid_start_time(st->pid) == st->start_time && st->start_time != 0;
}

const char *oci_state_status(const char *root, const struct oci_state *st, const char *freezer)
{
    char path[PATH_MAX];

    if (!oci_state_init_alive(st))
        return st->creating && st->pid <= 0 ? "creating" : "stopped";
    if (st->creating)
        return "creating";
    snprintf(path, sizeof(path), "%s/%s/exec.fifo", root, st->id);
    if (fs_exists(path))
        return "created";
    if (freezer != NULL && strcmp(freezer, "paused") == 0)
        return "paused";
    return "running";
}

json_t *oci_state_to_oci(const struct oci_state *st, const char *status)
{
    bool alive = strcmp(status, "stopped") != 0;
    /* runc's and crun's "owner" is a string (a user name, "" in runc's state) */
    char owner[24];
    snprintf(owner, sizeof(owner), "%u", (unsigned)st->owner);
    json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "ociVersion", "1.2.0", "id",
                          st->id, "pid", alive ? (int)st->pid : 0, "status", status, "bundle",
                          st->bundle ? st->bundle : "", "rootfs", st->rootfs ? st->rootfs : "",
                          "created", st->created ? st->created : "", "owner", owner);

    if (j == NULL)
        return NULL;
    if (st->annotations)
        json_object_set(j, "annotations", st->annotations);
    else
        json_object_set_new(j, "annotations", json_object());
    return j;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int oci_state_list(const char *root, char ***ids, struct err **err)
{
    _cleanup_closedir_ DIR *d = opendir(root);
    struct dirent *e;
    size_t n = 0, cap = 8;
    char **v;

    if (d == NULL && errno != ENOENT)
        return err_sys(err, "open state root `%s`", root);
    v = calloc(cap + 1, sizeof(char *));
    if (v == NULL)
        return err_set(err, ENOMEM, "list");
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        if (n == cap) {
            char **nv = realloc(v, (cap * 2 + 1) * sizeof(char *));
            if (nv == NULL) {
                strv_free(v);
                return err_set(err, ENOMEM, "list");
            }
            v = nv;
            cap *= 2;
        }
        v[n++] = strdup(e->d_name);
        v[n] = NULL;
    }
    qsort(v, n, sizeof(char *), cmp_str);
    *ids = v;
    return 0;
}

char *state_now_rfc3339(void)
{
    struct timespec ts;
    struct tm tm;
    char buf[40], *out = NULL;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    if (asprintf(&out, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
        return NULL;
    return out;
}
