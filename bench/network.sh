#!/bin/sh
# Networking side by side (docs/networks.md, "Performance"; issue 13's targets):
# isola, Podman (Debian's, netavark + aardvark-dns) and Docker (a private dockerd)
# on one busybox image, all in one run, all inside a fresh network namespace
# (the script re-executes itself under `unshare -n`): every bridge, veth,
# nftables/iptables rule and published port is made there, none on the host.
#  - setup time: `run -d IMAGE sleep` + `rm -f` (set up and torn down: isola's
#    foreground `run --rm` has no --network yet) with --network none, on the
#    default bridge network, and on a user network (one resident container
#    keeps its DNS server up) (hyperfine medians); networking's cost = bridge -
#    none;
#  - container-to-container TCP throughput (iperf3, Debian's, run from the host
#    in each container's network namespace with nsenter: the image has none)
#    and TCP round-trip latency (1-byte ping-pong, python3, same way) on a user
#    network;
#  - host-to-published-port throughput: iperf3 from the namespace ("the host")
#    to its own address, DNATed to the container's -p 5201;
#  - plain veth, no bridge, no NAT: the same iperf3 and ping-pong between two
#    namespaces joined by one veth pair (the baseline).
# Throughput and round trips are the median of three runs each.
#   bench/network.sh [RUNS] [SECONDS]   (root; default 10 runs, 5 s per iperf3)
set -eu
cd "$(dirname "$0")/.."
if [ "${ISOLA_BENCH_NETNS:-}" != 1 ]; then
    ISOLA_BENCH_NETNS=1 exec unshare -n "$0" "$@"
fi
runs=${1:-10}
secs=${2:-5}
ninja -C build >/dev/null
isola=$PWD/build/src/cli/isola
tmp=$(mktemp -d /tmp/ibn.XXXXXX)
dockerd_pid=""
T="timeout 300"
export ISOLA_ROOT=$tmp/store ISOLA_RUN_DIR=$tmp/run
export CONTAINERS_CONF=$tmp/containers.conf CONTAINERS_STORAGE_CONF=$tmp/storage.conf
export DOCKER_HOST=unix://$tmp/d/docker.sock
HOSTIP=198.51.100.1
cleanup() {
    set +e
    ids=$(timeout 60 "$isola" ps -a -q --no-trunc 2>/dev/null)
    [ -n "$ids" ] && echo "$ids" | xargs timeout 300 "$isola" rm -f >/dev/null 2>&1
    timeout 60 "$isola" network prune -f >/dev/null 2>&1
    timeout 300 podman rm -a -f -t 0 >/dev/null 2>&1
    timeout 300 podman system reset --force >/dev/null 2>&1
    if [ -n "$dockerd_pid" ]; then
        ids=$(timeout 60 docker ps -a -q 2>/dev/null)
        [ -n "$ids" ] && echo "$ids" | xargs timeout 300 docker rm -f >/dev/null 2>&1
        kill "$dockerd_pid" 2>/dev/null
        i=0; while kill -0 "$dockerd_pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
        kill -9 "$dockerd_pid" 2>/dev/null
    fi
    for p in $(pgrep -x isola-monitor) $(pgrep -x conmon) $(pgrep -x dnsmasq) $(pgrep -x aardvark-dns); do
        grep -q "$tmp" "/proc/$p/cmdline" 2>/dev/null || continue
        pkill -9 -P "$p"; kill -9 "$p"
    done
    for n in ibn-a-$$ ibn-b-$$; do ip netns del $n 2>/dev/null; done
    grep -o " $tmp[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up
# the namespace's "public" address (on lo: no dummy module here): published
# ports are reached through it
ip addr add $HOSTIP/32 dev lo

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
tests/fixtures/mkrootfs.sh "$tmp/rootfs" >/dev/null
$T "$isola" import "$tmp/rootfs" benchbb >/dev/null
mkdir -p "$tmp/netavark"
cat >"$tmp/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
runtime = "runc"
tmp_dir = "$tmp/libpod-tmp"
[network]
network_backend = "netavark"
network_config_dir = "$tmp/netavark"
EOC
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\nrunroot = "%s/prun"\n' "$tmp" "$tmp" >"$tmp/storage.conf"
tar -C "$tmp/rootfs" -c . | $T podman import -q - localhost/benchbb >/dev/null
podman="podman --runtime runc"
echo "# isola $(git rev-parse --short HEAD), $(podman --version) ($(podman info --format '{{.Host.NetworkBackend}}'): netavark $(/usr/lib/podman/netavark --version | cut -d' ' -f2), aardvark-dns $(/usr/lib/podman/aardvark-dns --version | cut -d' ' -f2)), runc $(runc --version | head -1 | cut -d' ' -f3), $(dnsmasq --version | head -1 | cut -d' ' -f1-3), $(iperf3 --version | head -1 | cut -d' ' -f1-2)"

docker=""
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    mkdir -p "$tmp/d"
    # its default bridge, NAT and userland proxy, in this namespace only
    dockerd --data-root "$tmp/d/data" --exec-root "$tmp/d/exec" --pidfile "$tmp/d/pid" \
        --host "$DOCKER_HOST" --storage-driver overlay2 >"$tmp/d/log" 2>&1 &
    dockerd_pid=$!
    i=0; while ! timeout 5 docker version >/dev/null 2>&1 && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done
    if tar -C "$tmp/rootfs" -c . | $T docker import - benchbb >/dev/null 2>&1 &&
        $T docker run --rm benchbb true >/dev/null 2>&1; then
        docker="docker"
        echo "# $(docker version --format 'Docker {{.Server.Version}}') (private dockerd in the namespace, default bridge, iptables, userland-proxy)"
    else
        echo "# docker: a private dockerd did not start here: $(tail -n1 "$tmp/d/log")"
    fi
else
    echo "# docker: no dockerd (Debian's docker.io) installed: left out"
fi

out() { echo "$*" | tee -a "$tmp/res"; }
md() {
    /usr/bin/python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], "%.1f" % (r["median"] * 1000))' "$1"
}
hf() { # NAME RUNS -n A CMD -n B CMD ...
    name=$1; n=$2; shift 2
    hyperfine -N --warmup 2 --runs "$n" --export-json "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>&1 ||
        { cat "$tmp/$name.out" >&2; exit 1; }
    md "$tmp/$name.json" | sed "s/^/$name /" | tee -a "$tmp/res"
}
engine_cmd() { case $1 in isola) echo "$isola" ;; podman) echo "$podman" ;; docker) echo docker ;; esac; }
engines="isola podman $docker"

