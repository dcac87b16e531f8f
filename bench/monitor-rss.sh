#!/bin/sh
# Memory of one workload's monitor (docs/engine.md, "Monitor memory"): VmRSS
# (/proc/PID/status) and Pss (/proc/PID/smaps_rollup) of isola-monitor and of
# Podman's conmon, each watching a `sleep` in the same busybox root file system
# (podman: private storage and config, runtime runc, --network none). With N
# (default 1) several monitors run at once: a static monitor's pages are
# shared between its instances only, conmon's libraries with every process.
#   bench/monitor-rss.sh [N]        (root; builds first; needs podman and runc)
set -eu
cd "$(dirname "$0")/.."
n=${1:-1}
ninja -C build >/dev/null
rootfs=$PWD/build/fixtures/rootfs
[ -x "$rootfs/bin/busybox" ] || tests/fixtures/mkrootfs.sh "$rootfs" >/dev/null
work=$(mktemp -d /tmp/isola-bench-monitor-XXXXXX)
mpids=""
cleanup() {
    for d in "$work"/run*; do
        [ -S "$d/ctl.sock" ] && /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(30)
s.connect(sys.argv[1]); s.send(b'stop'); s.recv(70000)" "$d/ctl.sock" || true
    done
    CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf \
        timeout 120 podman --runtime runc rm -a -f -t 0 >/dev/null 2>&1 || true
    CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf \
        timeout 120 podman system reset -f >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/bundle"
/usr/bin/python3 - "$work/bundle/config.json" "$rootfs" <<'PY'
import json, sys
sys.path.insert(0, "tests/integration")
from oci_util import BASE
BASE["process"]["args"] = ["sleep", "3600"]
BASE["root"] = {"path": sys.argv[2], "readonly": True}
json.dump(BASE, open(sys.argv[1], "w"))
PY
mem() { # pid -> "VmRSS Pss Private" in KiB
    echo "$(awk '/^VmRSS/ {print $2}' /proc/$1/status) $(awk '/^Pss:/ {p=$2} /^Private_(Clean|Dirty)/ {q+=$2} END {print p, q}' /proc/$1/smaps_rollup)"
}
i=0
while [ $i -lt "$n" ]; do
    i=$((i + 1))
    mkdir "$work/run$i"
    out=$(timeout 60 build/src/cli/isola-monitor start --dir "$work/run$i" --id "benchmon$$-$i" \
        --bundle "$work/bundle" --state-root "$work/oci")
    mpids="$mpids ${out#* }"
done
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
CONF
cat >"$work/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$work/graph"
runroot = "$work/prun"
CONF
export CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf
i=0
while [ $i -lt "$n" ]; do
    i=$((i + 1))
    timeout 120 podman --runtime runc run -d --name "benchmon$$-$i" --network none \
        --rootfs "$rootfs" sleep 3600 >/dev/null
done
sleep 1
echo "monitor        VmRSS KiB  Pss KiB  Private KiB   ($n running)"
for p in $mpids; do echo "isola-monitor  $(mem "$p")"; done
for p in $(pgrep -x conmon); do
    grep -q "benchmon$$" "/proc/$p/cmdline" && echo "conmon         $(mem "$p")"
done
size build/src/cli/isola-monitor | tail -1 | awk '{print "isola-monitor text+data+bss: " $4 " bytes (static)"}'
