/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/ref.h"
#include "image/build.h"
#include "image/build_priv.h"
#include "image/diff.h"
#include "image/dockerfile.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/registry.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"

static void stage_release(struct stage *st)
{
    free(st->name);
    json_decref(st->config);
    json_decref(st->layers);
    json_decref(st->vars);
    json_decref(st->shell);
}

void build_chain(struct stage *st, const char *what)
{
    struct digest_ctx *c = digest_new();

    if (c == NULL)
        return;
    digest_update(c, st->key, strlen(st->key));
    digest_update(c, "\n", 1);
    digest_update(c, what, strlen(what));
    digest_final(c, st->key);
}

int build_insn_err(struct ctx *ctx, const struct df_insn *in, struct err **err)
{
    return err_wrap(err, "%s:%d:%d: %s", AT(in), in->cmd);
}

/* ---- config helpers ---- */

json_t *build_cfg(struct stage *st)
{
    json_t *c = json_object_get(st->config, "config");

    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(st->config, "config", c);
    }
    return c;
}

static void env_set(struct stage *st, const char *k, const char *v)
{
    json_t *c = build_cfg(st), *env = json_object_get(c, "Env"), *e;
    size_t kl = strlen(k), i;
    char *kv = NULL;

    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(c, "Env", env);
    }
    if (asprintf(&kv, "%s=%s", k, v) < 0)
        return;
    json_array_foreach (env, i, e) {
        const char *s = json_string_value(e);
        if (s && strncmp(s, k, kl) == 0 && s[kl] == '=') {
            json_array_set_new(env, i, json_string(kv));
            free(kv);
            json_object_set_new(st->vars, k, json_string(v));
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
    free(kv);
    json_object_set_new(st->vars, k, json_string(v));
}

void build_history(struct stage *st, const char *by, bool empty)
{
    json_t *h = json_object_get(st->config, "history");

    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(st->config, "history", h);
    }
    json_array_append_new(h, empty ? json_pack("{s:s, s:b}", "created_by", by, "empty_layer", 1)
                                   : json_pack("{s:s}", "created_by", by));
}

static void build_add_layer(struct stage *st, const char *digest, int64_t size)
{
    json_t *rootfs = json_object_get(st->config, "rootfs");

    json_array_append_new(st->layers, desc_new(MT_OCI_LAYER, digest, size));
    if (!json_is_object(rootfs)) {
        rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
        json_object_set_new(st->config, "rootfs", rootfs);
    }
    /* Uncompressed layers: the digest is the diff_id. */
    json_array_append_new(json_object_get(rootfs, "diff_ids"), json_string(digest));
}

int build_descs(json_t *layers, struct desc **out, struct err **err)
{
    size_t n = json_array_size(layers);
    struct desc *d = calloc(n + 1, sizeof(*d));

    if (d == NULL)
        return err_set(err, ENOMEM, "layers");
    for (size_t i = 0; i < n; i++)
        if (desc_parse(json_array_get(layers, i), "layer", &d[i], err) < 0) {
            free(d);
            return -1;
        }
    *out = d;
    return 0;
}

/* ---- cache ---- */

static char *cache_path(struct ctx *ctx, const char *key)
{
    char *p = NULL;

    if (asprintf(&p, "%s/build-cache/%s", ctx->s->root, digest_hex(key)) < 0)
        return NULL;
    return p;
}

bool build_cache_get(struct ctx *ctx, struct stage *st)
{
    _cleanup_free_ char *p = cache_path(ctx, st->key);
    _cleanup_json_ json_t *j = NULL;
    struct desc d;

    if (ctx->o->no_cache || p == NULL || js_load_file(p, &j, NULL) < 0 ||
        desc_parse(j, "cache", &d, NULL) < 0 || !store_blob_exists(ctx->s, d.digest))
        return false;
    build_add_layer(st, d.digest, d.size);
    return true;
}

static void build_cache_put(struct ctx *ctx, struct stage *st, const char *digest, int64_t size)
{
    _cleanup_free_ char *p = cache_path(ctx, st->key), *dir = NULL;
    _cleanup_json_ json_t *d = desc_new(MT_OCI_LAYER, digest, size);

    if (p == NULL || asprintf(&dir, "%s/build-cache", ctx->s->root) < 0 ||
        fs_mkdir_p(dir, 0700, NULL) < 0)
        return;
    js_write_file(p, d, 0600, NULL);
}

