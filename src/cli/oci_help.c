/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `isola-oci VERB --help`: each verb's usage and options, in one table. */
#include <stdio.h>
#include <string.h>

#include "cli/oci.h"

static const struct {
    const char *verb;
    const char *text;
} helps[] = {
    {"start", "Usage: isola-oci start ID\n\n"
              "Start the process of a created container (it waits in `create` until then).\n"},
    {"state", "Usage: isola-oci state ID\n\n"
              "Print the state of a container as JSON (runtime-spec \"State\").\n"},
    {"kill", "Usage: isola-oci kill [--all] ID [SIGNAL]\n"
             "       isola-oci kill --regex REGEX [SIGNAL]\n\n"
             "Send SIGNAL (a name or number, default TERM) to a container's init.\n\n"
             "Options:\n"
             "  -a, --all     send it to every process of the container\n"
             "  -r, --regex   the argument is an extended regular expression: signal every\n"
             "                container whose id matches it (crun)\n"},
    {"delete", "Usage: isola-oci delete [--force] ID\n"
               "       isola-oci delete [--force] --regex REGEX\n\n"
               "Delete a stopped (or created) container and its state.\n\n"
               "Options:\n"
               "  -f, --force   kill a running container first; a missing one is no error\n"
               "  -r, --regex   the argument is an extended regular expression: delete every\n"
               "                container whose id matches it (crun)\n"},
    {"list", "Usage: isola-oci list [--format table|json] [--quiet]\n\n"
             "List the containers under --root.\n\n"
             "Options:\n"
             "  -f, --format table|json   output format (default table); json prints runc's\n"
             "                            fields: ociVersion, id, pid, status, bundle, rootfs,\n"
             "                            created, owner (and annotations when set)\n"
             "  -q, --quiet               print only the ids\n"},
    {"ps", "Usage: isola-oci ps [--format table|json] ID\n\n"
           "List the processes of a container.\n\n"
           "Options:\n"
           "  -f, --format table|json   output format (default table; json: an array of pids)\n"},
    {"exec", "Usage: isola-oci exec [OPTIONS] ID [COMMAND ARG...]\n"
             "       isola-oci exec [OPTIONS] --process FILE ID\n\n"
             "Run a process in a running container.\n\n"
             "Options:\n"
             "  -p, --process FILE         a runtime-spec process JSON\n"
             "  -d, --detach               do not wait for the process\n"
             "  -t, --tty                  allocate a pseudo-terminal\n"
             "      --console-socket SOCK  send the terminal's master fd to this socket\n"
             "      --pid-file FILE        write the process's pid to FILE\n"
             "      --cwd DIR              working directory\n"
             "  -e, --env NAME=VALUE       set an environment variable (repeatable)\n"
             "  -u, --user UID[:GID]       user to run as\n"
             "  -g, --additional-gids GID  an extra group (repeatable)\n"
             "  -c, --cap CAP              add a capability (repeatable)\n"
             "      --no-new-privs         set no_new_privs\n"
             "      --preserve-fds N       pass N extra fds from 3 on\n"
             "      --process-label LABEL  accepted and ignored (no SELinux)\n"
             "      --apparmor PROFILE     accepted and ignored (no AppArmor)\n"
             "      --ignore-paused        accepted (runc)\n"},
    {"pause", "Usage: isola-oci pause ID\n\n"
              "Freeze every process of a container (cgroup freezer).\n"},
    {"resume", "Usage: isola-oci resume ID\n\n"
               "Thaw a paused container.\n"},
    {"update", "Usage: isola-oci update [OPTIONS] ID\n\n"
               "Update a container's resource limits.\n\n"
               "Options:\n"
               "  -r, --resources FILE|-       runtime-spec linux.resources JSON (- for stdin)\n"
               "      --memory SIZE            memory limit (bytes, or 64m, 1g: runc's units)\n"
               "      --memory-reservation SIZE\n"
               "      --memory-swap SIZE       memory+swap limit (-1: unlimited)\n"
               "      --cpu-shares N\n"
               "      --cpu-quota USEC\n"
               "      --cpu-period USEC\n"
               "      --cpuset-cpus LIST\n"
               "      --cpuset-mems LIST\n"
               "      --pids-limit N\n"
               "      --blkio-weight N\n"},
    {"spec", "Usage: isola-oci spec [--bundle DIR] [--rootless]\n\n"
             "Write a default config.json into the bundle directory.\n\n"
             "Options:\n"
             "  -b, --bundle DIR   where to write it (default .)\n"
             "      --rootless     a config for a user namespace, as runc's\n"},
    {"features", "Usage: isola-oci features\n\n"
                 "Print the runtime-spec features document (JSON) of this runtime.\n"},
};

int oci_help(const char *verb)
{
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
        if (strcmp(helps[i].verb, verb) == 0) {
            fputs(helps[i].text, stdout);
            return 0;
        }
    printf("Usage: isola-oci %s\n", verb);
    return 0;
}
