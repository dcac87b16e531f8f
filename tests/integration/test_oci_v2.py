# SPDX-License-Identifier: GPL-2.0-or-later
"""isola-oci on a pure cgroup v2 host (the testhost, L1), next to crun.

This machine's cgroups are hybrid (no v2 memory/pids/cpu controllers, and crun
refuses the layout), so the v2 side of the runtime is checked in L1. To keep
the CI time small, everything runs in ONE shell script inside L1 (one `run`
call): it generates the bundles there (the busybox rootfs template copied to a
tmpfs of L1), drives build/src/cli/isola-oci and crun, and prints `key=value`
lines that the tests below check one by one.

What is checked (runtime-spec config-linux.md "Control groups", "Device
allowlist", "unified"; cgroup-v2.rst): memory.max, memory.swap.max, pids.max
(a fork beyond it fails), cpu.max, cpu.weight from cpu.shares, the eBPF device
filter (/dev/null opens, a mknod'ed 8:0 block device is refused with EPERM),
`unified` keys, the OOM kill at memory.max, pause/resume through cgroup.freeze,
`update --memory/--pids-limit`, `ps`, `kill --all`, `delete` removing the
cgroup, the cgroup namespace (`0::/` inside); and crun sees the same inside.
"""
import copy
import json
import os
import shutil

import pytest

from conftest import BUILD, ROOT, binary
from oci_util import BASE

MiB = 1024 * 1024

# Resources of the probe bundle. OCI memory.swap is memory+swap, so v2's
# memory.swap.max is swap - limit = 32 MiB. shares 512 -> weight
# 1 + (512-2)*9999/262142 = 20 (the runc/crun conversion).
RESOURCES = {
    "memory": {"limit": 64 * MiB, "swap": 96 * MiB},
    "pids": {"limit": 12},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000},
    "devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
    ],
    "unified": {"memory.swap.high": str(16 * MiB), "memory.oom.group": "0"},
}

# Runs inside the container: what it sees of its cgroup. Forks (pids.max)
# last: after them nothing else can be started.
PROBE = r'''
echo "cgroup=$(cat /proc/self/cgroup)"
for f in memory.max memory.swap.max memory.swap.high pids.max cpu.max cpu.weight; do
    echo "$f=$(cat /sys/fs/cgroup/$f 2>&1)"
done
echo x > /dev/null && echo "devnull=ok"
head -c 4 /dev/zero | wc -c | sed 's/^ */zero=/'
echo "sda=$(cat /sda-like 2>&1 | sed 's/.*: //')"
dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null; echo "hog_rc=$?"
echo "oom_kill=$(grep '^oom_kill ' /sys/fs/cgroup/memory.events | cut -d' ' -f2)"
sh -c 'i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done' 2>/dev/null
read n < /sys/fs/cgroup/pids.current
echo "pids_current=$n"
# builtins only: no fork is left to spend
if [ "$n" -ge 10 ] && [ "$n" -le 12 ]; then echo "fork_refused=yes"; else echo "fork_refused=no"; fi
'''