int build_commit_layer(struct ctx *ctx, struct stage *st, const char *dir, bool overlay,
                       struct err **err)
{
    char digest[DIGEST_LEN + 1];
    int64_t size = 0;

    if (diff_dir_to_layer(ctx->s, dir, overlay, digest, &size, err) < 0)
        return -1;
    build_add_layer(st, digest, size);
    build_cache_put(ctx, st, digest, size);
    return 0;
}

/* ---- FROM ---- */

static int do_from(struct ctx *ctx, const struct df_insn *in, struct err **err)
{
    _cleanup_strv_ char **w = NULL;
    _cleanup_free_ char *expanded = NULL;
    struct stage st = {0};
    const char *base;

    if (dockerfile_expand(in->rest, ctx->global_args, &expanded, "FROM", err) < 0 ||
        dockerfile_words(expanded, &w, err) < 0)
        return build_insn_err(ctx, in, err);
    if (w[0] == NULL || (w[1] && (w[2] == NULL || strcasecmp(w[1], "AS") != 0 || w[3])))
        return err_val(err, EINVAL, "%s:%d:%d: expected FROM IMAGE [AS NAME]", AT(in));
    base = w[0];
    st.name = w[1] ? strdup(w[2]) : NULL;
    st.vars = json_object();
    st.layers = json_array();
    st.shell = json_pack("[s,s]", "/bin/sh", "-c");
    if (strcmp(base, "scratch") == 0) {
        st.config = json_pack("{s:s, s:s, s:{}, s:{s:s, s:[]}}", "architecture", "amd64", "os",
                              "linux", "config", "rootfs", "type", "layers", "diff_ids");
        digest_buf("scratch", 7, st.key);
    } else {
        struct stage *prev = NULL;
        for (size_t i = 0; i < ctx->n_stages; i++)
            if (ctx->stages[i].name && strcmp(ctx->stages[i].name, base) == 0)
                prev = &ctx->stages[i];
        if (prev) {
            st.config = json_deep_copy(prev->config);
            st.layers = (json_decref(st.layers), json_deep_copy(prev->layers));
            memcpy(st.key, prev->key, sizeof(st.key));
        } else {
            _cleanup_image_ struct image *img = NULL;
            _cleanup_err_ struct err *e2 = NULL;
            if (image_open(ctx->s, base, NULL, &img, &e2) < 0) {
                struct registry_opts ro = {.progress = ctx->o->progress,
                                           .creds = ctx->o->registry_creds};
                if (e2->code != ENOENT || registry_pull(ctx->s, base, &ro, NULL, err) < 0 ||
                    image_open(ctx->s, base, NULL, &img, err) < 0) {
                    if (err && *err == NULL) {
                        *err = e2;
                        e2 = NULL;
                    }
                    stage_release(&st);
                    return build_insn_err(ctx, in, err);
                }
            }
            st.config = json_deep_copy(img->config);
            for (size_t i = 0; i < img->m.n_layers; i++)
                json_array_append(st.layers, img->m.layers[i].json);
            memcpy(st.key, img->manifest_digest, sizeof(st.key));
        }
        /* ENV of the base image is visible to expansion. */
        json_t *env = json_object_get(json_object_get(st.config, "config"), "Env"), *e;
        size_t i;
        json_array_foreach (env, i, e) {
            const char *kv = json_string_value(e), *eq = kv ? strchr(kv, '=') : NULL;
            if (eq)
                json_object_setn_new(st.vars, kv, (size_t)(eq - kv), json_string(eq + 1));
        }
    }
    /* config.md "history": one non-empty entry per layer. Images without it
     * (or with a wrong count) get one entry per layer, which buildah needs. */
    {
        json_t *h = json_object_get(st.config, "history"), *e;
        size_t i, nonempty = 0;
        json_array_foreach (h, i, e)
            if (!json_is_true(json_object_get(e, "empty_layer")))
                nonempty++;
        if (st.config && (!json_is_array(h) || nonempty != json_array_size(st.layers))) {
            h = json_array();
            for (i = 0; i < json_array_size(st.layers); i++)
                json_array_append_new(h, json_pack("{s:s}", "created_by", "(base layer)"));
            json_object_set_new(st.config, "history", h);
        }
    }
    struct stage *n = realloc(ctx->stages, (ctx->n_stages + 1) * sizeof(*n));
    if (n == NULL || st.config == NULL) {
        stage_release(&st);
        return err_set(err, ENOMEM, "FROM");
    }
    ctx->stages = n;
    ctx->stages[ctx->n_stages++] = st;
    return 0;
}

