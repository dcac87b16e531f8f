/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola system df / prune's data (system.h). */
#include "engine/system.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/volume.h"
#include "image/image.h"
#include "util/cleanup.h"
#include "util/js.h"

int64_t sys_container_size(const struct ctr_env *env, const char *id)
{
    _cleanup_free_ char *p = NULL;

    if (asprintf(&p, "%s/containers/%s/upper", env->state_root, id) < 0)
        return 0;
    return (int64_t)volume_path_size(p);
}

/* "sha256:HEX" and "HEX" name the same image. */
static bool same_id(const char *a, const char *b)
{
    if (strncmp(a, "sha256:", 7) == 0)
        a += 7;
    if (strncmp(b, "sha256:", 7) == 0)
        b += 7;
    return *a && strcmp(a, b) == 0;
}

static int strv_push(char ***v, const char *s)
{
    size_t n = 0;
    while (*v && (*v)[n])
        n++;
    char **nv = realloc(*v, (n + 2) * sizeof(char *));
    if (!nv)
        return -1;
    *v = nv;
    if (!(nv[n] = strdup(s)))
        return -1;
    nv[n + 1] = NULL;
    return 0;
}

/* The store's images, one per config digest with all its tags; reach[i] is
 * the object digest -> size of the blobs image i reaches. */
static int list_images(struct store *s, struct sys_image **out, size_t *n, json_t ***reach,
                       struct err **err)
{
    _cleanup_json_ json_t *index = NULL;
    struct sys_image *v = NULL;
    json_t **r = NULL, *e;
    size_t k = 0, i;

    if (store_index_load(s, &index, err) < 0)
        return -1;
    size_t cap = json_array_size(json_object_get(index, "manifests"));
    v = calloc(cap + 1, sizeof(*v));
    r = calloc(cap + 1, sizeof(*r));
    if (!v || !r) {
        free(v);
        free(r);
        return err_set(err, ENOMEM, "list images");
    }
    json_array_foreach (json_object_get(index, "manifests"), i, e) {
        _cleanup_image_ struct image *img = NULL;
        struct err *e2 = NULL;
        const char *created = NULL;
        size_t j;

        if (image_open_entry(s, e, NULL, &img, &e2) < 0) {
            err_free(&e2); /* a broken entry: `isola image check` says why */
            continue;
        }
        for (j = 0; j < k && strcmp(v[j].id, img->m.config.digest) != 0; j++) {
        }
        if (j == k) {
            snprintf(v[k].id, sizeof(v[k].id), "%s", img->m.config.digest);
            js_get_str(img->config, "config", "created", false, &created, NULL);
            v[k].created = strdup(created ? created : "");
            v[k].size = image_size(img);
            r[k] = json_object();
            if (!v[k].created || !r[k] || store_reach(s, e, r[k], &e2) < 0)
                err_free(&e2);
            /* config and layers, as the image's size: not the manifest */
            json_object_del(r[k], json_string_value(json_object_get(e, "digest")) ?: "");
            k++;
        }
        if (img->ref && strv_push(&v[j].refs, img->ref) < 0)
            goto oom;
    }
    *out = v;
    *n = k;
    *reach = r;
    return 0;
oom:
    for (size_t j = 0; j < k; j++) {
        strv_free(v[j].refs);
        free(v[j].created);
        json_decref(r[j]);
    }
    free(v);
    free(r);
    return err_set(err, ENOMEM, "list images");
}

/* Bytes of the blobs in `of` (digest -> size) that `in` has too, or all of
 * them when in is NULL. */
static int64_t reach_bytes(json_t *of, json_t *in)
{
    const char *d;
    json_t *sz;
    int64_t sum = 0;

    json_object_foreach (of, d, sz) {
        if (!in || json_object_get(in, d))
            sum += json_integer_value(sz) > 0 ? json_integer_value(sz) : 0;
    }
    return sum;
}

static int df_volumes(struct db *db, struct sys_df *df, struct err **err)
{
    struct db_volume **vl = NULL;
    size_t nv = 0;

    if (db_volume_list(db, &vl, &nv, err) < 0)
        return -1;
    df->vols = calloc(nv + 1, sizeof(*df->vols));
    if (!df->vols) {
        db_volume_list_free(vl, nv);
        return err_set(err, ENOMEM, "list volumes");
    }
    for (size_t i = 0; i < nv; i++) {
        _cleanup_free_ char *users = NULL;
        struct sys_volume *sv = &df->vols[df->n_vols++];

        sv->v = vl[i];
        sv->size = (int64_t)volume_path_size(vl[i]->mountpoint);
        if (db_volume_users(db, vl[i]->name, &users, err) < 0) {
            free(vl);
            return -1;
        }
        /* ", "-joined ids */
        for (char *p = users; p && *p;) {
            char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            sv->links++;
            for (size_t c = 0; c < df->n_ctrs; c++)
                if (strlen(df->ctrs[c].c->id) == len && strncmp(df->ctrs[c].c->id, p, len) == 0)
                    df->ctrs[c].volumes++;
            p = end ? end + 1 + (end[1] == ' ') : NULL;
        }
    }
    free(vl);
    return 0;
}

