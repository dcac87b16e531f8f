/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * isola: the docker-like command line. Each command lives in its own
 * cmd_*.c file (parse arguments, call the library, print); this file only
 * dispatches through the table below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/ctr_cli.h"
#include "image/store.h"
#include "runtime/cgroup.h"

int cmd_compare(int argc, char **argv);
int cmd_network(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_volume(int argc, char **argv);

static int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: isola version\n       isola --version\n\nPrint the version of isola.\n");
        return 0;
    }
    printf("isola version %s\n", ISOLA_VERSION);
    return 0;
}

static const struct isola_command commands[] = {
    {"attach", cmd_attach, "attach to a running container's input and output"},
    {"build", cmd_build, "build an image from a Dockerfile"},
    {"bundle", cmd_bundle, "make an OCI runtime bundle from an image"},
    {"compare", cmd_compare,
     "run a workload as a container, in a microVM and as a VM, and measure each"},
    {"container", cmd_container, "manage containers (ls, inspect, prune, ...)"},
    {"cp", cmd_cp, "copy files between a container and the host (or a tar stream)"},
    {"create", cmd_create, "create a container from an image, not started"},
    {"exec", cmd_exec, "run a command in a running container"},
    {"healthcheck", cmd_healthcheck, "run a container's health check now (healthcheck run CTR)"},
    {"image", cmd_image, "manage images (prune, check, ls, inspect, rm)"},
    {"images", cmd_images, "list images"},
    {"import", cmd_import, "make an image from a root filesystem (directory or tar)"},
    {"inspect", cmd_inspect, "show a container's or an image's details (JSON)"},
    {"kill", cmd_kill, "send a signal to containers"},
    {"logs", cmd_logs, "print a container's output"},
    {"load", cmd_load, "load images from an OCI layout or docker-archive"},
    {"network", cmd_network,
     "manage networks (create, ls, inspect, connect, disconnect, rm, prune)"},
    {"pause", cmd_pause, "freeze every process of containers"},
    {"ps", cmd_ps, "list containers"},
    {"pull", cmd_pull, "pull an image from a registry"},
    {"push", cmd_push, "push an image to a registry"},
    {"rename", cmd_rename, "rename a container"},
    {"restart", cmd_restart, "stop and start containers"},
    {"rm", cmd_rm, "remove containers"},
    {"port", cmd_port, "list a container's published ports"},
    {"rmi", cmd_rmi, "remove images"},
    {"run", cmd_run, "run a command in a container from an IMAGE or a root filesystem directory"},
    {"start", cmd_start, "start containers"},
    {"stats", cmd_stats, "show containers' resource usage (CPU, memory, I/O, pids)"},
    {"stop", cmd_stop, "stop containers"},
    {"save", cmd_save, "save images as an OCI layout or docker-archive"},
    {"system", cmd_system, "engine-wide housekeeping (boot, df, prune)"},
    {"tag", cmd_tag, "give an image another name"},
    {"top", cmd_top, "show the processes of a container (the host's ps)"},
    {"unpause", cmd_unpause, "thaw paused containers"},
    {"version", cmd_version, "print the version"},
    {"volume", cmd_volume, "manage volumes (create, ls, inspect, rm, prune)"},
    {"wait", cmd_wait, "wait for containers to stop, print their exit codes"},
    {"vm", cmd_vm,
     "run and manage KVM microVMs (run, ls, stop, pause, snapshot, restore, ...; isola vm --help)"},
};

/* The libraries take parameters; the environment is read here (docs/design.md). */
const char *cli_store_root(const char *opt)
{
    return store_default_root(opt && *opt ? opt : getenv("ISOLA_ROOT"));
}

static void usage(FILE *fp)
{
    fprintf(fp, "Usage: isola [--help] [--version] COMMAND [ARG...]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(fp, "  %-10s  %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "\nRun `isola COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    const char *cgroot = getenv("ISOLA_CGROUP_ROOT");
    if (cgroot != NULL && cgroot[0] == '/' && cgroup_set_root(cgroot, NULL) < 0)
        return 1;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "isola: unknown command `%s` (see `isola --help`)\n", argv[1]);
    return 2;
}
