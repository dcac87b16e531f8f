/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `isola system boot`, for a system unit run once after the host boots: what
 * Docker's daemon does when it starts. Every container's row is synced (one
 * that ran when the host went down is exited, code 255: its monitor is gone),
 * the overlay of every kept container is mounted again, and the containers
 * whose policy is `always`, or `unless-stopped` and that were not stopped by
 * the user (they ran when the host went down), are started.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/container.h"
#include "engine/ctr_net.h"
#include "engine/ctr_netconn.h"
#include "image/image.h"
#include "image/layer.h"
#include "util/cleanup.h"
#include "util/js.h"

/* Mount c's overlay again when a reboot unmounted it. */
static int boot_remount(const struct ctr_env *env, struct store *s, const struct db_container *c,
                        struct err **err)
{
    _cleanup_free_ char *bundle = ctr_bundle_dir(env, c->id), *rootfs = NULL;
    _cleanup_image_ struct image *img = NULL;
    struct stat sb, sr;
    bool mounted = false;

    if (!bundle || asprintf(&rootfs, "%s/rootfs", bundle) < 0) {
        rootfs = NULL;
        return err_set(err, ENOMEM, "container %s: remount", c->id);
    }
    if (stat(bundle, &sb) < 0 || stat(rootfs, &sr) < 0 || sb.st_dev != sr.st_dev)
        return 0; /* mounted (or no bundle: nothing to do) */
    if (image_open(s, c->image_id, NULL, &img, err) < 0 ||
        layer_rootfs(s, img, bundle, false, &mounted, err) < 0)
        return err_wrap(err, "container %s: mount its root `%s` again", c->id, rootfs);
    return 0;
}

/*
 * A reboot emptied the run dir: c's network namespace, its veth and isola's
 * nft rules are gone, and so are its /etc files. Wire it again as recorded
 * in its config (network, address, published ports, --dns, --dns-search and
 * --add-host; not the first network it was disconnected from), at the same
 * paths, so
 * the composed config stays valid. Nothing to do while its files exist.
 */
static int boot_renet(struct db *db, const struct ctr_env *env, const struct db_container *c,
                      struct err **err)
{
    _cleanup_free_ char *rundir = ctr_run_dir(env, c->id), *hosts = NULL;
    _cleanup_json_ json_t *cfg = NULL, *ports = NULL;
    struct stat st;

    if (!rundir || asprintf(&hosts, "%s/hosts", rundir) < 0) {
        hosts = NULL;
        return err_set(err, ENOMEM, "container %s: network", c->id);
    }
    if (stat(hosts, &st) == 0 || c->config == NULL)
        return 0;
    if (js_load_buf(c->config, strlen(c->config), "config", &cfg, err) < 0)
        return err_wrap(err, "container %s", c->id);
    json_t *ann = json_object_get(cfg, "annotations");
    const char *net = json_string_value(json_object_get(ann, CTR_ANN_NETWORK));
    const char *ip = json_string_value(json_object_get(ann, CTR_ANN_IP));
    const char *hostname = json_string_value(json_object_get(cfg, "hostname"));
    bool netns = false;
    json_t *ns;
    size_t i;
    json_array_foreach (json_object_get(json_object_get(cfg, "linux"), "namespaces"), i, ns)
        netns =
            netns || strcmp(json_string_value(json_object_get(ns, "type")) ?: "", "network") == 0;
    ports = ctr_net_ports_load(ann);
    size_t np = json_array_size(ports);
    _cleanup_strv_ char **pub = calloc(np + 1, sizeof(char *));
    if (!pub)
        return err_set(err, ENOMEM, "container %s: network", c->id);
    json_t *pj;
    json_array_foreach (ports, i, pj) {
        const char *hip = json_string_value(json_object_get(pj, "hostIp"));
        if (asprintf(&pub[i], "%s:%lld:%lld/%s", hip && *hip ? hip : "0.0.0.0",
                     (long long)json_integer_value(json_object_get(pj, "hostPort")),
                     (long long)json_integer_value(json_object_get(pj, "ctrPort")),
                     json_string_value(json_object_get(pj, "proto")) ?: "tcp") < 0) {
            pub[i] = NULL;
            return err_set(err, ENOMEM, "container %s: network", c->id);
        }
    }
    _cleanup_strv_ char **dns = ctr_net_opts_load(ann, CTR_ANN_DNS);
    _cleanup_strv_ char **dns_search = ctr_net_opts_load(ann, CTR_ANN_DNS_SEARCH);
    _cleanup_strv_ char **add_host = ctr_net_opts_load(ann, CTR_ANN_ADD_HOSTS);
    /* `network disconnect` from its first network: the name stays, the
     * address goes; its namespace comes back, not connected to it */
    bool left = net && !ip && strcmp(net, "none") != 0 && strcmp(net, "host") != 0 &&
                strncmp(net, "container:", 10) != 0;
    const char *recorded = net;
    if (left)
        net = "none";
    struct ctr_net_opts o = {.network = net     ? net
                                        : netns ? "none"
                                                : "host",
                             .ip = ip,
                             .dns = dns,
                             .dns_search = dns_search,
                             .add_host = add_host,
                             .publish = pub};
    struct ctr_net cn = {0};
    const char *name = c->name;
    ctr_net_teardown(db, env->run_dir, c->id, recorded, ports, ip);
    if (ctr_net_setup(db, env->run_dir, rundir, c->id, name, hostname ? hostname : name, &o, NULL,
                      &cn, err) < 0)
        return err_wrap(err, "container %s: connect it again", c->id);
    ctr_net_free(&cn);
    if (left && ctr_net_ns_pin(env->run_dir, c->id, err) < 0)
        return err_wrap(err, "container %s: its network namespace", c->id);
    return ctr_netconn_restore(db, env->run_dir, c, err);
}

int ctr_system_boot(struct db *db, const struct ctr_env *env, struct store *s,
                    void (*report)(void *arg, const struct db_container *c, const char *what,
                                   struct err *e),
                    void *arg, struct err **err)
{
    struct db_container **v = NULL;
    size_t n = 0;
    int rc = 0;

    if (db_container_list(db, true, &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct db_container *c = v[i];
        struct err *e = NULL;
        bool removed = false;
        /* ran when the host went down: not stopped by the user */
        bool was_live = c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_RESTARTING ||
                        c->status == DB_STATUS_PAUSED;
        if (ctr_sync(db, env, c, &removed, &e) < 0) {
            report(arg, c, "sync", e);
            err_free(&e);
            rc = -1;
            continue;
        }
        if (removed)
            continue;
        bool live = c->status == DB_STATUS_RUNNING || c->status == DB_STATUS_RESTARTING ||
                    c->status == DB_STATUS_PAUSED;
        if (live)
            continue; /* its monitor runs: not a reboot for it */
        if (boot_remount(env, s, c, &e) < 0 || boot_renet(db, env, c, &e) < 0) {
            report(arg, c, "mount", e);
            err_free(&e);
            rc = -1;
            continue;
        }
        if (c->restart_policy == RESTART_ALWAYS ||
            (c->restart_policy == RESTART_UNLESS_STOPPED && was_live)) {
            if (ctr_start(db, env, c->id, &e) < 0) {
                report(arg, c, "start", e);
                err_free(&e);
                rc = -1;
            } else {
                report(arg, c, "started", NULL);
            }
        }
    }
    db_container_list_free(v, n);
    if (rc < 0)
        return err_val(err, EIO, "system boot: some containers failed (above)");
    return 0;
}
