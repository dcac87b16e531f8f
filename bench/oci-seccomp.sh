#!/bin/sh
# Benchmark: `isola-oci run` of /bin/true with podman's default seccomp profile
# (bench/oci-seccomp-profile.py from containers-common's seccomp.json), so the
# cost of compiling the profile with libseccomp versus loading it from the
# state root's seccomp cache (<root>/.seccomp-cache) shows.
#   bench/oci-seccomp.sh [RUNS] [OTHER_ISOLA_OCI]
# OTHER_ISOLA_OCI: a second binary (e.g. one built before the cache) run side by side.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-30}
other=${2:-}
./scripts/build.sh >/dev/null
isola=$PWD/build/src/cli/isola-oci
work=$(mktemp -d /tmp/isola-bench-seccomp-XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -x build/fixtures/rootfs/bin/busybox ] || tests/fixtures/mkrootfs.sh build/fixtures/rootfs
mkdir -p "$work/bundle"
cp -a build/fixtures/rootfs "$work/bundle/rootfs"
python3 bench/oci-config.py "$work/bundle/config.json"
python3 bench/oci-seccomp-profile.py > "$work/seccomp.json"
python3 - "$work/bundle/config.json" "$work/seccomp.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"]["seccomp"] = json.load(open(sys.argv[2]))
json.dump(c, open(sys.argv[1], "w"))
PY
set -- -n "isola-oci (cache)" "$isola --root $work/state-new run -b $work/bundle bench-new"
if [ -n "$other" ]; then
    set -- "$@" -n "other: $other" "$other --root $work/state-old run -b $work/bundle bench-old"
fi
hyperfine -N -w 3 -r "$runs" "$@"
