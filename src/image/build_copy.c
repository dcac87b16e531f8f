/* SPDX-License-Identifier: GPL-2.0-or-later */
/* COPY and ADD (Dockerfile reference): files from the context or an earlier
 * stage into a staging tree that becomes a layer; .dockerignore. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/build_priv.h"
#include "image/diff.h"
#include "image/layer.h"
#include "image/user.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

/*
 * One .dockerignore pattern against a context-relative path: Go's
 * filepath.Match per path element, plus `**`, which matches any number of
 * elements (zero included), as Docker's fileutils does.
 */
static bool ignore_match(const char *pat, const char *path)
{
    if (strncmp(pat, "**", 2) == 0 && (pat[2] == '/' || pat[2] == '\0')) {
        const char *rest = pat[2] == '/' ? pat + 3 : pat + 2;
        if (*rest == '\0')
            return true;
        for (const char *p = path;; p++) {
            if ((p == path || p[-1] == '/') && ignore_match(rest, p))
                return true;
            if (*p == '\0')
                return false;
        }
    }
    const char *ps = strchr(pat, '/'), *qs = strchr(path, '/');
    size_t pl = ps ? (size_t)(ps - pat) : strlen(pat), ql = qs ? (size_t)(qs - path) : strlen(path);
    _cleanup_free_ char *pe = strndup(pat, pl), *qe = strndup(path, ql);
    if (pe == NULL || qe == NULL)
        return false;
    if (fnmatch(pe, qe, 0) != 0)
        return false;
    if (ps == NULL || qs == NULL)
        return ps == NULL && qs == NULL;
    return ignore_match(ps + 1, qs + 1);
}

static bool ignored(struct ctx *ctx, const char *rel)
{
    bool ign = false;
    json_t *p;
    size_t i;

    json_array_foreach (ctx->ignore, i, p) {
        const char *pat = json_string_value(p);
        bool neg = pat[0] == '!';
        if (neg)
            pat++;
        /* A pattern matches the path or any of its parent directories. */
        _cleanup_free_ char *cur = strdup(rel);
        bool m = false;
        while (cur && *cur) {
            if (ignore_match(pat, cur)) {
                m = true;
                break;
            }
            char *sl = strrchr(cur, '/');
            if (sl == NULL)
                break;
            *sl = '\0';
        }
        if (m)
            ign = !neg;
    }
    return ign;
}

int build_copy_load_ignore(struct ctx *ctx, struct err **err)
{
    _cleanup_free_ char *p = NULL, *buf = NULL;
    char *line, *save = NULL;
    size_t len;

    ctx->ignore = json_array();
    if (asprintf(&p, "%s/.dockerignore", ctx->o->context) < 0)
        return err_set(err, ENOMEM, ".dockerignore");
    if (!fs_exists(p))
        return 0;
    if (fs_read_file(p, &buf, &len, err) < 0)
        return -1;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s = line + strspn(line, " \t");
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '/'))
            s[--n] = '\0';
        if (*s == '\0' || *s == '#')
            continue;
        bool neg = *s == '!';
        char *pat = neg ? s + 1 : s;
        while (*pat == '/' || strncmp(pat, "./", 2) == 0)
            pat += *pat == '/' ? 1 : 2;
        char *full = NULL;
        if (asprintf(&full, "%s%s", neg ? "!" : "", pat) >= 0)
            json_array_append_new(ctx->ignore, json_string(full));
        free(full);
    }
    return 0;
}

struct copy {
    struct ctx *ctx;
    bool from_context;
    const char *srcroot;
    long uid, gid; /* -1: keep the source's */
    struct digest_ctx *sum;
    size_t strip; /* length of the staging prefix of destination paths */
};

static int copy_tree(struct copy *c, const char *src, const char *rel, const char *dst,
                     struct err **err);

static int copy_one(struct copy *c, const char *src, const char *rel, const char *dst,
                    struct err **err)
{
    struct stat st;
    char meta[128];