# The L1 side. $1 exchange dir (configs in, nothing out but stdout), $2 rootfs
# template, $3 isola-oci. Everything it makes is under one tmpfs and removed.
L1 = r'''
set -u
X=$1; T=$2; OCI=$3
W=/tmp/ociv2-$$
CG=/sys/fs/cgroup
mkdir -p $W && mount -t tmpfs -o size=256m tmpfs $W || { echo "setup=failed"; exit 1; }
cleanup() {
    for id in p1 l1 k1; do $OCI --root $W/state delete --force $id >/dev/null 2>&1; done
    crun --root $W/crun delete --force c1 >/dev/null 2>&1
    cd /; umount -l $W; rmdir $W
}
trap cleanup EXIT
cp -a $T $W/rootfs || { echo "setup=failed"; exit 1; }
cp $X/probe.sh $W/rootfs/probe.sh
mknod $W/rootfs/sda-like b 8 0
for b in probe life kill; do mkdir $W/$b; ln -s ../rootfs $W/$b/rootfs; cp $X/$b.json $W/$b/config.json; done
R="$OCI --root $W/state"
echo "setup=ok"

# 1. the probe, with isola-oci and with crun: same bundle, same output expected
$R run --bundle $W/probe p1 > $W/p1.out 2> $W/p1.err </dev/null
echo "isola_rc=$?"
sed 's/^/isola./' $W/p1.out
sed 's/^/isola_err./' $W/p1.err | head -5
echo "isola.cgdir_after_run=$( [ -e $CG/isola/p1 ] && echo present || echo gone)"
$R delete p1 >/dev/null 2>&1
crun --root $W/crun run --bundle $W/probe c1 > $W/c1.out 2> $W/c1.err </dev/null
echo "crun_rc=$?"
sed 's/^/crun./' $W/c1.out
sed 's/^/crun_err./' $W/c1.err | head -5

# 2. lifecycle: pause/resume, update, ps, kill --all, delete
$R create --bundle $W/life l1 > $W/l1.out 2>&1 </dev/null; echo "create_rc=$?"
$R start l1; echo "start_rc=$?"
D=$CG/isola/l1
echo "cgdir=$( [ -d $D ] && echo present || echo missing)"
echo "pid=$($R state l1 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')"
i=0; while [ $i -lt 50 ] && [ "$(wc -l < $D/cgroup.procs)" -lt 3 ]; do sleep 0.1; i=$((i+1)); done
echo "procs=$(sort -n $D/cgroup.procs | tr '\n' ' ')"
echo "ps_json=$($R ps --format json l1 | tr -d ' \n')"
echo "ps_table_lines=$($R ps l1 | wc -l)"
$R pause l1; echo "pause_rc=$?"
echo "paused_freeze=$(cat $D/cgroup.freeze)"
echo "paused_events=$(grep frozen $D/cgroup.events)"
echo "paused_status=$($R state l1 | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')"
$R resume l1; echo "resume_rc=$?"
echo "resumed_freeze=$(cat $D/cgroup.freeze)"
echo "resumed_events=$(grep frozen $D/cgroup.events)"
echo "resumed_status=$($R state l1 | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')"
echo "mem_before=$(cat $D/memory.max)"
$R update --memory 134217728 l1; echo "update_rc=$?"
echo "mem_after=$(cat $D/memory.max)"
$R update --pids-limit 40 l1; echo "update_pids_rc=$?"
echo "pids_after=$(cat $D/pids.max)"
$R kill --all l1 KILL; echo "killall_rc=$?"
i=0; while [ $i -lt 50 ] && [ -s $D/cgroup.procs ]; do sleep 0.1; i=$((i+1)); done
echo "procs_after_kill=$(cat $D/cgroup.procs | wc -l)"
i=0; while [ $i -lt 50 ] && [ "$($R state l1 | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')" != stopped ]; do sleep 0.1; i=$((i+1)); done
echo "killed_status=$($R state l1 | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')"
$R delete l1; echo "delete_rc=$?"
echo "cgdir_after_delete=$( [ -e $D ] && echo present || echo gone)"
echo "state_after_delete=$( [ -e $W/state/l1 ] && echo present || echo gone)"
echo "isola_parent_after=$( [ -e $CG/isola ] && echo present || echo gone)"
echo "done=yes"
'''


def _config(args, resources=None):
    cfg = copy.deepcopy(BASE)
    cfg["ociVersion"] = "1.0.2"  # crun 1.8.1 (Debian 12) refuses 1.2.0: "unknown version"
    cfg["process"]["args"] = args
    if resources is not None:
        cfg["linux"]["resources"] = resources
    return cfg


@pytest.fixture(scope="module")
def l1(testhost, rootfs_template):
    """Run the whole L1 script once; return its key=value lines as a dict."""
    oci = os.path.join(BUILD, "src", "cli", "isola-oci")
    if not os.access(oci, os.X_OK):
        pytest.fail(f"{oci} is not built (run scripts/build.sh)")
    x = testhost.path(f"ociv2-{os.getpid()}")
    os.makedirs(x, exist_ok=True)
    with open(os.path.join(x, "probe.sh"), "w") as f:
        f.write(PROBE)
    probe = _config(["sh", "/probe.sh"], RESOURCES)
    life = _config(["sh", "-c", "sleep 1000 & sleep 1000 & wait"],
                   {"memory": {"limit": 64 * MiB}, "pids": {"limit": 20}})
    for name, cfg in (("probe", probe), ("life", life), ("kill", life)):
        with open(os.path.join(x, f"{name}.json"), "w") as f:
            json.dump(cfg, f)
    r = testhost.run(["sh", "-c", L1, "sh", x, rootfs_template, oci], timeout=150)
    out = {}
    for line in r.stdout.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k] = v
    assert out.get("setup") == "ok", r
    assert out.get("done") == "yes", r
    out["_raw"] = r.stdout + r.stderr
    return out


