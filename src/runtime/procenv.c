/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container process's environment as runc and crun set it up (see procenv.h). */
#include "runtime/procenv.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"

static const char *env_lookup(char **env, const char *name)
{
    size_t n = strlen(name);

    for (char **e = env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

#define PASSWD_MAX (16 << 20)

/* The home directory of uid in the container's /etc/passwd (caller frees), or
 * NULL when there is no such entry or no readable file. */
static char *passwd_home(uid_t uid)
{
    _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    _cleanup_close_ int fd = -1;
    _cleanup_free_ char *buf = NULL;
    struct err *e = NULL;
    struct stat st;
    size_t len;
    char *save = NULL;

    if (root < 0)
        return NULL;
    /* the image's file: a FIFO must not block the init, a huge file not fill it */
    fd = fs_open_in_root(root, "/etc/passwd", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0, &e);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PASSWD_MAX ||
        fs_read_fd(fd, "/etc/passwd", &buf, &len, &e) < 0) {
        err_free(&e);
        return NULL;
    }
    /* name:password:uid:gid:gecos:home:shell */
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[7] = {0};
        size_t k = 0;
        for (char *p = line; k < 7; k++) {
            f[k] = p;
            p = strchr(p, ':');
            if (p == NULL) {
                k++;
                break;
            }
            *p++ = '\0';
        }
        if (k < 6 || f[2][0] == '\0')
            continue;
        char *end;
        unsigned long v = strtoul(f[2], &end, 10);
        if (*end == '\0' && v == uid)
            return strdup(f[5]);
    }
    return NULL;
}

static int env_add(char **env, size_t *k, const char *name, const char *value, struct err **err)
{
    char *v = NULL;

    if (asprintf(&v, "%s=%s", name, value) < 0)
        return err_set(err, ENOMEM, "process.env: %s", name);
    env[(*k)++] = v;
    return 0;
}

static bool is_listen_var(const char *e)
{
    return strncmp(e, "LISTEN_FDS=", 11) == 0 || strncmp(e, "LISTEN_PID=", 11) == 0;
}

int procenv_setup(struct spec_process *p, int listen_fds, struct err **err)
{
    size_t n = 0;
    bool need_home = env_lookup(p->env, "HOME") == NULL;

    if (!need_home && listen_fds <= 0)
        return 0;
    for (char **e = p->env; e && *e; e++)
        n++;
    _cleanup_strv_ char **env = calloc(n + 4, sizeof(char *));
    size_t k = 0;
    if (env == NULL)
        return err_set(err, ENOMEM, "process.env");
    for (char **e = p->env; e && *e; e++) {
        if (listen_fds > 0 && is_listen_var(*e))
            continue;
        if ((env[k++] = strdup(*e)) == NULL)
            return err_set(err, ENOMEM, "process.env");
    }
    if (need_home) {
        /* runc and crun: the user's entry in the container's passwd, else / */
        _cleanup_free_ char *home = passwd_home(p->uid);
        if (env_add(env, &k, "HOME", home ? home : "/", err) < 0)
            return -1;
    }
    if (listen_fds > 0) {
        /* sd_listen_fds(3): LISTEN_PID is the pid of the process that gets
         * the fds: this one, which execs (1 in a new pid namespace). */
        char fds[16], pid[16];
        snprintf(fds, sizeof(fds), "%d", listen_fds);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        if (env_add(env, &k, "LISTEN_FDS", fds, err) < 0 ||
            env_add(env, &k, "LISTEN_PID", pid, err) < 0)
            return -1;
    }
    strv_free(p->env);
    p->env = env;
    env = NULL;
    return 0;
}

int procenv_make_cwd(const char *cwd, struct err **err)
{
    struct stat st;

    if (stat(cwd, &st) == 0 || errno != ENOENT)
        return 0; /* what is not missing is chdir's to judge */
    _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return err_sys(err, "process.cwd: open /");
    /* runc and crun create it 0755 whatever the caller's umask */
    mode_t old = umask(022);
    int fd = fs_mkdir_in_root(root, cwd, 0755, err);
    umask(old);
    if (fd < 0)
        return err_wrap(err, "process.cwd: create `%s`", cwd);
    close(fd);
    return 0;
}

int procenv_chown_stdio(uid_t uid, gid_t gid, struct err **err)
{
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0) {
            if (errno == EBADF)
                continue;
            return err_sys(err, "stdio: fstat fd %d", fd);
        }
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
            continue;
        if (st.st_uid == uid && st.st_gid == gid)
            continue;
        if (fchown(fd, uid, gid) < 0 && errno != EPERM && errno != EINVAL && errno != EROFS)
            return err_sys(err, "stdio: fchown fd %d to %u:%u", fd, uid, gid);
    }
    return 0;
}

/* The host id of container id `id` under a map, false when it is not mapped. */
static bool map_to_host(const struct spec_idmap *m, size_t n, uint32_t id, uint32_t *host)
{
    for (size_t i = 0; i < n; i++)
        if (id >= m[i].container_id && id - m[i].container_id < m[i].size) {
            *host = m[i].host_id + (id - m[i].container_id);
            return true;
        }
    return false;
}

int procenv_chown_stdio_host(const struct spec *s, uid_t uid, gid_t gid, struct err **err)
{
    const struct spec_ns *u = spec_ns_find(s, CLONE_NEWUSER);
    uint32_t hu = uid, hg = gid;

    if (u != NULL && u->path != NULL)
        return 0; /* a joined namespace: the process does what it can from inside */
    if (u != NULL && (!map_to_host(s->uidmap, s->nuidmap, uid, &hu) ||
                      !map_to_host(s->gidmap, s->ngidmap, gid, &hg)))
        return 0; /* not mapped: nobody in the container could own them */
    return procenv_chown_stdio(hu, hg, err);
}
