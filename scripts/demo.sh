#!/bin/sh
# README's main job: install the Debian packages, build isola, build a busybox
# root filesystem, make it an image in isola's store (`isola import`) and run a
# command in a container from that image (overlayfs of its read-only layer and
# a private upper layer), printing what the container sees (its hostname, its
# user, its memory limit, its security settings, its processes). Then the
# engine: a detached container managed like Docker's (run -d, ps, logs, exec,
# stop, rm). Last, `isola compare` of the same image as a container (three runs:
# start, memory, disk, overhead, the articles' claims; docs/compare.md).
#   scripts/demo.sh [CMD...]      default: the tour above; CMD: run just CMD
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
        echo "seccomp: $(grep "^Seccomp:" /proc/self/status | cut -f2) (2: filtered)";
        echo "loopback: $(ip -o link show lo | grep -o "state [A-Z]*\|UP" | head -1)";
        echo "processes:"; ps -o pid,user,args'
    tour=1
fi
image=isola-demo/busybox:latest
echo "+ isola import $rootfs $image" >&2
./build/src/cli/isola import "$rootfs" "$image" >/dev/null
echo "+ isola run --rm -m 64m --hostname isola-demo $image $*" >&2
if [ -z "${tour:-}" ]; then
    exec ./build/src/cli/isola run --rm -m 64m --hostname isola-demo "$image" "$@"
fi
./build/src/cli/isola run --rm -m 64m --hostname isola-demo "$image" "$@"

# The engine: a detached container, its monitor keeps it after the CLI exits.
# --network none: the demo leaves the host's network as it found it (the
# default network would add the isola0 bridge and isola's nftables table).
isola() {
    echo "+ isola $*" >&2
    ./build/src/cli/isola "$@"
}
name=isola-demo-$$
trap './build/src/cli/isola rm -f "$name" >/dev/null 2>&1 || true' EXIT INT TERM
echo >&2
isola run -d --network none --name "$name" -m 64m "$image" sh -c \
    'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1; done' >/dev/null
sleep 2
isola ps
isola logs "$name"
isola exec "$name" sh -c 'echo "exec in $(hostname): pid 1 is $(cat /proc/1/comm)"'
isola stop -t 1 "$name" >/dev/null
isola ps -a --filter "name=$name"
isola rm "$name"

# One workload measured (docs/compare.md): --models container keeps it to a few
# seconds (the VM models need KVM and the test host); --no-cold leaves the
# host's page cache alone.
echo >&2
isola compare --runs 3 --no-cold --models container "$image" \
    sh -c 'echo ready; exec sleep 3600'
