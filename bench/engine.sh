#!/bin/sh
# The engine side by side with Podman (and Docker when a private dockerd can run
# here), on the same busybox image (docs/engine.md, "Performance"; issue 12's
# targets): `run --rm IMAGE true`, `run -d` + `rm -f`, `exec CTR true` latency
# (hyperfine medians), `ps -a` with 500 created containers, `logs` of 100 MB to
# /dev/null, the monitor's VmRSS/Pss per running container (isola-monitor, conmon,
# containerd-shim-runc-v2) and the CLI's peak RSS for `run -d` and `ps -a`.
# Podman: private storage/config (overlay, cgroupfs, runtime runc: crun refuses
# this host's hybrid cgroups), `--network none`; Docker: a private dockerd
# (--bridge none --iptables=false: the host's network is left alone), runc,
# `--network none`; isola `--network none` too (its default network is a bridge
# with nftables rules on the host), except `run --rm` without -d, whose
# foreground path has no --network flag and gives the container a network
# namespace with only loopback, the same thing.
# Everything lives under one temporary directory, removed at the end.
#   bench/engine.sh [RUNS] [N_PS]      (root; default 20 runs, 500 containers)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-20}
nps=${2:-500}
ninja -C build >/dev/null
isola=$PWD/build/src/cli/isola
tmp=$(mktemp -d /tmp/ibe.XXXXXX) # short: the run dir's sockets must fit sun_path
dockerd_pid=""
T="timeout 300"
export ISOLA_ROOT=$tmp/store ISOLA_RUN_DIR=$tmp/run
export CONTAINERS_CONF=$tmp/containers.conf CONTAINERS_STORAGE_CONF=$tmp/storage.conf
export DOCKER_HOST=unix://$tmp/d/docker.sock
cleanup() {
    set +e
    ids=$(timeout 60 "$isola" ps -a -q --no-trunc 2>/dev/null)
    [ -n "$ids" ] && echo "$ids" | xargs timeout 300 "$isola" rm -f >/dev/null 2>&1
    timeout 300 podman rm -a -f -t 0 >/dev/null 2>&1
    timeout 300 podman system reset --force >/dev/null 2>&1
    if [ -n "$dockerd_pid" ]; then
        ids=$(timeout 60 docker ps -a -q 2>/dev/null)
        [ -n "$ids" ] && echo "$ids" | xargs timeout 300 docker rm -f >/dev/null 2>&1
        kill "$dockerd_pid" 2>/dev/null
        i=0; while kill -0 "$dockerd_pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
        kill -9 "$dockerd_pid" 2>/dev/null
    fi
    # what an interrupted rm left: monitors (and their workloads) naming $tmp
    for p in $(pgrep -x isola-monitor) $(pgrep -x conmon); do
        grep -q "$tmp" "/proc/$p/cmdline" 2>/dev/null || continue
        pkill -9 -P "$p"; kill -9 "$p"
    done
    grep -o " $tmp[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
tests/fixtures/mkrootfs.sh "$tmp/rootfs" >/dev/null
$T "$isola" import "$tmp/rootfs" benchbb >/dev/null
cat >"$tmp/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
runtime = "runc"
EOC
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\nrunroot = "%s/prun"\n' "$tmp" "$tmp" >"$tmp/storage.conf"
tar -C "$tmp/rootfs" -c . | $T podman import -q - localhost/benchbb >/dev/null
podman="podman --runtime runc"
echo "# isola $(git rev-parse --short HEAD), $(podman --version), runc $(runc --version | head -1 | cut -d' ' -f3)"

# Docker: a private daemon, if one can start here
docker=""
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    mkdir -p "$tmp/d"
    dockerd --data-root "$tmp/d/data" --exec-root "$tmp/d/exec" --pidfile "$tmp/d/pid" \
        --host "$DOCKER_HOST" --bridge none --iptables=false --ip6tables=false \
        --ip-masq=false --storage-driver overlay2 >"$tmp/d/log" 2>&1 &
    dockerd_pid=$!
    i=0; while ! timeout 5 docker version >/dev/null 2>&1 && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done
    if tar -C "$tmp/rootfs" -c . | $T docker import - benchbb >/dev/null 2>&1 &&
        $T docker run --rm --network none benchbb true >/dev/null 2>&1; then
        docker="docker"
        echo "# $(docker version --format 'Docker {{.Server.Version}}') (private dockerd, --bridge none --iptables=false)"
    else
        echo "# docker: a private dockerd did not start here: $(tail -n1 "$tmp/d/log")"
    fi
else
    echo "# docker: no dockerd (Debian's docker.io) installed: left out"
fi

out() { echo "$*" | tee -a "$tmp/res"; }
md() { # hyperfine's markdown export -> "name median_ms" lines
    /usr/bin/python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], "%.1f" % (r["median"] * 1000))' "$1"
}
hf() { # NAME RUNS -n A CMD -n B CMD ...
    name=$1; n=$2; shift 2
    hyperfine -N --warmup 3 --runs "$n" --export-json "$tmp/$name.json" "$@" >"$tmp/$name.out" 2>&1 ||
        { cat "$tmp/$name.out" >&2; exit 1; }
    md "$tmp/$name.json" | sed "s/^/$name /" | tee -a "$tmp/res"
}
cmds() { # TEMPLATE with @ for the engine's command: -n NAME CMD ... for each engine
    printf '%s\n' -n isola "$(echo "$1" | sed "s|@|$isola|")"
    printf '%s\n' -n podman "$(echo "$1" | sed "s|@|$podman|; s|NET|--network none|")"
    [ -z "$docker" ] || printf '%s\n' -n docker "$(echo "$1" | sed "s|@|docker|; s|NET|--network none|")"
}
each() { # run "$@" with the engine's name in place of @, per engine
    for e in "$isola" "$podman" $docker; do echo "$*" | sed "s|@|$e|g"; done
}
engines="isola podman${docker:+ docker}"

