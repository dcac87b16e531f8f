/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Users named by images: see user.h. */
#include "image/user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs.h"

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

int image_user_resolve(int rootfd, const char *spec, long *uid, long *gid, struct err **err)
{
    _cleanup_free_ char *u = strdup(spec);
    char *g;

    *uid = 0;
    *gid = 0;
    if (u == NULL)
        return err_set(err, ENOMEM, "user");
    g = strchr(u, ':');
    if (g)
        *g++ = '\0';
    if (numeric(u)) {
        *uid = strtol(u, NULL, 10);
    } else if (*u && lookup(rootfd, "/etc/passwd", u, uid, gid) < 0) {
        return err_val(err, ENOENT, "user `%s` is not in the image's /etc/passwd", u);
    }
    if (g && numeric(g))
        *gid = strtol(g, NULL, 10);
    else if (g && *g && lookup(rootfd, "/etc/group", g, gid, NULL) < 0)
        return err_val(err, ENOENT, "group `%s` is not in the image's /etc/group", g);
    return 0;
}

/* /etc/passwd entry whose uid is `uid`: its name (in *name, new) and gid. */
static int lookup_uid(int rootfd, long uid, char **name, long *gid)
{
    _cleanup_close_ int fd = fs_open_in_root(rootfd, "/etc/passwd", O_RDONLY, 0, NULL);
    _cleanup_free_ char *buf = NULL;
    char *line, *save = NULL;
    size_t len;

    if (fd < 0 || fs_read_fd(fd, "/etc/passwd", &buf, &len, NULL) < 0)
        return -1;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {0};
        char *s2 = NULL, *tok = strtok_r(line, ":", &s2);
        int i = 0;
        for (; tok && i < 4; tok = strtok_r(NULL, ":", &s2))
            f[i++] = tok;
        if (i >= 4 && numeric(f[2]) && strtol(f[2], NULL, 10) == uid) {
            *gid = strtol(f[3], NULL, 10);
            *name = strdup(f[0]);
            return *name ? 0 : -1;
        }
    }
    return -1;
}

/* Groups of /etc/group (gid in field 3) whose member list (field 4) has name. */
static int member_groups(int rootfd, const char *name, long primary, long **gids, size_t *n)
{
    _cleanup_close_ int fd = fs_open_in_root(rootfd, "/etc/group", O_RDONLY, 0, NULL);
    _cleanup_free_ char *buf = NULL;
    char *line, *save = NULL;
    size_t len;

    *gids = NULL;
    *n = 0;
    if (fd < 0 || fs_read_fd(fd, "/etc/group", &buf, &len, NULL) < 0)
        return 0;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {0}, *p = line;
        for (int i = 0; i < 4 && p; i++) {
            f[i] = p;
            if ((p = strchr(p, ':')) != NULL)
                *p++ = '\0';
        }
        if (f[2] == NULL || f[3] == NULL || !numeric(f[2]))
            continue;
        long g = strtol(f[2], NULL, 10);
        char *s2 = NULL;
        for (char *m = strtok_r(f[3], ",", &s2); m; m = strtok_r(NULL, ",", &s2)) {
            if (strcmp(m, name) != 0 || g == primary)
                continue;
            long *grown = realloc(*gids, (*n + 1) * sizeof(long));
            if (grown == NULL)
                return -1;
            *gids = grown;
            (*gids)[(*n)++] = g;
            break;
        }
    }
    return 0;
}

int image_user_resolve_exec(int rootfd, const char *spec, long *uid, long *gid, long **gids,
                            size_t *ngids, struct err **err)
{
    const char *colon = strchr(spec, ':');
    _cleanup_free_ char *user = strndup(spec, colon ? (size_t)(colon - spec) : strlen(spec));
    _cleanup_free_ char *name = NULL;
    bool group_given = colon && colon[1];
    long pgid = 0;

    *gids = NULL;
    *ngids = 0;
    if (user == NULL)
        return err_set(err, ENOMEM, "user");
    if (image_user_resolve(rootfd, spec, uid, gid, err) < 0)
        return -1;
    if (!numeric(user)) {
        name = steal_ptr(&user);
    } else if (lookup_uid(rootfd, *uid, &name, &pgid) == 0 && !group_given) {
        *gid = pgid;
    }
    if (!group_given && name && *name && member_groups(rootfd, name, *gid, gids, ngids) < 0)
        return err_set(err, ENOMEM, "user `%s`: /etc/group", spec);
    return 0;
}
