/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --dns, --dns-search and --add-host, recorded in the composed config's
 * annotations so that every later wiring (`isola system boot` after a host
 * reboot) writes the same /etc/resolv.conf and /etc/hosts as the first one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ctr_net.h"
#include "util/cleanup.h"
#include "util/js.h"

static int annotate_list(json_t *ann, const char *key, char *const *v, struct err **err)
{
    _cleanup_json_ json_t *a = NULL;
    _cleanup_free_ char *text = NULL;

    if (!v || !v[0])
        return 0;
    if (!(a = json_array()))
        return err_set(err, ENOMEM, "config.json: annotation %s", key);
    for (size_t i = 0; v[i]; i++)
        if (json_array_append_new(a, json_string(v[i])) < 0)
            return err_set(err, ENOMEM, "config.json: annotation %s", key);
    if (!(text = json_dumps(a, JSON_COMPACT)) ||
        json_object_set_new(ann, key, json_string(text)) < 0)
        return err_set(err, ENOMEM, "config.json: annotation %s", key);
    return 0;
}

int ctr_net_annotate_opts(json_t *spec, const struct ctr_net_opts *o, struct err **err)
{
    json_t *ann = json_object_get(spec, "annotations");

    if (!ann)
        return err_set(err, EINVAL, "config.json: no annotations");
    if (annotate_list(ann, CTR_ANN_DNS, o->dns, err) < 0 ||
        annotate_list(ann, CTR_ANN_DNS_SEARCH, o->dns_search, err) < 0 ||
        annotate_list(ann, CTR_ANN_ADD_HOSTS, o->add_host, err) < 0)
        return -1;
    return 0;
}

char **ctr_net_opts_load(json_t *annotations, const char *key)
{
    const char *text = json_string_value(json_object_get(annotations, key));
    _cleanup_json_ json_t *a = NULL;
    char **v;
    json_t *s;
    size_t i;

    if (!text || !(a = json_loads(text, 0, NULL)) || !json_is_array(a))
        return NULL;
    if (!(v = calloc(json_array_size(a) + 1, sizeof(char *))))
        return NULL;
    json_array_foreach (a, i, s) {
        if (!(v[i] = strdup(json_string_value(s) ?: ""))) {
            strv_free(v);
            return NULL;
        }
    }
    return v;
}