echo "## latency (median ms, hyperfine -N, $runs runs, 3 warm-ups)"
IFS='
'
set -f
hf run_rm "$runs" $(cmds '@ run --rm NET benchbb true' | sed 's/ NET//')
hf run_d_rm "$runs" \
    -n isola "sh -c 'i=\$($isola run -d --network none benchbb sleep 600) && $isola rm -f \$i >/dev/null'" \
    -n podman "sh -c 'i=\$($podman run -d --network none benchbb sleep 600) && $podman rm -f -t 0 \$i >/dev/null'" \
    $([ -z "$docker" ] || printf '%s\n' -n docker "sh -c 'i=\$(docker run -d --network none benchbb sleep 600) && docker rm -f \$i >/dev/null'")
unset IFS
set +f
# long-running containers for exec and the monitors' memory
ci=$($T "$isola" run -d --network none --name benchexec benchbb sleep 3600)
cp=$($T $podman run -d --name benchexec --network none benchbb sleep 3600)
[ -z "$docker" ] || cd_=$($T docker run -d --name benchexec --network none benchbb sleep 3600)
IFS='
'
set -f
hf exec "$runs" -n isola "$isola exec benchexec true" -n podman "$podman exec benchexec true" \
    $([ -z "$docker" ] || printf '%s\n' -n docker "docker exec benchexec true")
unset IFS
set +f

echo "## monitor memory per running container (KiB: VmRSS Pss Private)"
mem() { echo "$(awk '/^VmRSS/ {print $2}' /proc/$1/status) $(awk '/^Pss:/ {p=$2} /^Private_(Clean|Dirty)/ {q+=$2} END {print p, q}' /proc/$1/smaps_rollup)"; }
for p in $(pgrep -x isola-monitor); do
    grep -q "$ci" "/proc/$p/cmdline" && out mem isola-monitor $(mem "$p")
done
for p in $(pgrep -x conmon); do
    grep -q "$cp" "/proc/$p/cmdline" && out mem conmon $(mem "$p")
done
if [ -n "$docker" ]; then
    for p in $(pgrep -f containerd-shim-runc-v2); do
        grep -q "$cd_" "/proc/$p/cmdline" && out mem containerd-shim $(mem "$p")
    done
fi

echo "## CLI peak RSS (KiB, /usr/bin/time -f %M)"
for e in isola podman $docker; do
    case $e in isola) c=$isola ;; podman) c=$podman ;; docker) c=docker ;; esac
    net="--network none"
    r=$( { /usr/bin/time -f %M $T $c run -d $net benchbb sleep 600 >"$tmp/id"; } 2>&1 | tail -1)
    $T $c rm -f $([ $e = podman ] && echo "-t 0") "$(cat "$tmp/id")" >/dev/null
    out rss_run_d $e $r