/* ---- RUN ---- */

static int do_run(struct ctx *ctx, struct stage *st, const struct df_insn *in, struct err **err)
{
    _cleanup_free_ char *dir = NULL, *rootfs = NULL, *upper = NULL, *id = NULL, *text = NULL,
                        *keytext = NULL;
    _cleanup_json_ json_t *argv = NULL;
    _cleanup_free_ struct desc *descs = NULL;
    _cleanup_strv_ char **args = NULL, **env = NULL;
    bool mounted = false;
    int status = 0, rc = -1;
    size_t i;

    if (in->argv) {
        argv = json_incref(in->argv);
    } else {
        argv = json_deep_copy(st->shell);
        json_array_append_new(argv, json_string(in->rest));
    }
    text = js_dump(argv);
    if (text == NULL || asprintf(&keytext, "RUN %s", text) < 0)
        return err_set(err, ENOMEM, "RUN");
    /* Build args are part of the key: they are in the step's environment. */
    {
        _cleanup_free_ char *vars = js_dump(st->vars);
        _cleanup_free_ char *k2 = NULL;
        if (vars && asprintf(&k2, "%s %s", keytext, vars) >= 0) {
            free(keytext);
            keytext = steal_ptr(&k2);
        }
    }
    build_chain(st, keytext);
    if (build_cache_get(ctx, st)) {
        printf(" ---> Using cache\n");
        build_history(st, keytext, false);
        return 0;
    }
    args = calloc(json_array_size(argv) + 1, sizeof(char *));
    env = calloc(json_object_size(st->vars) + 1, sizeof(char *));
    if (args == NULL || env == NULL)
        return err_set(err, ENOMEM, "RUN");
    for (i = 0; i < json_array_size(argv); i++)
        args[i] = strdup(json_string_value(json_array_get(argv, i)));
    /* ARG values are in the environment of RUN (not in the image). */
    {
        const char *k;
        json_t *v;
        size_t n = 0;
        json_t *cenv = json_object_get(build_cfg(st), "Env");
        json_object_foreach (st->vars, k, v) {
            bool in_env = false;
            size_t j;
            json_t *e;
            json_array_foreach (cenv, j, e)
                if (strncmp(json_string_value(e), k, strlen(k)) == 0 &&
                    json_string_value(e)[strlen(k)] == '=')
                    in_env = true;
            if (!in_env && asprintf(&env[n], "%s=%s", k, json_string_value(v)) >= 0)
                n++;
        }
    }
    if (store_mkdtemp(ctx->s, "build", &dir, err) < 0)
        return -1;
    if (asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&upper, "%s/upper", dir) < 0 ||
        asprintf(&id, "isola-build-%d-%d", (int)getpid(), ++ctx->runs) < 0) {
        err_set(err, ENOMEM, "RUN");
        goto out;
    }
    if (build_descs(st->layers, &descs, err) < 0 ||
        layer_rootfs_descs(ctx->s, descs, json_array_size(st->layers), dir, false, &mounted, err) <
            0)
        goto out;
    if (!mounted) {
        err_val(err, ENOTSUP, "RUN needs overlayfs, which is not available here");
        goto out;
    }
    if (ctx->o->steps == NULL) {
        err_val(err, ENOTSUP, "RUN: this build cannot run commands");
        goto out;
    }
    struct build_step step = {.image_config = st->config,
                              .args = args,
                              .env = env,
                              .hostname = "isola-build",
                              .rootfs = rootfs,
                              .dir = dir,
                              .id = id};
    fflush(stdout);
    if (ctx->o->steps->run(ctx->o->steps->data, &step, &status, err) < 0)
        goto out;
    if (status != 0) {
        err_val(err, EIO, "`%s` returned a non-zero code: %d", in->rest, status);
        goto out;
    }
    if (umount2(rootfs, 0) < 0 && umount2(rootfs, MNT_DETACH) < 0) {
        err_sys(err, "unmount `%s`", rootfs);
        goto out;
    }
    mounted = false;
    if (build_commit_layer(ctx, st, upper, true, err) < 0)
        goto out;
    build_history(st, keytext, false);
    rc = 0;
