#!/bin/sh
# README's main job: install the Debian packages, build isola, build a busybox
# root filesystem, make it an image in isola's store (`isola import`) and run a
# command in a container from that image (overlayfs of its read-only layer and
# a private upper layer), printing what the container sees (its hostname, its
# user, its memory limit, its processes).
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
image=isola-demo/busybox:latest
echo "+ isola import $rootfs $image" >&2
./build/src/cli/isola import "$rootfs" "$image" >/dev/null
echo "+ isola run --rm -m 64m --hostname isola-demo $image $*" >&2
exec ./build/src/cli/isola run --rm -m 64m --hostname isola-demo "$image" "$@"