    if (c->from_context && *rel && ignored(c->ctx, rel))
        return 0;
    if (lstat(src, &st) < 0)
        return err_sys(err, "stat `%s`", src);
    snprintf(meta, sizeof(meta), "%s\n%o", rel, st.st_mode);
    digest_update(c->sum, meta, strlen(meta));
    digest_update(c->sum, dst + c->strip, strlen(dst) - c->strip);
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(dst, st.st_mode & 07777) < 0 && errno != EEXIST)
            return err_sys(err, "mkdir `%s`", dst);
        if (copy_tree(c, src, rel, dst, err) < 0)
            return -1;
    } else if (S_ISLNK(st.st_mode)) {
        char t[4096];
        ssize_t n = readlink(src, t, sizeof(t) - 1);
        if (n < 0)
            return err_sys(err, "readlink `%s`", src);
        t[n] = '\0';
        digest_update(c->sum, t, (size_t)n);
        unlink(dst);
        if (symlink(t, dst) < 0)
            return err_sys(err, "symlink `%s`", dst);
    } else if (S_ISREG(st.st_mode)) {
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_close_ int out = -1;
        char buf[65536];
        ssize_t n;
        if (in < 0)
            return err_sys(err, "open `%s`", src);
        out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0)
            return err_sys(err, "create `%s`", dst);
        while ((n = read(in, buf, sizeof(buf))) > 0) {
            digest_update(c->sum, buf, (size_t)n);
            if (fs_write_all(out, buf, (size_t)n, dst, err) < 0)
                return -1;
        }
        if (n < 0)
            return err_sys(err, "read `%s`", src);
        fchmod(out, st.st_mode & 07777);
    } else {
        return err_val(err, ENOTSUP, "`%s`: only files, directories and symlinks are copied", rel);
    }
    if (lchown(dst, c->uid >= 0 ? (uid_t)c->uid : st.st_uid,
               c->gid >= 0 ? (gid_t)c->gid : st.st_gid) < 0)
        return err_sys(err, "chown `%s`", dst);
    if (!S_ISLNK(st.st_mode))
        chmod(dst, st.st_mode & 07777); /* chown clears set-id bits */
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

static int copy_tree(struct copy *c, const char *src, const char *rel, const char *dst,
                     struct err **err)
{
    struct dirent **list = NULL;
    int n = scandir(src, &list, NULL, alphasort), r = 0;

    if (n < 0)
        return err_sys(err, "read directory `%s`", src);
    for (int i = 0; i < n; i++) {
        const char *b = list[i]->d_name;
        if (r == 0 && strcmp(b, ".") && strcmp(b, "..")) {
            _cleanup_free_ char *s2 = NULL, *r2 = NULL, *d2 = NULL;
            if (asprintf(&s2, "%s/%s", src, b) < 0 ||
                asprintf(&r2, "%s%s%s", rel, *rel ? "/" : "", b) < 0 ||
                asprintf(&d2, "%s/%s", dst, b) < 0)
                r = err_set(err, ENOMEM, "copy");
            else
                r = copy_one(c, s2, r2, d2, err);
        }
        free(list[i]);
    }
    free(list);
    return r;
}

/*
 * ADD of a local tar archive (plain, gzip, bzip2, xz or zstd) unpacks it into
 * the destination directory (Dockerfile reference, ADD). Tells by content, as
 * Docker does, not by name: *done is false for any other file.
 */
static int add_archive(struct copy *c, const char *src, const char *rel, const char *dir,
                       bool *done, struct err **err)
{
    static const struct {
        size_t off, len;
        const char *magic;
    } kinds[] = {
        {0, 2, "\x1f\x8b"},         /* gzip */
        {0, 3, "BZh"},              /* bzip2 */
        {0, 6, "\xfd\x37zXZ\0"},    /* xz */
        {0, 4, "\x28\xb5\x2f\xfd"}, /* zstd */
        {257, 5, "ustar"},          /* tar (POSIX and GNU) */
    };
    _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    _cleanup_close_ int dfd = -1;
    char head[512], buf[65536];
    ssize_t n, got;
    bool archive = false;

    *done = false;
    if (fd < 0)
        return err_sys(err, "open `%s`", src);
    got = pread(fd, head, sizeof(head), 0);
    for (size_t i = 0; i < ARRAY_SIZE(kinds) && got > 0; i++)
        if ((size_t)got >= kinds[i].off + kinds[i].len &&
            memcmp(head + kinds[i].off, kinds[i].magic, kinds[i].len) == 0)
            archive = true;
    if (!archive)
        return 0;
    /* The cache key covers the archive's bytes and where it goes. */
    digest_update(c->sum, rel, strlen(rel) + 1);
    digest_update(c->sum, dir + c->strip, strlen(dir) - c->strip);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        digest_update(c->sum, buf, (size_t)n);
    if (n < 0 || lseek(fd, 0, SEEK_SET) < 0)
        return err_sys(err, "read `%s`", src);
    if (fs_mkdir_p(dir, 0755, err) < 0)
        return -1;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return err_sys(err, "open `%s`", dir + c->strip);
    struct layer_opts o = {.flatten = true, .any_filter = true};
    if (layer_extract_fd(fd, rel, dfd, &o, err) < 0)
        return err_wrap(err, "ADD %s", rel);
    *done = true;
    return 0;
}