# user networks: the same subnet size, DNS on (isola: dnsmasq, podman:
# aardvark-dns, docker: its embedded resolver)
$T "$isola" network create --subnet 10.150.0.0/24 benchnet >/dev/null
$T $podman network create --subnet 10.151.0.0/24 benchnet >/dev/null
[ -z "$docker" ] || $T docker network create --subnet 10.152.0.0/24 benchnet >/dev/null
for e in $engines; do
    $T $(engine_cmd $e) run -d --name resident --network benchnet benchbb sleep 3600 >/dev/null
done

echo "## run -d benchbb sleep + rm -f (median ms, hyperfine -N, $runs runs, 2 warm-ups)"
IFS='
'
set -f
for net in none bridge benchnet; do
    pn=$net; [ $net = bridge ] && pn=podman # podman's default network is "podman"
    hf "run_$net" "$runs" \
        -n isola "sh -c 'i=\$($isola run -d --network $net benchbb sleep 600) && $isola rm -f \$i >/dev/null'" \
        -n podman "sh -c 'i=\$($podman run -d --network $pn benchbb sleep 600) && $podman rm -f -t 0 \$i >/dev/null'" \
        $([ -z "$docker" ] || printf '%s\n' -n docker "sh -c 'i=\$(docker run -d --network $net benchbb sleep 600) && docker rm -f \$i >/dev/null'")
done
unset IFS
set +f

pid_of() { # ENGINE NAME
    $T $(engine_cmd $1) inspect "$2" | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["State"]["Pid"])'
}
ip_of() { # ENGINE NAME NETWORK
    $T $(engine_cmd $1) inspect "$2" | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["NetworkSettings"]["Networks"][sys.argv[1]]["IPAddress"])' "$3"
}
iperf() { # SERVER-NS-ARGS (nsenter args or "") CLIENT-NS-ARGS ADDR PORT -> Gbit/s
    snet=$1; cnet=$2
    $snet iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
    sp=$!
    sleep 0.5
    $cnet timeout 60 iperf3 -c "$3" -p "$4" -t "$secs" -J >"$tmp/iperf.json" 2>&1 || true
    kill $sp 2>/dev/null || true
    wait $sp 2>/dev/null || true
    /usr/bin/python3 -c '
import json, sys
try:
    print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception as e:
    print("nan")' "$tmp/iperf.json"
}
RR='
import socket, sys, time
if sys.argv[1] == "s":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 5202)); s.listen(1); c, _ = s.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        b = c.recv(1)
        if not b: break
        c.sendall(b)