out:
    if (mounted)
        umount2(rootfs, MNT_DETACH);
    if (dir)
        fs_rm_rf(dir, NULL);
    return rc < 0 ? build_insn_err(ctx, in, err) : 0;
}

/* ---- metadata instructions ---- */

static int argv_or_shell(struct stage *st, const struct df_insn *in, json_t **out)
{
    if (in->argv) {
        *out = json_incref(in->argv);
        return 0;
    }
    *out = json_deep_copy(st->shell);
    json_array_append_new(*out, json_string(in->rest));
    return 0;
}

static int do_meta(struct ctx *ctx, struct stage *st, const struct df_insn *in, struct err **err)
{
    _cleanup_free_ char *x = NULL;
    _cleanup_strv_ char **w = NULL;
    json_t *c = build_cfg(st);
    const char *cmd = in->cmd;

    if (strcmp(cmd, "CMD") == 0 || strcmp(cmd, "ENTRYPOINT") == 0 || strcmp(cmd, "SHELL") == 0) {
        json_t *a = NULL;
        argv_or_shell(st, in, &a);
        if (strcmp(cmd, "SHELL") == 0) {
            if (in->argv == NULL) {
                json_decref(a);
                return err_val(err, EINVAL, "%s:%d:%d: SHELL needs a JSON array", AT(in));
            }
            json_decref(st->shell);
            st->shell = a;
        } else {
            json_object_set_new(c, strcmp(cmd, "CMD") == 0 ? "Cmd" : "Entrypoint", a);
            if (strcmp(cmd, "CMD") == 0)
                st->cmd_set = true;
            else if (!st->cmd_set)
                json_object_del(c, "Cmd");
        }
        goto done;
    }
    if (dockerfile_expand(in->rest, st->vars, &x, cmd, err) < 0)
        return build_insn_err(ctx, in, err);
    if (strcmp(cmd, "WORKDIR") == 0) {
        const char *cur = json_string_value(json_object_get(c, "WorkingDir"));
        _cleanup_free_ char *wd = NULL;
        if (x[0] == '/')
            wd = strdup(x);
        else if (asprintf(&wd, "%s/%s", cur && *cur ? cur : "", x) < 0)
            wd = NULL;
        json_object_set_new(c, "WorkingDir", json_string(wd ? wd : x));
        goto done;
    }
    if (strcmp(cmd, "USER") == 0) {
        json_object_set_new(c, "User", json_string(x));
        goto done;
    }
    if (strcmp(cmd, "STOPSIGNAL") == 0) {
        json_object_set_new(c, "StopSignal", json_string(x));
        goto done;
    }
    if (strcmp(cmd, "VOLUME") == 0 && in->argv) {
        json_t *v;
        size_t i;
        json_t *vols = json_object_get(c, "Volumes");
        if (!json_is_object(vols))
            json_object_set_new(c, "Volumes", vols = json_object());
        json_array_foreach (in->argv, i, v)
            json_object_set_new(vols, json_string_value(v), json_object());
        goto done;
    }
    if (dockerfile_words(x, &w, err) < 0)
        return build_insn_err(ctx, in, err);
    if (strcmp(cmd, "ENV") == 0 || strcmp(cmd, "LABEL") == 0) {
        bool env = strcmp(cmd, "ENV") == 0;
        json_t *labels = json_object_get(c, "Labels");
        if (!env && !json_is_object(labels))
            json_object_set_new(c, "Labels", labels = json_object());
        if (w[0] && strchr(w[0], '=') == NULL) {
            /* Legacy `ENV KEY VALUE...`: the value is the rest of the line. */
            const char *v = x + strlen(w[0]);
            v += strspn(v, " \t");
            if (env)
                env_set(st, w[0], v);
            else
                json_object_set_new(labels, w[0], json_string(v));
            goto done;
        }
        for (char **p = w; *p; p++) {
            char *eq = strchr(*p, '=');
            if (eq == NULL)
                return err_val(err, EINVAL, "%s:%d:%d: %s: expected KEY=VALUE, got `%s`", AT(in),
                               cmd, *p);
            *eq = '\0';
            if (env)
                env_set(st, *p, eq + 1);
            else
                json_object_set_new(labels, *p, json_string(eq + 1));
        }
        goto done;
    }
    if (strcmp(cmd, "ARG") == 0) {
        for (char **p = w; *p; p++) {
            char *eq = strchr(*p, '=');
            if (eq)
                *eq = '\0';
            json_t *given = json_object_get(ctx->build_args, *p);
            json_t *global = json_object_get(ctx->global_args, *p);
            /* ENV of the same name wins over ARG (Dockerfile reference, "ARG"). */
            bool env = false;
            json_t *e;
            size_t i;
            json_array_foreach (json_object_get(c, "Env"), i, e)
                if (strncmp(json_string_value(e), *p, strlen(*p)) == 0 &&
                    json_string_value(e)[strlen(*p)] == '=')
                    env = true;
            if (env)
                continue;
            if (given)
                json_object_set(st->vars, *p, given);
            else if (eq)
                json_object_set_new(st->vars, *p, json_string(eq + 1));
            else if (global)
                json_object_set(st->vars, *p, global);
        }
        goto done;
    }
    if (strcmp(cmd, "EXPOSE") == 0) {
        json_t *ports = json_object_get(c, "ExposedPorts");
        if (!json_is_object(ports))
            json_object_set_new(c, "ExposedPorts", ports = json_object());
        for (char **p = w; *p; p++) {
            char port[64];
            snprintf(port, sizeof(port), "%s%s", *p, strchr(*p, '/') ? "" : "/tcp");
            json_object_set_new(ports, port, json_object());
        }
        goto done;
    }
    if (strcmp(cmd, "VOLUME") == 0) {
        json_t *vols = json_object_get(c, "Volumes");
        if (!json_is_object(vols))
            json_object_set_new(c, "Volumes", vols = json_object());
        for (char **p = w; *p; p++)
            json_object_set_new(vols, *p, json_object());
        goto done;
    }
    if (strcmp(cmd, "MAINTAINER") == 0) {
        json_object_set_new(st->config, "author", json_string(x));
        goto done;
    }
    return err_val(err, ENOTSUP, "%s:%d:%d: %s is not supported", AT(in), cmd);
done : {
    _cleanup_free_ char *k = NULL;
    if (asprintf(&k, "%s %s", cmd, in->rest) >= 0) {
        build_chain(st, k);
        build_history(st, k, true);
    }
}
    return 0;
}

