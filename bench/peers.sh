#!/bin/sh
# The OCI runtimes as podman and containerd use them: `podman run --rm IMAGE true`
# and `ctr run --rm IMAGE ID true`, timed with hyperfine for isola-oci, runc and
# crun side by side (a runtime that cannot run on this host is reported and left
# out: crun 1.8.1 refuses hybrid cgroups). Private podman/containerd setups under
# a temporary directory, removed at the end.
#   bench/peers.sh [RUNS]          (default 30)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-30}
isola_oci=${ISOLA_OCI:-$(pwd)/build/src/cli/isola-oci}
[ -x "$isola_oci" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
tmp=$(mktemp -d /tmp/isola-bench-peers.XXXXXX)
ctrd_pid=""
cleanup() {
    [ -n "$ctrd_pid" ] && kill "$ctrd_pid" 2>/dev/null && wait "$ctrd_pid" 2>/dev/null
    CONTAINERS_CONF=$tmp/containers.conf CONTAINERS_STORAGE_CONF=$tmp/storage.conf \
        podman system reset --force >/dev/null 2>&1 || true
    ip link del isola-pbench 2>/dev/null || true
    rm -rf "/run/containerd/runc/isolabench$$"
    grep -o " $tmp[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

tests/fixtures/mkrootfs.sh "$tmp/rootfs" >/dev/null
mkdir -p "$tmp/cni"
cat > "$tmp/cni/bench.conflist" <<EOC
{"cniVersion":"0.4.0","name":"bench","plugins":[{"type":"bridge","bridge":"isola-pbench",
 "isGateway":true,"ipam":{"type":"host-local","dataDir":"$tmp/ipam",
 "ranges":[[{"subnet":"10.231.251.0/24"}]]}}]}
EOC
cat > "$tmp/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
[network]
network_backend = "cni"
network_config_dir = "$tmp/cni"
default_network = "bench"
EOC
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\nrunroot = "%s/run"\n' "$tmp" "$tmp" > "$tmp/storage.conf"
export CONTAINERS_CONF=$tmp/containers.conf CONTAINERS_STORAGE_CONF=$tmp/storage.conf
tar -C "$tmp/rootfs" -c . | podman import - localhost/isola-bench >/dev/null
podman save --format oci-archive -o "$tmp/bb.tar" localhost/isola-bench >/dev/null

cat > "$tmp/containerd.toml" <<EOC
version = 2
root = "$tmp/ctrd/root"
state = "$tmp/ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$tmp/ctrd.sock"
[ttrpc]
  address = "$tmp/ctrd.sock.ttrpc"
EOC
containerd --config "$tmp/containerd.toml" >"$tmp/containerd.log" 2>&1 &
ctrd_pid=$!
i=0; while [ ! -S "$tmp/ctrd.sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
ctr="ctr -a $tmp/ctrd.sock -n isolabench$$"
$ctr images import "$tmp/bb.tar" >/dev/null

names=""; pod=""; ctd=""
for rt in "$isola_oci" /usr/sbin/runc /usr/bin/crun; do
    n=$(basename "$rt")
    if ! podman --runtime "$rt" run --rm --network none localhost/isola-bench true >/dev/null 2>"$tmp/err"; then
        echo "# $n: cannot run under podman here: $(tail -n1 "$tmp/err")"
        continue
    fi
    pod="$pod -n podman-$n 'podman --runtime $rt run --rm --network none localhost/isola-bench true'"
    ctd="$ctd -n ctr-$n '$ctr run --rm --runc-binary $rt localhost/isola-bench:latest b\$\$ true'"
done
eval hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$tmp/podman.md" $pod
eval hyperfine --warmup 3 --runs "$runs" --export-markdown "$tmp/ctr.md" $ctd
cat "$tmp/podman.md" "$tmp/ctr.md"
