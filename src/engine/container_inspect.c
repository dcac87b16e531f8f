/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Docker's inspect fields that users script against and that the composed
 * config does not carry as such: what create was asked (-u, --entrypoint,
 * --privileged, --cap-add/--cap-drop), recorded in the annotation
 * CTR_ANN_INSPECT, and what follows from the config (ExposedPorts,
 * PortBindings, Binds, the /etc files' paths, NetworkMode).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/container.h"
#include "engine/ctr_net.h"
#include "util/cleanup.h"
#include "util/js.h"

static json_t *strv_json(char *const *v)
{
    json_t *a;

    if (!v || !v[0])
        return json_null();
    a = json_array();
    for (size_t i = 0; a && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a ? a : json_null();
}

int ctr_inspect_annotate(json_t *spec, const struct compose_opts *co, json_t *image_config,
                         struct err **err)
{
    json_t *ann = json_object_get(spec, "annotations");
    json_t *icfg = json_object_get(image_config, "config");
    json_t *ep;
    _cleanup_json_ json_t *rec = NULL;
    _cleanup_free_ char *text = NULL;

    if (co->entrypoint)
        ep = *co->entrypoint ? json_pack("[s]", co->entrypoint) : json_null();
    else if (json_array_size(json_object_get(icfg, "Entrypoint")))
        ep = json_deep_copy(json_object_get(icfg, "Entrypoint"));
    else
        ep = json_null();
    rec = json_pack("{s:s, s:o, s:b, s:o, s:o}", "User",
                    co->user ? co->user : json_string_value(json_object_get(icfg, "User")) ?: "",
                    "Entrypoint", ep, "Privileged", co->privileged, "CapAdd",
                    strv_json(co->cap_add), "CapDrop", strv_json(co->cap_drop));
    if (!ann || !rec || !(text = json_dumps(rec, JSON_COMPACT)) ||
        json_object_set_new(ann, CTR_ANN_INSPECT, json_string(text)) < 0)
        return err_set(err, ENOMEM, "config.json: annotation %s", CTR_ANN_INSPECT);
    return 0;
}

/* "80/tcp" keys: the image's EXPOSE and the published ports. */
static json_t *inspect_exposed(json_t *ann, json_t *ports)
{
    const char *img =
        json_string_value(json_object_get(ann, "org.opencontainers.image.exposedPorts"));
    json_t *o = json_object(), *p;
    size_t i;
    char key[64];

    while (img && *img) {
        size_t n = strcspn(img, ",");
        snprintf(key, sizeof(key), "%.*s%s", (int)n, img, memchr(img, '/', n) ? "" : "/tcp");
        json_object_set_new(o, key, json_object());
        img += n + (img[n] == ',');
    }
    json_array_foreach (ports, i, p) {
        snprintf(key, sizeof(key), "%lld/%s",
                 (long long)json_integer_value(json_object_get(p, "ctrPort")),
                 json_string_value(json_object_get(p, "proto")) ?: "tcp");
        json_object_set_new(o, key, json_object());
    }
    return o;
}

/* {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} */
static json_t *inspect_bindings(json_t *ports)
{
    json_t *o = json_object(), *p;
    size_t i;
    char key[64], hp[16];

    json_array_foreach (ports, i, p) {
        snprintf(key, sizeof(key), "%lld/%s",
                 (long long)json_integer_value(json_object_get(p, "ctrPort")),
                 json_string_value(json_object_get(p, "proto")) ?: "tcp");
        snprintf(hp, sizeof(hp), "%lld",
                 (long long)json_integer_value(json_object_get(p, "hostPort")));
        json_t *l = json_object_get(o, key);
        if (!l) {
            l = json_array();
            json_object_set_new(o, key, l);
        }
        /* Docker's: "" for all addresses, as -p without an address asks */
        const char *hip = json_string_value(json_object_get(p, "hostIp")) ?: "";
        json_array_append_new(l, json_pack("{s:s, s:s}", "HostIp",
                                           strcmp(hip, "0.0.0.0") == 0 ? "" : hip, "HostPort", hp));
    }
    return o;
}

/* Docker's "SRC:DST[:ro]" (a volume: "NAME:DST"), from inspect's Mounts. */
static json_t *inspect_binds(json_t *mounts)
{
    json_t *a = json_array(), *m;
    size_t i;
    char *s;

    json_array_foreach (mounts, i, m) {
        const char *name = json_string_value(json_object_get(m, "Name"));
        if (asprintf(&s, "%s:%s%s", name ? name : json_string_value(json_object_get(m, "Source")),
                     json_string_value(json_object_get(m, "Destination")),
                     json_is_false(json_object_get(m, "RW")) ? ":ro" : "") < 0)
            continue;
        json_array_append_new(a, json_string(s));
        free(s);
    }
    if (json_array_size(a) == 0) {
        json_decref(a);
        return json_null();
    }
    return a;
}

static void set_path(json_t *doc, const char *key, const char *rundir, const char *file)
{
    _cleanup_free_ char *p = NULL;

    if (rundir && asprintf(&p, "%s/%s", rundir, file) >= 0)
        json_object_set_new(doc, key, json_string(p));
    else
        json_object_set_new(doc, key, json_string(""));
}

void ctr_inspect_compat(json_t *doc, json_t *cfg, const struct ctr_env *env,
                        const struct db_container *c)
{
    json_t *ann = json_object_get(cfg, "annotations");
    json_t *conf = json_object_get(doc, "Config"), *hc = json_object_get(doc, "HostConfig");
    const char *text = json_string_value(json_object_get(ann, CTR_ANN_INSPECT));
    _cleanup_json_ json_t *rec = text ? json_loads(text, 0, NULL) : NULL;
    _cleanup_json_ json_t *ports = ctr_net_ports_load(ann);
    _cleanup_free_ char *rundir = ctr_run_dir(env, c->id);
    const char *net = json_string_value(json_object_get(ann, CTR_ANN_NETWORK));
    if (!conf || !hc)
        return;
    json_t *ep = json_object_get(rec, "Entrypoint");
    json_object_set_new(conf, "User",
                        json_string(json_string_value(json_object_get(rec, "User")) ?: ""));
    json_object_set_new(conf, "Entrypoint", ep ? json_deep_copy(ep) : json_null());
    json_t *exp = inspect_exposed(ann, ports);
    if (json_object_size(exp))
        json_object_set_new(conf, "ExposedPorts", exp);
    else
        json_decref(exp);
    const char *stdin_ann = json_string_value(json_object_get(ann, CTR_ANN_OPEN_STDIN));
    json_object_set_new(conf, "OpenStdin",
                        json_boolean(stdin_ann && strcmp(stdin_ann, "true") == 0));
    json_object_set_new(hc, "Privileged",
                        json_boolean(json_is_true(json_object_get(rec, "Privileged"))));
    json_object_set_new(
        hc, "ReadonlyRootfs",
        json_boolean(json_is_true(json_object_get(json_object_get(cfg, "root"), "readonly"))));
    json_t *ca = json_object_get(rec, "CapAdd"), *cd = json_object_get(rec, "CapDrop");
    json_object_set_new(hc, "CapAdd", ca ? json_deep_copy(ca) : json_null());
    json_object_set_new(hc, "CapDrop", cd ? json_deep_copy(cd) : json_null());
    json_object_set_new(hc, "NetworkMode", json_string(net ? net : "none"));
    json_object_set_new(hc, "PortBindings", inspect_bindings(ports));
    json_object_set_new(hc, "Binds", inspect_binds(json_object_get(doc, "Mounts")));
    set_path(doc, "ResolvConfPath", rundir, "resolv.conf");
    set_path(doc, "HostsPath", rundir, "hosts");
    set_path(doc, "HostnamePath", rundir, "hostname");
    json_object_set_new(doc, "Platform", json_string("linux"));
    json_object_set_new(doc, "Driver", json_string("overlay2"));
}