/* ---- the whole build ---- */

static int commit_image(struct ctx *ctx, struct stage *st, char digest[DIGEST_LEN + 1],
                        struct err **err)
{
    _cleanup_free_ char *cfgtext = NULL, *mtext = NULL;
    _cleanup_json_ json_t *manifest = NULL, *entry = NULL;
    char cfgd[DIGEST_LEN + 1], now[32];
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(st->config, "created", json_string(now));
    cfgtext = js_dump(st->config);
    if (cfgtext == NULL ||
        store_blob_put_buf(ctx->s, cfgtext, strlen(cfgtext), NULL, cfgd, err) < 0)
        return err_wrap(err, "store the image config");
    manifest = json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
                         "config", desc_new(MT_OCI_CONFIG, cfgd, (int64_t)strlen(cfgtext)),
                         "layers", st->layers);
    mtext = manifest ? js_dump(manifest) : NULL;
    if (mtext == NULL || store_blob_put_buf(ctx->s, mtext, strlen(mtext), NULL, digest, err) < 0)
        return err_wrap(err, "store the manifest");
    entry = desc_new(MT_OCI_MANIFEST, digest, (int64_t)strlen(mtext));
    if (ctx->o->tag) {
        _cleanup_free_ char *norm = store_ref_normalize(ctx->o->tag);
        return store_tag(ctx->s, norm, entry, err);
    }
    return store_tag(ctx->s, NULL, entry, err);
}

int build_run(struct store *s, const struct build_opts *o, char digest[DIGEST_LEN + 1],
              struct err **err)
{
    _cleanup_free_ char *dfpath = NULL, *text = NULL;
    struct dockerfile df = {0};
    struct ctx ctx = {.s = s, .o = o, .df = &df};
    size_t len;
    int rc = -1;