done

echo "## ps -a with $nps created containers"
for e in isola podman $docker; do
    case $e in isola) c=$isola ;; podman) c=$podman ;; docker) c=docker ;; esac
    net="--network none"
    seq 1 "$nps" | $T xargs -P 2 -I@ $c create $net --name "benchps@" benchbb true >/dev/null
done
for e in isola podman $docker; do
    case $e in isola) c=$isola ;; podman) c=$podman ;; docker) c=docker ;; esac
    out ps_count $e $($T $c ps -a -q | wc -l)
    r=$( { /usr/bin/time -f %M $T $c ps -a >/dev/null; } 2>&1 | tail -1)
    out rss_ps $e $r
done
IFS='
'
set -f
hf ps_a 10 -n isola "$isola ps -a" -n podman "$podman ps -a" \
    $([ -z "$docker" ] || printf '%s\n' -n docker "docker ps -a")
unset IFS
set +f
for e in isola podman $docker; do
    case $e in isola) c=$isola ;; podman) c=$podman ;; docker) c=docker ;; esac
    seq 1 "$nps" | sed 's/^/benchps/' | $T xargs -n 100 $c rm -f >/dev/null
done

echo "## logs of 100 MB (1.25 M lines of 80 bytes) to /dev/null"
gen='yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678 | head -c 100000000'
for e in isola podman $docker; do
    case $e in isola) c=$isola ;; podman) c=$podman ;; docker) c=docker ;; esac
    net="--network none"
    $T $c run -d $net --name benchlogs benchbb sh -c "$gen" >/dev/null
    timeout 600 $c wait benchlogs >/dev/null
    out logs_bytes $e $(timeout 600 $c logs benchlogs | wc -c)
done
IFS='
'
set -f
hf logs 5 -n isola "sh -c '$isola logs benchlogs >/dev/null'" \
    -n podman "sh -c '$podman logs benchlogs >/dev/null'" \
    $([ -z "$docker" ] || printf '%s\n' -n docker "sh -c 'docker logs benchlogs >/dev/null'")
unset IFS
set +f

echo "## ratios and the issue's targets"
/usr/bin/python3 - "$tmp/res" "$nps" <<'PY'
import sys
v = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3:
        v[(f[0], f[1])] = float(f[2])
def ratio(k, peer):
    a, b = v.get((k, "isola")), v.get((k, peer))
    return a / b if a and b else None
for k, what in [("run_rm", "run --rm true"), ("run_d_rm", "run -d + rm -f"),
                ("exec", "exec true"), ("ps_a", "ps -a"), ("logs", "logs 100 MB"),
                ("rss_run_d", "CLI peak RSS run -d"), ("rss_ps", "CLI peak RSS ps -a")]:
    line = f"{what}: isola {v.get((k, 'isola'))}"
    for peer in ("podman", "docker"):
        r = ratio(k, peer)
        if r is not None:
            line += f", {peer} {v[(k, peer)]} ({r:.3f}x)"
    print(line)
def target(name, ok):
    print(f"target {name}: {'met' if ok else 'MISSED'}")
for k in ("run_rm", "exec"):
    r = ratio(k, "podman")
    target(f"{k} <= 0.1x podman ({r:.3f}x)", r is not None and r <= 0.1)
r = ratio("ps_a", "podman")
target(f"ps -a at {sys.argv[2]} <= 0.1x podman ({r:.3f}x)", r is not None and r <= 0.1)
mi, mc = v.get(("mem", "isola-monitor")), v.get(("mem", "conmon"))
target(f"monitor VmRSS <= conmon's ({mi} vs {mc} KiB)", mi is not None and mc is not None and mi <= mc)
if any(p == "docker" for _, p in v):
    slow = [k for k in ("run_rm", "run_d_rm", "exec", "ps_a", "logs")
            if (ratio(k, "docker") or 0) > 1]
    target("nothing slower than Docker" + (f" (slower: {', '.join(slow)})" if slow else ""), not slow)
else:
    print("target nothing slower than Docker: not measured (no private dockerd)")
PY