/* Parse --chown=USER[:GROUP] (numeric, or names from the stage's /etc/passwd). */
static int parse_chown(struct ctx *ctx, struct stage *st, const char *spec, long *uid, long *gid,
                       const char *rootfs, struct err **err)
{
    _cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (rootfd < 0)
        return err_sys(err, "open `%s`", rootfs);
    /* The names resolve as they do for the container's user. */
    return image_user_resolve(rootfd, spec, uid, gid, err);
}

int build_copy_run(struct ctx *ctx, struct stage *st, const struct df_insn *in, bool add,
                   struct err **err)
{
    _cleanup_strv_ char **words = NULL;
    _cleanup_free_ char *expanded = NULL, *stage_dir = NULL, *view = NULL, *srcroot = NULL,
                        *dest = NULL, *keytext = NULL;
    _cleanup_free_ struct desc *descs = NULL;
    const char *from = json_string_value(json_object_get(in->flags, "from"));
    const char *chown_spec = json_string_value(json_object_get(in->flags, "chown"));
    struct copy c = {.ctx = ctx, .uid = 0, .gid = 0};
    char sum[DIGEST_LEN + 1];
    bool view_mounted = false;
    size_t nw = 0;
    int rc = -1;

    if (in->argv) {
        words = calloc(json_array_size(in->argv) + 1, sizeof(char *));
        for (size_t i = 0; words && i < json_array_size(in->argv); i++) {
            if (dockerfile_expand(json_string_value(json_array_get(in->argv, i)), st->vars,
                                  &words[i], in->cmd, err) < 0)
                return build_insn_err(ctx, in, err);
        }
    } else if (dockerfile_expand(in->rest, st->vars, &expanded, in->cmd, err) < 0 ||
               dockerfile_words(expanded, &words, err) < 0) {
        return build_insn_err(ctx, in, err);
    }
    while (words && words[nw])
        nw++;
    if (nw < 2)
        return err_val(err, EINVAL, "%s:%d:%d: %s needs a source and a destination", AT(in),
                       in->cmd);
    for (size_t i = 0; i + 1 < nw; i++)
        if (add && (strstr(words[i], "://") != NULL))
            return err_val(err, ENOTSUP, "%s:%d:%d: ADD from a URL is not supported", AT(in));
    /* Destination: relative to WORKDIR. */
    {
        const char *wd = json_string_value(json_object_get(build_cfg(st), "WorkingDir"));
        const char *d = words[nw - 1];
        if (d[0] == '/')
            dest = strdup(d);
        else if (asprintf(&dest, "%s/%s", wd && *wd ? wd : "", d) < 0)
            dest = NULL;
        if (dest == NULL)
            return err_set(err, ENOMEM, "COPY");
    }
    if (store_mkdtemp(ctx->s, "copy", &stage_dir, err) < 0)
        return -1;
    c.sum = digest_new();
    if (c.sum == NULL) {
        err_set(err, ENOMEM, "COPY");
        goto out;
    }
    /* Source: the context, or a flattened view of an earlier stage. */
    if (from) {
        struct stage *src = NULL;
        for (size_t i = 0; i < ctx->n_stages; i++)
            if ((ctx->stages[i].name && strcmp(ctx->stages[i].name, from) == 0) ||
                (strspn(from, "0123456789") == strlen(from) && (size_t)atoi(from) == i))
                src = &ctx->stages[i];
        if (src == NULL || src == st) {
            err_val(err, ENOENT, "--from=%s: no such earlier stage", from);
            goto out;
        }
        if (asprintf(&view, "%s/view", stage_dir) < 0 ||
            build_descs(src->layers, &descs, err) < 0 ||
            layer_rootfs_descs(ctx->s, descs, json_array_size(src->layers), view, true,
                               &view_mounted, err) < 0)
            goto out;
        if (asprintf(&srcroot, "%s/rootfs", view) < 0)
            goto out;
        digest_update(c.sum, src->key, strlen(src->key));
    } else {
        srcroot = realpath(ctx->o->context, NULL);
        c.from_context = true;
        if (srcroot == NULL) {
            err_sys(err, "context `%s`", ctx->o->context);
            goto out;
        }
    }
    c.srcroot = srcroot;
    if (chown_spec) {
        /* Names resolve against this stage's files: flatten them once. */
        _cleanup_free_ char *cv = NULL, *croot = NULL;
        _cleanup_free_ struct desc *sd = NULL;
        bool m = false;
        if (asprintf(&cv, "%s/chown", stage_dir) < 0 || asprintf(&croot, "%s/rootfs", cv) < 0 ||
            build_descs(st->layers, &sd, err) < 0)
            goto out;
        if (strspn(chown_spec, "0123456789:") == strlen(chown_spec)) {
            fs_mkdir_p(croot, 0755, NULL);
        } else if (layer_rootfs_descs(ctx->s, sd, json_array_size(st->layers), cv, true, &m, err) <
                   0) {
            goto out;
        }
        if (parse_chown(ctx, st, chown_spec, &c.uid, &c.gid, croot, err) < 0)
            goto out;
    }
    {
        _cleanup_free_ char *out_root = NULL, *target = NULL;
        bool dir_dest = dest[strlen(dest) - 1] == '/' || nw > 2;
        if (asprintf(&out_root, "%s/layer", stage_dir) < 0 ||
            asprintf(&target, "%s%s", out_root, dest) < 0 || fs_mkdir_p(out_root, 0755, err) < 0)
            goto out;
        c.strip = strlen(out_root);
        for (size_t i = 0; i + 1 < nw; i++) {
            _cleanup_free_ char *pat = NULL;
            glob_t g;
            const char *w = words[i];
            if (strstr(w, "..") && (strcmp(w, "..") == 0 || strncmp(w, "../", 3) == 0 ||
                                    strstr(w, "/../") || strstr(w, "/..") == w + strlen(w) - 3)) {
                err_val(err, EPERM, "source `%s` leaves the build context", w);
                goto out;
            }
            while (*w == '/')
                w++;
            if (asprintf(&pat, "%s/%s", srcroot, w) < 0)
                goto out;
            if (glob(pat, GLOB_NOSORT, NULL, &g) != 0) {
                err_val(err, ENOENT, "source `%s`: no such file or directory in the %s", words[i],
                        from ? "stage" : "context");
                goto out;
            }
            if (g.gl_pathc > 1)
                dir_dest = true;
            for (size_t j = 0; j < g.gl_pathc; j++) {
                const char *sp = g.gl_pathv[j];
                const char *rel = sp + strlen(srcroot);
                struct stat sst;
                _cleanup_free_ char *dst = NULL;
                while (*rel == '/')
                    rel++;
                if (strcmp(rel, ".") == 0) /* `COPY . dst`: the context's own entries */
                    rel = "";
                if (lstat(sp, &sst) < 0 || (c.from_context && *rel && ignored(ctx, rel)))
                    continue;
                if (S_ISDIR(sst.st_mode)) {
                    /* The contents of a directory are copied, not the directory. */
                    if (fs_mkdir_p(target, 0755, err) < 0 ||
                        copy_tree(&c, sp, rel, target, err) < 0) {
                        globfree(&g);
                        goto out;
                    }
                    continue;
                }
                if (add && S_ISREG(sst.st_mode)) {
                    bool unpacked;
                    if (add_archive(&c, sp, rel, target, &unpacked, err) < 0) {
                        globfree(&g);
                        goto out;
                    }
                    if (unpacked)
                        continue;
                }
                const char *bn = strrchr(sp, '/');
                if (dir_dest) {
                    if (fs_mkdir_p(target, 0755, err) < 0 ||
                        asprintf(&dst, "%s/%s", target, bn ? bn + 1 : sp) < 0) {
                        globfree(&g);
                        goto out;
                    }
                } else {
                    _cleanup_free_ char *parent = strdup(target);
                    char *sl = parent ? strrchr(parent, '/') : NULL;
                    if (sl)
                        *sl = '\0';
                    if (parent && *parent)
                        fs_mkdir_p(parent, 0755, NULL);
                    dst = strdup(target);
                }
                if (dst == NULL || copy_one(&c, sp, rel, dst, err) < 0) {
                    globfree(&g);
                    goto out;
                }
            }
            globfree(&g);
        }
        /* New directories get the --chown owner too (Dockerfile reference, COPY). */
        {
            struct stat tst;
            if (chown_spec && lstat(target, &tst) == 0 && S_ISDIR(tst.st_mode) &&
                lchown(target, (uid_t)c.uid, (gid_t)c.gid) < 0) {
                err_sys(err, "chown `%s`", dest);
                goto out;
            }
        }
        digest_final(c.sum, sum);
        c.sum = NULL;
        if (asprintf(&keytext, "%s %s %s chown=%s", in->cmd, in->rest, sum,
                     chown_spec ? chown_spec : "") < 0)
            goto out;
        build_chain(st, keytext);
        if (build_cache_get(ctx, st)) {
            printf(" ---> Using cache\n");
        } else {
            if (build_commit_layer(ctx, st, out_root, false, err) < 0)
                goto out;
        }
        build_history(st, keytext, false);
    }
    rc = 0;
out:
    digest_free(c.sum);
    if (stage_dir)
        fs_rm_rf(stage_dir, NULL);
    return rc < 0 ? build_insn_err(ctx, in, err) : 0;
}