int sys_df(struct db *db, const struct ctr_env *env, struct store *s, struct sys_df *out,
           struct err **err)
{
    struct sys_df df = {0};
    struct db_container **cl = NULL;
    json_t **reach = NULL;
    size_t nc = 0;

    if (ctr_list_brief(db, env, true, &cl, &nc, err) < 0)
        return err_wrap(err, "system df");
    df.ctrs = calloc(nc + 1, sizeof(*df.ctrs));
    if (!df.ctrs) {
        db_container_list_free(cl, nc);
        return err_set(err, ENOMEM, "system df");
    }
    for (size_t i = 0; i < nc; i++) {
        df.ctrs[i].c = cl[i];
        df.ctrs[i].size = sys_container_size(env, cl[i]->id);
    }
    df.n_ctrs = nc;
    free(cl);
    if (df_volumes(db, &df, err) < 0 || list_images(s, &df.images, &df.n_images, &reach, err) < 0) {
        sys_df_free(&df);
        return err_wrap(err, "system df");
    }
    _cleanup_json_ json_t *all = json_object(), *used = json_object();
    for (size_t i = 0; i < df.n_images; i++) {
        struct sys_image *im = &df.images[i];
        for (size_t c = 0; c < df.n_ctrs; c++)
            im->containers += same_id(df.ctrs[c].c->image_id, im->id);
        json_object_update(all, reach[i]);
        if (im->containers)
            json_object_update(used, reach[i]);
    }
    for (size_t i = 0; i < df.n_images; i++) {
        /* what another image reaches too */
        _cleanup_json_ json_t *others = json_object();
        for (size_t j = 0; j < df.n_images; j++)
            if (j != i)
                json_object_update(others, reach[j]);
        int64_t shared = reach_bytes(reach[i], others);
        df.images[i].shared = shared < df.images[i].size ? shared : df.images[i].size;
        json_decref(reach[i]);
    }
    free(reach);
    df.images_size = reach_bytes(all, NULL);
    df.images_reclaimable = df.images_size - reach_bytes(used, NULL);
    *out = df;
    return 0;
}

void sys_df_free(struct sys_df *df)
{
    for (size_t i = 0; i < df->n_images; i++) {
        strv_free(df->images[i].refs);
        free(df->images[i].created);
    }
    free(df->images);
    for (size_t i = 0; i < df->n_ctrs; i++)
        db_container_free(df->ctrs[i].c);
    free(df->ctrs);
    for (size_t i = 0; i < df->n_vols; i++)
        db_volume_free(df->vols[i].v);
    free(df->vols);
    memset(df, 0, sizeof(*df));
}

int sys_prune_images(struct db *db, struct store *s, bool all,
                     void (*report)(void *arg, const char *line), void *arg, struct err **err)
{
    struct sys_image *v = NULL;
    json_t **reach = NULL;
    struct db_container **cl = NULL;
    size_t n = 0, nc = 0;
    int rc = 0;

    /* every row, not only synced ones: a container of any state keeps its
     * image, as Docker's */
    if (db_container_list_brief(db, true, &cl, &nc, err) < 0 ||
        list_images(s, &v, &n, &reach, err) < 0) {
        db_container_list_free(cl, nc);
        return err_wrap(err, "prune images");
    }
    for (size_t i = 0; i < n; i++) {
        struct sys_image *im = &v[i];
        bool used = false, dangling = !im->refs || !im->refs[0];
        char line[512];

        for (size_t c = 0; c < nc && !used; c++)
            used = same_id(cl[c]->image_id, im->id);
        if (used || (!all && !dangling))
            continue;
        for (size_t t = 0; im->refs && im->refs[t]; t++) {
            if (store_untag(s, im->refs[t], err) < 0) {
                rc = -1;
                goto out;
            }
            snprintf(line, sizeof(line), "untagged: %s", im->refs[t]);
            report(arg, line);
        }
        /* untagged entries of it that are left (a dangling image's) */
        struct err *e2 = NULL;
        if (store_untag(s, im->id, &e2) < 0)
            err_free(&e2);
        snprintf(line, sizeof(line), "deleted: %s", im->id);
        report(arg, line);
    }
out:
    for (size_t i = 0; i < n; i++) {
        strv_free(v[i].refs);
        free(v[i].created);
        json_decref(reach[i]);
    }
    free(v);
    free(reach);
    db_container_list_free(cl, nc);
    return rc < 0 ? err_wrap(err, "prune images") : 0;
}

int64_t sys_image_size(struct store *s, const char *image_id)
{
    _cleanup_image_ struct image *img = NULL;
    struct err *e = NULL;

    if (!s || !image_id || !*image_id || image_open(s, image_id, NULL, &img, &e) < 0) {
        err_free(&e);
        return 0;
    }
    return image_size(img);
}
