/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isola port CONTAINER [PORT[/PROTO]]: its published ports, as docker port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctr_cli.h"
#include "engine/ctr_net.h"
#include "util/cleanup.h"
#include "util/js.h"

int cmd_port(int argc, char **argv)
{
    _cleanup_db_container_ struct db_container *c = NULL;
    _cleanup_json_ json_t *cfg = NULL, *ports = NULL;
    struct ctr_cli cli;
    struct err *e = NULL;
    int rc = 0, shown = 0;
    size_t i;
    json_t *j;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: isola port CONTAINER [PORT[/PROTO]]\n"
               "Lists the container's published ports (-p), one `80/tcp -> 0.0.0.0:8080` a\n"
               "line; with PORT, only the host addresses of that one.\n");
        return 0;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "isola port: expected CONTAINER [PORT[/PROTO]]\n");
        return 125;
    }
    if (ctr_cli_open(&cli, "isola port") < 0)
        return 1;
    if (ctr_get(cli.db, &cli.env, argv[1], &c, &e) < 0 ||
        js_load_buf(c->config, strlen(c->config), "config", &cfg, &e) < 0) {
        ctr_cli_error("isola port", e);
        err_free(&e);
        ctr_cli_close(&cli);
        return 1;
    }
    ports = ctr_net_ports_load(json_object_get(cfg, "annotations"));
    json_array_foreach (ports, i, j) {
        char key[32];
        const char *proto = json_string_value(json_object_get(j, "proto")) ?: "tcp";
        int cp = (int)json_integer_value(json_object_get(j, "ctrPort"));
        snprintf(key, sizeof(key), "%d/%s", cp, proto);
        if (argc == 3 && strcmp(argv[2], key) != 0 &&
            !(strchr(argv[2], '/') == NULL && atoi(argv[2]) == cp && strcmp(proto, "tcp") == 0))
            continue;
        if (argc == 3)
            printf("%s:%d\n", json_string_value(json_object_get(j, "hostIp")) ?: "",
                   (int)json_integer_value(json_object_get(j, "hostPort")));
        else
            printf("%s -> %s:%d\n", key, json_string_value(json_object_get(j, "hostIp")) ?: "",
                   (int)json_integer_value(json_object_get(j, "hostPort")));
        shown++;
    }
    if (argc == 3 && shown == 0) {
        fprintf(stderr, "Error: No public port '%s%s' published for %s\n", argv[2],
                strchr(argv[2], '/') ? "" : "/tcp", argv[1]);
        rc = 1;
    }
    ctr_cli_close(&cli);
    return rc;
}
