#!/bin/sh
# Benchmark: `run` of /bin/true on one bundle with isola-oci, crun and runc side
# by side (hyperfine), the peak RSS of each runtime (/usr/bin/time -v, largest
# of 5 runs), and the smallest memory limit each can start the container in.
#   bench/oci-run.sh [RUNS]        (default 50)
#
# crun 1.8.1 refuses this host's hybrid cgroup layout ("cgroups in hybrid mode
# not supported") even with --cgroup-manager disabled, so every runtime runs in
# a private mount namespace in which the (empty) v2 tree at
# /sys/fs/cgroup/unified is unmounted: all three see the same pure-v1 host and
# use cgroupfs. The bundle has pid, net, ipc, uts and mount namespaces (no
# cgroup namespace: crun needs the v2 tree for it), no seccomp, a read-only
# root, masked and read-only paths, and the default device rules.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-50}
./scripts/build.sh
isola=$PWD/build/src/cli/isola-oci
work=$(mktemp -d /tmp/isola-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -x build/fixtures/rootfs/bin/busybox ] || tests/fixtures/mkrootfs.sh build/fixtures/rootfs
mkdir -p "$work/bundle" "$work/memb"
cp -a build/fixtures/rootfs "$work/bundle/rootfs"
cp -a build/fixtures/rootfs "$work/memb/rootfs"
python3 bench/oci-config.py "$work/bundle/config.json"

cat > "$work/inner.sh" <<INNER
set -eu
umount /sys/fs/cgroup/unified 2>/dev/null || true
hyperfine -N -w 5 -r $runs --export-json $work/hyperfine.json \\
  -n isola-oci "$isola --root $work/state-isola run -b $work/bundle bench-isola" \\
  -n crun "crun --root $work/state-crun run -b $work/bundle bench-crun" \\
  -n runc "runc --root $work/state-runc run -b $work/bundle bench-runc" >&2
for r in isola-oci crun runc; do
  case \$r in isola-oci) exe=$isola;; *) exe=\$r;; esac
  best=0
  for i in 1 2 3 4 5; do
    kb=\$(/usr/bin/time -v \$exe --root $work/state-rss run -b $work/bundle rss-\$r 2>&1 >/dev/null |
         awk '/Maximum resident set size/ {print \$6}')
    [ "\$kb" -gt "\$best" ] && best=\$kb
  done
  echo "rss \$r \$best"
  smallest=none
  for lim in 16384 8192 4096 2048 1024 768 512 384 256 192 128; do
    python3 bench/oci-config.py $work/memb/config.json \$((lim * 1024))
    if timeout 20 \$exe --root $work/state-mem run -b $work/memb mem-\$r >/dev/null 2>&1; then
      smallest=\${lim}k
    else
      \$exe --root $work/state-mem delete --force mem-\$r >/dev/null 2>&1 || true
      break
    fi
  done
  echo "minmem \$r \$smallest"
done
INNER
unshare -m --propagation private sh "$work/inner.sh" > "$work/extra.txt"
python3 - "$work/hyperfine.json" "$work/extra.txt" "$runs" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
extra = {}
for line in open(sys.argv[2]):
    k, r, v = line.split()
    extra.setdefault(r, {})[k] = v
crun = next(x for x in h if x["command"] == "crun")["median"]
print(f"runs per runtime: {sys.argv[3]}")
print("| runtime | median | mean ± σ | min … max | median vs crun | peak RSS | smallest memory limit |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for x in h:
    n = x["command"]
    e = extra.get(n, {})
    print(f"| {n} | {x['median']*1e3:.2f} ms | {x['mean']*1e3:.2f} ± {x['stddev']*1e3:.2f} ms | "
          f"{x['min']*1e3:.2f} … {x['max']*1e3:.2f} ms | {x['median']/crun:.2f}x | "
          f"{e.get('rss', '?')} KiB | {e.get('minmem', '?')} |")
PY
