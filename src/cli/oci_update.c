/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola-oci update [--resources FILE|-] [limit flags] ID (runc's flags). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci.h"
#include "runtime/container.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/js.h"
#include "util/size.h"

/* Set obj.section.key to an integer parsed from s. */
static int set_int(json_t *res, const char *section, const char *key, const char *s,
                   struct err **err)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (*s == '\0' || *end != '\0')
        return err_val(err, EINVAL, "--%s: `%s` is not an integer", key, s);
    json_t *sec = json_object_get(res, section);
    if (sec == NULL) {
        sec = json_object();
        json_object_set_new(res, section, sec);
    }
    return json_object_set_new(sec, key, json_integer(v));
}

/* Set obj.section.key to a size (runc's units.RAMInBytes: util/size.h), or -1. */
static int set_size(json_t *res, const char *section, const char *key, const char *flag,
                    const char *s, struct err **err)
{
    int64_t v = -1;

    if (strcmp(s, "-1") != 0 && size_parse(s, 1, &v, err) < 0)
        return err_wrap(err, "--%s", flag);
    json_t *sec = json_object_get(res, section);
    if (sec == NULL) {
        sec = json_object();
        json_object_set_new(res, section, sec);
    }
    return json_object_set_new(sec, key, json_integer(v));
}

int oci_update(struct oci_global *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"resources", required_argument, NULL, 'r'},
        {"memory", required_argument, NULL, 'm'},
        {"memory-reservation", required_argument, NULL, 'M'},
        {"memory-swap", required_argument, NULL, 's'},
        {"cpu-shares", required_argument, NULL, 'S'},
        {"cpu-share", required_argument, NULL, 'S'}, /* runc's and crun's spelling */
        {"cpu-rt-period", required_argument, NULL, 'R'},
        {"cpu-rt-runtime", required_argument, NULL, 'T'},
        {"cpu-quota", required_argument, NULL, 'q'},
        {"cpu-period", required_argument, NULL, 'p'},
        {"cpuset-cpus", required_argument, NULL, 'c'},
        {"cpuset-mems", required_argument, NULL, 'e'},
        {"pids-limit", required_argument, NULL, 'P'},
        {"blkio-weight", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct err *e = NULL;
    _cleanup_json_ json_t *res = json_object();
    const char *id;
    int c, rc = 0;

    while ((c = getopt_long_only(argc, argv, "r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': {
            json_t *j = NULL;
            if (strcmp(optarg, "-") == 0) {
                _cleanup_free_ char *buf = NULL;
                size_t len;
                if (fs_read_fd(0, "stdin", &buf, &len, &e) < 0 ||
                    js_load_buf(buf, len, "stdin", &j, &e) < 0)
                    return oci_fail(e);
            } else if (js_load_file(optarg, &j, &e) < 0) {
                return oci_fail(e);
            }
            if (!json_is_object(j)) {
                json_decref(j);
                err_val(&e, EINVAL, "--resources: expected a JSON object");
                return oci_fail(e);
            }
            json_object_update(res, j);
            json_decref(j);
            break;
        }
        case 'm':
            rc = set_size(res, "memory", "limit", "memory", optarg, &e);
            break;
        case 'M':
            rc = set_size(res, "memory", "reservation", "memory-reservation", optarg, &e);
            break;
        case 's':
            rc = set_size(res, "memory", "swap", "memory-swap", optarg, &e);
            break;
        case 'S':
            rc = set_int(res, "cpu", "shares", optarg, &e);
            break;
        case 'R':
            rc = set_int(res, "cpu", "realtimePeriod", optarg, &e);
            break;
        case 'T':
            rc = set_int(res, "cpu", "realtimeRuntime", optarg, &e);
            break;
        case 'q':
            rc = set_int(res, "cpu", "quota", optarg, &e);
            break;
        case 'p':
            rc = set_int(res, "cpu", "period", optarg, &e);
            break;
        case 'c':
        case 'e': {
            json_t *cpu = json_object_get(res, "cpu");
            if (cpu == NULL) {
                cpu = json_object();
                json_object_set_new(res, "cpu", cpu);
            }
            json_object_set_new(cpu, c == 'c' ? "cpus" : "mems", json_string(optarg));
            break;
        }
        case 'P':
            rc = set_int(res, "pids", "limit", optarg, &e);
            break;
        case 'b':
            rc = set_int(res, "blockIO", "weight", optarg, &e);
            break;
        case 'h':
            return oci_help("update");
        default:
            return oci_usage("update", "bad option");
        }
        if (rc < 0)
            return oci_fail(e);
    }
    if ((id = oci_id_arg("update", argc, argv)) == NULL)
        return 1;
    if (container_update(g->root, id, res, &e) < 0)
        return oci_fail(e);
    return 0;
}