else:
    for i in range(50):
        try:
            c = socket.create_connection((sys.argv[2], 5202), timeout=5); break
        except OSError: time.sleep(0.1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n = 5000
    for i in range(200): c.sendall(b"x"); c.recv(1)
    t = time.perf_counter()
    for i in range(n): c.sendall(b"x"); c.recv(1)
    print("%.1f" % ((time.perf_counter() - t) / n * 1e6))
'
med3() { # the median of three runs of "$@"
    a=$("$@"); b=$("$@"); c=$("$@")
    printf '%s\n' "$a" "$b" "$c" | sort -g | sed -n 2p
}
rr() { # SERVER-NS-ARGS CLIENT-NS-ARGS ADDR -> microseconds per round trip
    $1 /usr/bin/python3 -c "$RR" s >/dev/null 2>&1 &
    sp=$!
    $2 timeout 60 /usr/bin/python3 -c "$RR" c "$3" || echo nan
    kill $sp 2>/dev/null || true
    wait $sp 2>/dev/null || true
}

echo "## container to container on a user network (iperf3 $secs s, Gbit/s; TCP round trip, us; medians of 3)"
for e in $engines; do
    c=$(engine_cmd $e)
    $T $c run -d --name srv --network benchnet -p 5201:5201 benchbb sleep 3600 >/dev/null
    $T $c run -d --name cli --network benchnet benchbb sleep 3600 >/dev/null
    s="nsenter --net=/proc/$(pid_of $e srv)/ns/net"
    k="nsenter --net=/proc/$(pid_of $e cli)/ns/net"
    addr=$(ip_of $e srv benchnet)
    out c2c_gbps $e $(med3 iperf "$s" "$k" "$addr" 5201)
    out c2c_rr_us $e $(med3 rr "$s" "$k" "$addr")
    # the host (this namespace) to the published port, through its address
    out pub_gbps $e $(med3 iperf "$s" "" $HOSTIP 5201)
    $T $c rm -f $([ $e = podman ] && echo "-t 0") srv cli >/dev/null
done

echo "## baseline: plain veth between two namespaces, no bridge, no NAT"
ip netns add ibn-a-$$
ip netns add ibn-b-$$
ip link add ibn-va type veth peer name ibn-vb
ip link set ibn-va netns ibn-a-$$
ip link set ibn-vb netns ibn-b-$$
ip -n ibn-a-$$ addr add 10.153.0.1/24 dev ibn-va
ip -n ibn-b-$$ addr add 10.153.0.2/24 dev ibn-vb
for n in ibn-a-$$ ibn-b-$$; do ip -n $n link set lo up; done
ip -n ibn-a-$$ link set ibn-va up
ip -n ibn-b-$$ link set ibn-vb up
out c2c_gbps veth $(med3 iperf "ip netns exec ibn-a-$$" "ip netns exec ibn-b-$$" 10.153.0.1 5201)
out c2c_rr_us veth $(med3 rr "ip netns exec ibn-a-$$" "ip netns exec ibn-b-$$" 10.153.0.1)
# host to a namespace over one veth, no NAT: the published port's baseline
ip link add ibn-vh type veth peer name ibn-vc
ip link set ibn-vc netns ibn-a-$$
ip addr add 10.154.0.1/24 dev ibn-vh && ip link set ibn-vh up
ip -n ibn-a-$$ addr add 10.154.0.2/24 dev ibn-vc && ip -n ibn-a-$$ link set ibn-vc up
out pub_gbps veth $(med3 iperf "ip netns exec ibn-a-$$" "" 10.154.0.2 5201)

echo "## networking's cost, ratios and the issue's targets"
/usr/bin/python3 - "$tmp/res" <<'PY'
import sys
v = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3:
        try:
            v[(f[0], f[1])] = float(f[2])
        except ValueError:
            pass
def g(k, e):
    return v.get((k, e))
engines = [e for e in ("isola", "podman", "docker") if g("run_none", e) is not None]
added = {}
for e in engines:
    b, n, u = g("run_bridge", e), g("run_none", e), g("run_benchnet", e)
    added[e] = b - n
    print(f"{e}: run -d + rm -f: none {n} ms, bridge {b} ms (+{b - n:.1f}), user network {u} ms "
          f"(+{u - n:.1f}); c2c {g('c2c_gbps', e)} Gbit/s, {g('c2c_rr_us', e)} us; "
          f"published port {g('pub_gbps', e)} Gbit/s")
print(f"veth: c2c {g('c2c_gbps', 'veth')} Gbit/s, {g('c2c_rr_us', 'veth')} us; "
      f"host to namespace {g('pub_gbps', 'veth')} Gbit/s")
def target(name, ok):
    print(f"target {name}: {'met' if ok else 'MISSED'}")
if "podman" in added and added["podman"] > 0:
    r = max(added["isola"], 0) / added["podman"]
    target(f"setup time added <= 0.2x Podman's ({added['isola']:.1f} vs "
           f"{added['podman']:.1f} ms: {r:.2f}x)", r <= 0.2)
peers = [e for e in engines if e != "isola"]
for k, what in (("c2c_gbps", "container-to-container throughput"),
                ("pub_gbps", "published-port throughput")):
    best = max((g(k, e) or 0) for e in peers) if peers else 0
    target(f"{what} >= the peers' ({g(k, 'isola')} vs best {best} Gbit/s)",
           (g(k, "isola") or 0) >= best)
pv, pi = g("pub_gbps", "veth"), g("pub_gbps", "isola")
if pv and pi:
    target(f"published port >= 0.9x plain veth ({pi} vs {pv} Gbit/s: {pi / pv:.2f}x)",
           pi >= 0.9 * pv)
PY
