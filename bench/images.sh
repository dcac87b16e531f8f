#!/bin/sh
# Image benchmarks, side by side with the peers (results in docs/images.md):
#  1. pull a multi-layer image from a local docker-registry and unpack it:
#     `isola pull` + `isola bundle --copy`  vs  `skopeo copy` + `umoci unpack`
#  2. build a small Dockerfile: `isola build --no-cache`  vs  `podman build --no-cache`
#  3. disk used by N containers from one image: isola bundles (overlayfs over the
#     shared unpacked layers)  vs  N unpacked copies (umoci unpack)
#   bench/images.sh [RUNS] [N]       (needs root, hyperfine, docker-registry, skopeo,
#                                    umoci, podman; builds with scripts/build.sh first)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-5}
n=${2:-10}
isola=$PWD/build/src/cli/isola
work=$(mktemp -d /tmp/isola-bench-images-XXXXXX)
regpid=""
cleanup() {
    [ -n "$regpid" ] && kill "$regpid" 2>/dev/null || true
    for m in $(awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
export ISOLA_ROOT="$work/store"

# A 4-layer image: busybox + three layers of incompressible data (8 MB each).
tests/fixtures/mkrootfs.sh "$work/rootfs" >/dev/null
"$isola" import "$work/rootfs" bench/base:1 /bin/sh >/dev/null
mkdir -p "$work/ctx"
for i in 1 2 3; do head -c 8000000 /dev/urandom > "$work/ctx/blob$i"; done
cat > "$work/ctx/Dockerfile" <<'D'
FROM bench/base:1
COPY blob1 /data/
COPY blob2 /data/
COPY blob3 /data/
D
"$isola" build -t bench/multi:1 "$work/ctx" >/dev/null

# Local registry on loopback; push the image there.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/reg.yml" <<Y
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/regdata}}
http: {addr: 127.0.0.1:$port}
Y
docker-registry serve "$work/reg.yml" >"$work/reg.log" 2>&1 &
regpid=$!
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
ref=127.0.0.1:$port/bench/multi:1
"$isola" push -q bench/multi:1 "$ref" >/dev/null

echo "== 1. pull + unpack of a 4-layer image (~25 MB) from a local registry"
hyperfine --runs "$runs" --export-json "$work/pull.json" \
    --prepare "rm -rf $work/p $work/oci $work/ub; umount $work/p/b/rootfs 2>/dev/null; true" \
    -n isola "ISOLA_ROOT=$work/p/store $isola pull -q $ref >/dev/null && ISOLA_ROOT=$work/p/store $isola bundle --copy $ref $work/p/b true" \
    -n skopeo+umoci "skopeo copy -q --src-tls-verify=false docker://$ref oci:$work/oci:x && umoci unpack --image $work/oci:x $work/ub >/dev/null"

echo "== 2. build of a small Dockerfile (FROM + RUN + COPY), no cache"
mkdir -p "$work/bctx"
echo hello > "$work/bctx/hello.txt"
cat > "$work/bctx/Dockerfile" <<'D'
FROM localhost/bench/base:1
RUN mkdir -p /app && echo built > /app/built.txt
COPY hello.txt /app/
CMD ["cat", "/app/built.txt"]
D
"$isola" tag bench/base:1 localhost/bench/base:1
mkdir -p "$work/pm"
cat > "$work/pm/containers.conf" <<C
[containers]
default_ulimits=["nofile=20000:20000","nproc=32768:32768"]
[engine]
cgroup_manager="cgroupfs"
events_logger="file"
events_logfile_path="$work/pm/events.log"
C
cat > "$work/pm/storage.conf" <<C
[storage]
driver="overlay"
graphroot="$work/pm/graph"
runroot="$work/pm/run"
C
export CONTAINERS_CONF="$work/pm/containers.conf" CONTAINERS_STORAGE_CONF="$work/pm/storage.conf"
"$isola" save -o "$work/base.tar" localhost/bench/base:1
podman load -q -i "$work/base.tar" >/dev/null
hyperfine --runs "$runs" --export-json "$work/build.json" \
    -n isola "$isola build --no-cache -t bench/b:1 $work/bctx >/dev/null" \
    -n podman "podman build -q --no-cache --runtime runc --network host -t bench/b:1 $work/bctx >/dev/null"
podman rmi -af >/dev/null 2>&1 || true
umount -l "$work/pm/graph/overlay" 2>/dev/null || true

echo "== 3. disk used by $n containers from one image (~25 MB)"
mkdir -p "$work/n"
for i in $(seq "$n"); do "$isola" bundle bench/multi:1 "$work/n/c$i" true; done
layers=$(du -sk "$ISOLA_ROOT/layers" | cut -f1)
uppers=0
for i in $(seq "$n"); do
    u=$(du -sk "$work/n/c$i/upper" | cut -f1)
    uppers=$((uppers + u))
done
for i in $(seq "$n"); do "$isola" bundle --remove "$work/n/c$i"; done
skopeo copy -q "oci:$ISOLA_ROOT:bench/multi:1" "oci:$work/o2:x"
for i in $(seq "$n"); do umoci unpack --image "$work/o2:x" "$work/u$i" >/dev/null; done
copies=$(du -sck "$work"/u*/rootfs | tail -1 | cut -f1)
echo "isola: shared layers ${layers} kB + upper dirs ${uppers} kB = $((layers + uppers)) kB"
echo "copies (umoci unpack x $n): ${copies} kB"
echo "ratio copies/isola: $(python3 -c "print(round($copies/($layers+$uppers),1))")"
for f in pull build; do
    python3 - "$work/$f.json" <<'P'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0], r[1]
print(f"{sys.argv[1].split('/')[-1]}: {a['command']} {a['mean']:.3f}s ± {a['stddev']:.3f}, "
      f"{b['command']} {b['mean']:.3f}s ± {b['stddev']:.3f}, ratio peer/isola {b['mean']/a['mean']:.2f}")
P
done