def check(res, key, want):
    assert res.get(key) == want, f"{key}: {res.get(key)!r} != {want!r}\n{res['_raw']}"


def test_run_exit_and_cgroup_namespace(l1):
    check(l1, "isola_rc", "0")
    check(l1, "isola.cgroup", "0::/")


@pytest.mark.parametrize("key,want", [
    ("memory.max", str(64 * MiB)),
    ("memory.swap.max", str(32 * MiB)),
    ("pids.max", "12"),
    ("cpu.max", "50000 100000"),
    ("cpu.weight", "20"),
    ("memory.swap.high", str(16 * MiB)),  # from `unified`
])
def test_resource_files(l1, key, want):
    check(l1, "isola." + key, want)


def test_memory_limit_enforced(l1):
    check(l1, "isola.hog_rc", "137")  # dd's 100 MiB buffer: OOM-killed at memory.max
    assert int(l1.get("isola.oom_kill", "0")) >= 1, l1["_raw"]


def test_pids_limit_enforced(l1):
    check(l1, "isola.fork_refused", "yes")


def test_device_filter(l1):
    check(l1, "isola.devnull", "ok")
    check(l1, "isola.zero", "4")
    check(l1, "isola.sda", "Operation not permitted")


def test_crun_sees_the_same(l1):
    if l1.get("crun_rc") != "0":
        pytest.fail(f"crun run failed on pure v2: {l1['_raw']}")
    keys = sorted(k[len("isola."):] for k in l1 if k.startswith("isola.") and
                  k != "isola.cgdir_after_run")
    diff = {k: (l1.get("isola." + k), l1.get("crun." + k)) for k in keys
            if l1.get("isola." + k) != l1.get("crun." + k)}
    assert not diff, f"isola vs crun: {diff}"


def test_pause_resume_via_cgroup_freeze(l1):
    for k, v in (("pause_rc", "0"), ("paused_freeze", "1"), ("paused_events", "frozen 1"),
                 ("paused_status", "paused"), ("resume_rc", "0"), ("resumed_freeze", "0"),
                 ("resumed_events", "frozen 0"), ("resumed_status", "running")):
        check(l1, k, v)


def test_update_memory_and_pids(l1):
    check(l1, "mem_before", str(64 * MiB))
    check(l1, "update_rc", "0")
    check(l1, "mem_after", str(128 * MiB))
    check(l1, "update_pids_rc", "0")
    check(l1, "pids_after", "40")


def test_ps_lists_the_cgroup(l1):
    procs = sorted(int(p) for p in l1["procs"].split())
    assert len(procs) == 3, l1["_raw"]  # sh and two sleeps
    assert int(l1["pid"]) in procs
    assert sorted(json.loads(l1["ps_json"])) == procs, l1["_raw"]
    check(l1, "ps_table_lines", str(len(procs) + 1))  # header + one line per pid


def test_kill_all_and_delete_removes_cgroup(l1):
    for k, v in (("create_rc", "0"), ("start_rc", "0"), ("cgdir", "present"),
                 ("killall_rc", "0"), ("procs_after_kill", "0"), ("killed_status", "stopped"),
                 ("delete_rc", "0"), ("cgdir_after_delete", "gone"),
                 ("state_after_delete", "gone"), ("isola.cgdir_after_run", "gone")):
        check(l1, k, v)


# podman in L1 (pure v2): the same image, `podman --runtime isola-oci` and
# `--runtime crun` in turn. peers.Podman's private setup, but on a tmpfs of L1
# (its overlay driver cannot stack on L1's root, itself an overlay over 9p) with
# the vfs driver, and `--network none` (the CNI bridge is test_podman.py's
# business). One storage for both runtimes: podman in TCG is slow (~20 s a
# command on a loaded machine), so it runs import once, then one `run` per runtime.
PODMAN = r"""
import json, os, subprocess, sys
sys.path.insert(0, sys.argv[1])
from peers import Podman
rootfs, runtimes = sys.argv[2], sys.argv[3:]
base = f"/tmp/ociv2-pod-{os.getpid()}"
os.makedirs(base)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", base], check=True)
res = {}
try:
    p = Podman(os.path.join(base, "p"), runtimes[0], tag=os.getpid() % 10000)
    sc = os.path.join(base, "p", "storage.conf")
    txt = open(sc).read().replace('"overlay"', '"vfs"')
    with open(sc, "w") as f:
        f.write(txt)
    tar = subprocess.run(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE,
                         check=True).stdout
    r = subprocess.run(["podman", "import", "-", "localhost/isola-bb"], input=tar, env=p.env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=200)
    res["import"] = [r.returncode, r.stderr.decode()[-1000:]]
    for rt in runtimes:
        p.runtime = rt
        r = p("run", "--rm", "--network", "none", "-m", "32m", "--pids-limit", "50",
              "localhost/isola-bb", "sh", "-c",
              "cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; "
              "sh -c 'for i in $(seq 60); do sleep 5 & done' 2>/dev/null; "
              "read n < /sys/fs/cgroup/pids.current; echo $n; exit 7", timeout=200)
        res[os.path.basename(rt)] = [r.returncode, r.stdout, r.stderr[-1000:]]
finally:
    subprocess.run(["umount", "-l", base])
    os.rmdir(base)
    # podman's cgroupfs parent, if it left it (container cgroups go with --rm)
    for d, _, _ in sorted(os.walk("/sys/fs/cgroup/libpod_parent"), reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass
print("RESULT=" + json.dumps(res))
"""