    if (o->dockerfile)
        dfpath = strdup(o->dockerfile);
    else if (o->dockerfile_text)
        dfpath = strdup("Dockerfile");
    else if (asprintf(&dfpath, "%s/Dockerfile", o->context) < 0)
        dfpath = NULL;
    if (dfpath == NULL)
        return err_set(err, ENOMEM, "build");
    if (o->tag && ref_check_tag(o->tag, err) < 0)
        return err_wrap(err, "-t");
    if (o->dockerfile_text) {
        len = strlen(o->dockerfile_text);
        if ((text = strdup(o->dockerfile_text)) == NULL)
            return err_set(err, ENOMEM, "build");
    } else if (fs_read_file(dfpath, &text, &len, err) < 0) {
        return -1;
    }
    if (dockerfile_parse(dfpath, text, &df, err) < 0)
        return -1;
    ctx.global_args = json_object();
    ctx.build_args = json_object();
    for (char *const *a = o->build_args; a && *a; a++) {
        const char *eq = strchr(*a, '=');
        if (eq)
            json_object_setn_new(ctx.build_args, *a, (size_t)(eq - *a), json_string(eq + 1));
    }
    if (build_copy_load_ignore(&ctx, err) < 0)
        goto out;
    for (size_t i = 0; i < df.n; i++) {
        const struct df_insn *in = &df.insns[i];
        struct stage *st = ctx.n_stages ? &ctx.stages[ctx.n_stages - 1] : NULL;
        int r;

        printf("STEP %zu/%zu: %s %s\n", i + 1, df.n, in->cmd, in->rest);
        fflush(stdout);
        if (strcmp(in->cmd, "FROM") == 0) {
            if (st && o->target && st->name && strcmp(st->name, o->target) == 0)
                break;
            r = do_from(&ctx, in, err);
        } else if (st == NULL) {
            /* ARG before the first FROM: global, for FROM lines. */
            _cleanup_strv_ char **w = NULL;
            r = dockerfile_words(in->rest, &w, err);
            for (char **p = w; r == 0 && *p; p++) {
                char *eq = strchr(*p, '=');
                if (eq)
                    *eq = '\0';
                json_t *given = json_object_get(ctx.build_args, *p);
                if (given)
                    json_object_set(ctx.global_args, *p, given);
                else if (eq)
                    json_object_set_new(ctx.global_args, *p, json_string(eq + 1));
            }
        } else if (strcmp(in->cmd, "RUN") == 0) {
            r = do_run(&ctx, st, in, err);
        } else if (strcmp(in->cmd, "COPY") == 0 || strcmp(in->cmd, "ADD") == 0) {
            r = build_copy_run(&ctx, st, in, strcmp(in->cmd, "ADD") == 0, err);
        } else if (strcmp(in->cmd, "HEALTHCHECK") == 0) {
            r = build_healthcheck(&ctx, st, in, err);
        } else if (strcmp(in->cmd, "ONBUILD") == 0) {
            fprintf(stderr, "%s:%d:%d: warning: %s is ignored\n", dfpath, in->line, in->col,
                    in->cmd);
            r = 0;
        } else {
            r = do_meta(&ctx, st, in, err);
        }
        if (r < 0)
            goto out;
    }
    {
        struct stage *last = &ctx.stages[ctx.n_stages - 1];
        if (o->target) {
            last = NULL;
            for (size_t i = 0; i < ctx.n_stages; i++)
                if (ctx.stages[i].name && strcmp(ctx.stages[i].name, o->target) == 0)
                    last = &ctx.stages[i];
            if (last == NULL) {
                err_val(err, ENOENT, "%s: no stage named `%s`", dfpath, o->target);
                goto out;
            }
        }
        rc = commit_image(&ctx, last, digest, err);
    }
out:
    for (size_t i = 0; i < ctx.n_stages; i++)
        stage_release(&ctx.stages[i]);
    free(ctx.stages);
    json_decref(ctx.global_args);
    json_decref(ctx.build_args);
    json_decref(ctx.ignore);
    dockerfile_release(&df);
    return rc;
}

int build_reap_stale(struct store *s, const struct build_step_ops *steps, struct err **err)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;

    if (steps == NULL || steps->reap == NULL)
        return 0;
    if (asprintf(&tmp, "%s/tmp", s->root) < 0)
        return err_set(err, ENOMEM, "reap");
    d = opendir(tmp);
    if (d == NULL)
        return errno == ENOENT ? 0 : err_sys(err, "open `%s`", tmp);
    while ((de = readdir(d)) != NULL) {
        _cleanup_free_ char *dir = NULL;

        if (strncmp(de->d_name, "build-", 6) != 0 || asprintf(&dir, "%s/%s", tmp, de->d_name) < 0)
            continue;
        steps->reap(steps->data, dir);
    }
    return 0;
}
