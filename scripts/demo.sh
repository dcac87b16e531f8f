#!/bin/sh
# README's main job: install the Debian packages, build isola, build a busybox
# root filesystem and run a command in a container, printing what the container
# sees (its hostname, its user, its memory limit, its processes).
#   scripts/demo.sh [CMD...]      default: a short tour inside the container
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
rootfs=build/fixtures/rootfs
if [ ! -x "$rootfs/bin/busybox" ]; then
    tests/fixtures/mkrootfs.sh "$rootfs"
fi
if [ $# -eq 0 ]; then
    set -- sh -c 'echo "hello from isola"; echo "hostname: $(hostname)"; echo "id: $(id)";
        echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.max 2>/dev/null ||
            cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null ||
            cat /sys/fs/cgroup/memory.max)";
        echo "processes:"; ps -o pid,user,args'
fi
echo "+ isola run --rm -m 64m --hostname isola-demo $rootfs $*" >&2
exec ./build/src/cli/isola run --rm -m 64m --hostname isola-demo "$rootfs" "$@"