@pytest.fixture(scope="module")
def pod(testhost, rootfs_template):
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (scripts/install-deps.sh)")
    oci = os.path.join(BUILD, "src", "cli", "isola-oci")
    r = testhost.run(["/usr/bin/python3", "-c", PODMAN,
                      os.path.join(ROOT, "tests", "integration"), rootfs_template, oci,
                      "/usr/bin/crun"], timeout=600)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT=")]
    assert line, r
    res = json.loads(line[-1][len("RESULT="):])
    assert res["import"][0] == 0, res["import"][1]
    return res


@pytest.mark.parametrize("runtime", ["isola-oci", "crun"])
def test_podman_run_limits_on_pure_v2(pod, runtime):
    rc, out, err = pod[runtime]
    assert rc == 7, f"exit {rc}\nstdout: {out}\nstderr: {err}"
    lines = out.split()
    assert lines[:3] == ["0::/", str(32 * MiB), "50"], out
    assert 40 <= int(lines[3]) <= 50, out  # 60 sleepers tried, pids.max 50 held


def test_podman_isola_matches_crun(pod):
    (irc, iout, _), (crc, cout, _) = pod["isola-oci"], pod["crun"]
    assert (irc, iout.split()[:3]) == (crc, cout.split()[:3]), pod


# run, create --config, pause/resume, update, exec and delete on pure v2.
RC_SCRIPT = r'''
set -u
O={exe}; R={root}; B={bundle}; ID={id}
$O --root $R run -b $B $ID-a || exit 10
$O --root $R create -b $B --config $B/sleep.json $ID-b </dev/null >/dev/null 2>&1 || exit 11
$O --root $R start $ID-b || exit 12
$O --root $R pause $ID-b || exit 13
$O --root $R state $ID-b | grep -q '"paused"' || exit 14
$O --root $R resume $ID-b || exit 15
$O --root $R update --pids-limit 12 $ID-b || exit 16
echo "pids.max=$(cat /sys/fs/cgroup/isola/$ID-b/pids.max)"
$O --root $R exec $ID-b sh -c 'echo exec-cgroup=$(cat /proc/self/cgroup)' || exit 17
$O --root $R delete --force $ID-b || exit 18
test -e /sys/fs/cgroup/isola/$ID-b && exit 19
test -e /sys/fs/cgroup/isola/$ID-a && exit 20
echo all-done
'''


def test_oci_on_pure_cgroup_v2(testhost, tmp_root, rootfs):
    th = testhost
    os.chmod(tmp_root, 0o755)
    bundle = os.path.join(tmp_root, "bundle")
    os.makedirs(bundle)
    os.symlink(rootfs, os.path.join(bundle, "rootfs"))
    cfg = copy.deepcopy(BASE)
    cfg["process"]["args"] = ["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max"]
    cfg["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 33}}
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    cfg["process"]["args"] = ["sleep", "100"]
    with open(os.path.join(bundle, "sleep.json"), "w") as f:
        json.dump(cfg, f)
    script = RC_SCRIPT.format(exe=binary("isola-oci"), root=os.path.join(tmp_root, "state"),
                           bundle=bundle, id=f"v2-{os.getpid()}")
    r = th.run(["sh", "-c", script], timeout=300)
    assert r.returncode == 0, r
    assert f"{64 << 20}\n33\n" in r.stdout
    assert "pids.max=12" in r.stdout
    assert "exec-cgroup=0::/" in r.stdout
    assert "all-done" in r.stdout
