# SPDX-License-Identifier: GPL-2.0-or-later
"""isola-oci next to crun on pure cgroup v2 (the testhost, L1): same bundle,
same output.

The host side of these checks is test_oci_conformance.py; this is the part
that needs cgroup v2 (this machine is a v1/v2 hybrid): the eBPF device
filter, the v2 files behind linux.resources and `update`, the cgroup2 mount
and freezer, and the process and mount probes once more. To keep the slow L1
(QEMU TCG) to one boot and one command, ONE Python script (L1 below) runs
every probe in L1 under both runtimes with test_oci_conformance's `Runtime`
helper, on a tmpfs copy of the busybox rootfs, and prints the results as JSON;
the tests below compare them one by one. runc is not run there: Debian's
runc 1.1.5 works on v2 too, but crun is the v2 reference (runc's v2 numbers are
checked against crun's by their own projects) and one peer keeps L1's time
down.
"""
import json
import os

import pytest

from conftest import BUILD, ROOT, binary

import test_oci_conformance as C

# Runs in L1: argv = tests dir, rootfs template, isola-oci. Prints RESULT=json.
L1 = r'''
import copy, json, os, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import test_oci_conformance as C
template, exe = sys.argv[2], sys.argv[3]
base = f"/tmp/conform-v2-{os.getpid()}"
os.makedirs(base)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", base], check=True)
res = {}
rts = []
try:
    rootfs = os.path.join(base, "rootfs")
    subprocess.run(["cp", "-a", template, rootfs], check=True)
    rts = [C.Runtime("isola-oci", exe, base, rootfs, "v2"),
           C.Runtime("crun", "/usr/bin/crun", base, rootfs, "v2")]

    def each(name, fn):
        for rt in rts:
            try:
                res.setdefault(name, {})[rt.name] = fn(rt)
            except Exception as e:  # a probe's failure is its result
                res.setdefault(name, {})[rt.name] = ["exception", repr(e)[:2000], ""]

    for name, cfg in json.loads(sys.argv[4]).items():
        each(name, lambda rt: list(rt.run_bundle(cfg)))

    # update: one container per runtime, the same flags in turn, the v2 files
    # of the container's cgroup (found from its init's /proc/PID/cgroup) read
    # after each.
    def updates(rt):
        cfg = C.config(["sleep", "1000"])
        cfg["linux"]["resources"] = {"memory": {"limit": 256 << 20, "swap": 512 << 20},
                                     "pids": {"limit": 100}, "cpu": {"shares": 1024}}
        cid = rt.create(cfg)
        rt.cmd("start", cid)
        pid = rt.state(cid)["pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            cg = "/sys/fs/cgroup" + f.read().strip().split("::", 1)[1]

        def files():
            out = ""
            for name in V2_FILES:
                try:
                    with open(os.path.join(cg, name)) as f:
                        out += f"{name}={f.read().strip()}\n"
                except OSError:
                    out += f"{name}=\n"
            return out
        steps = [["before", files()]]
        for flags in UPDATES:
            p = rt.cmd("update", *flags, cid)
            steps.append([" ".join(flags), p.returncode == 0, files(), p.stderr[-300:]])
        rt.cmd("delete", "--force", cid)
        return steps
    each("update", updates)

    def kills(rt):
        out = {}
        for state, verb in KILLS:
            cid = C._lifecycle(rt, state)
            args = list(verb)
            if verb[0] == "kill":
                args.insert(len(args) - 1, cid)
            else:
                args.append(cid)
            p = rt.cmd(*args)
            st = "gone"
            for _ in range(100):
                q = rt.cmd("state", cid)
                st = json.loads(q.stdout)["status"] if q.returncode == 0 else "gone"
                if st in ("stopped", "gone") or verb[-1] != "KILL":
                    break
                time.sleep(0.05)
            out[f"{state} {' '.join(verb)}"] = [p.returncode == 0, st]
            rt.cmd("delete", "--force", cid)
        return out
    each("kill", kills)

    def ps_state(rt):
        cid = rt.create(C.config(["sh", "-c", "sleep 1000 & sleep 1000 & wait"]))
        rt.cmd("start", cid)
        n = 0
        for _ in range(100):
            n = len(json.loads(rt.cmd("ps", "--format", "json", cid).stdout))
            if n == 3:
                break
            time.sleep(0.05)
        shape = C._shape(rt.state(cid), rt, cid)
        rt.cmd("pause", cid)
        paused = rt.state(cid)["status"]
        rt.cmd("resume", cid)
        rt.cmd("delete", "--force", cid)
        return [n, shape, paused]
    each("ps_state", ps_state)
finally:
    for rt in rts:
        rt.cleanup()
    subprocess.run(["umount", "-l", base])
    os.rmdir(base)
print("RESULT=" + json.dumps(res))
'''

# The v2 files a container reads of its own cgroup (cgroup namespace).
V2_FILES = ("memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max",
            "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.bfq.weight")
READ_V2 = "; ".join(f"echo {f}=$(cat /sys/fs/cgroup/{f} 2>/dev/null)" for f in V2_FILES)

# In turn on one container. --cpu-period alone comes before any quota: crun
# 1.8.1 then resets the quota to max, runc and isola-oci keep the one set.
UPDATES = [
    ["--memory", "134217728"],
    ["--memory", "134217728", "--memory-swap", "268435456"],
    ["--memory-swap", "201326592"],  # refused without --memory on v2 (both)
    ["--memory-reservation", "67108864"],
    ["--cpu-share", "512"],
    ["--cpu-period", "50000"],
    ["--cpu-quota", "50000", "--cpu-period", "200000"],
    ["--cpuset-cpus", "0"],
    ["--cpuset-mems", "0"],
    ["--pids-limit", "77"],
    ["--blkio-weight", "300"],
    ["--memory", "-1"],
]

KILLS = [("created", ("kill", "KILL")), ("running", ("kill", "0")),
         ("paused", ("kill", "--all", "KILL")), ("paused", ("delete",)),
         ("paused", ("delete", "--force")), ("stopped", ("kill", "--all", "KILL")),
         ("stopped", ("delete",)), ("running", ("delete",))]

RESOURCES = {
    "memory": {"limit": 64 << 20, "reservation": 32 << 20, "swap": 96 << 20},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
    "pids": {"limit": 40},
    "blockIO": {"weight": 200},
}


def _probes():
    """Bundles run once under each runtime: name -> config."""
    p = {}
    cfg = C.config(["sh", "-c", C.STATUS])
    cfg["process"]["capabilities"] = {s: C.FIVE for s in
                                      ("bounding", "effective", "permitted", "inheritable",
                                       "ambient")}
    cfg["process"]["noNewPrivileges"] = False
    p["caps"] = cfg
    cfg = C.config(["sh", "-c", C.LIMITS + "; umask; id; cat /proc/self/oom_score_adj"])
    cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512},
                                 {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]
    cfg["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10], "umask": 0o27}
    cfg["process"]["oomScoreAdj"] = 300
    p["process"] = cfg
    cfg = C.config(["sh", "-c", C.MOUNTINFO])
    cfg["root"]["readonly"] = True
    cfg["mounts"][-1] = {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
    p["mounts"] = cfg
    cfg = C.config(["sh", "-c", "ls -ln /dev | grep -v ' /proc/kcore$' | "
                    "awk '{print $1, $3, $4, $5, $6, $NF}' | sort; "
                    "head -c 1 /dev/fuse >/dev/null 2>&1; echo fuse=$?; "
                    "mknod /dev/made c 1 3 && echo mknod=ok && echo x > /dev/made && echo made=ok; "
                    "head -c 1 /dev/loop-like 2>&1 | sed 's/.*: //'; "
                    "echo x > /dev/null && echo null=ok"])
    cfg["process"]["capabilities"] = {s: ["CAP_MKNOD"] for s in
                                      ("bounding", "effective", "permitted")}
    cfg["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640},
        {"path": "/dev/loop-like", "type": "b", "major": 7, "minor": 200, "fileMode": 0o600},
    ]
    cfg["linux"]["resources"] = {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
    ]}
    p["devices"] = cfg
    cfg = C.config(["sh", "-c", "cat /proc/self/cgroup; " + READ_V2])
    cfg["linux"]["resources"] = RESOURCES
    p["resources"] = cfg
    return p


@pytest.fixture(scope="module")
def l1(testhost, rootfs_template):
    exe = binary("isola-oci")
    r = testhost.run(["/usr/bin/python3", "-c", L1.replace("UPDATES", repr(UPDATES))
                      .replace("KILLS", repr(KILLS)).replace("V2_FILES", repr(V2_FILES)),
                      os.path.join(ROOT, "tests", "integration"), rootfs_template, exe,
                      json.dumps(_probes())],
                     timeout=900, env={"ISOLA_BUILD": BUILD})
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT=")]
    assert line, r
    with open(os.path.join(BUILD, "conformance-v2.json"), "w") as f:  # for a reader
        f.write(line[-1][len("RESULT="):])
    return json.loads(line[-1][len("RESULT="):])


def _cmp(a, b, what):
    if a != b:
        pytest.fail(f"{what}: isola-oci vs crun on cgroup v2:\nisola-oci: {a}\ncrun: {b}",
                    pytrace=False)


@pytest.mark.parametrize("probe", ["caps", "process", "devices", "resources"])
def test_probe_same_output(l1, probe):
    got = l1[probe]
    assert got["isola-oci"][0] == 0, got["isola-oci"]
    _cmp(got["isola-oci"][:2], got["crun"][:2], probe)


def test_devices_ebpf_denies_and_allows_mknod(l1):
    out = l1["devices"]["isola-oci"][1]
    assert "Operation not permitted" in out and "mknod=ok" in out and "null=ok" in out, out


def test_mounts_same(l1):
    cfg = _probes()["mounts"]
    a, b = l1["mounts"]["isola-oci"], l1["mounts"]["crun"]
    assert a[0] == 0, a
    _cmp(C.norm_mounts(a[1], cfg), C.norm_mounts(b[1], cfg), "mounts")


@pytest.mark.parametrize("step", range(len(UPDATES) + 1))
def test_update_same_v2_files(l1, step):
    a, b = l1["update"]["isola-oci"], l1["update"]["crun"]
    assert a[0] != "exception" and b[0] != "exception", (a, b)
    assert "memory.max=" in a[step][1 if step == 0 else 2], a[step]
    _cmp(a[step][:3], b[step][:3], f"update step {a[step][0]}")
    assert "memory.max=\n" not in a[step][1 if step == 0 else 2], a[step]  # files were read


def test_update_values_v2(l1):
    """What a user checks after `update` on v2 (cgroup-v2.rst; runc's and crun's
    conversions: cpu.weight = 1 + (shares - 2) * 9999 / 262142)."""
    steps = {s[0]: s for s in l1["update"]["isola-oci"]}
    assert "memory.max=134217728" in steps["--memory 134217728"][2]
    assert "memory.swap.max=134217728" in steps["--memory 134217728 --memory-swap 268435456"][2]
    assert steps["--memory-swap 201326592"][1] is False
    assert "cpu.max=max 50000" in steps["--cpu-period 50000"][2]
    assert "memory.low=67108864" in steps["--memory-reservation 67108864"][2]
    assert "cpu.weight=20" in steps["--cpu-share 512"][2]
    assert "cpu.max=50000 200000" in steps["--cpu-quota 50000 --cpu-period 200000"][2]
    assert "pids.max=77" in steps["--pids-limit 77"][2]
    assert "memory.max=max" in steps["--memory -1"][2]


def test_kill_delete_states_v2(l1):
    a, b = l1["kill"]["isola-oci"], l1["kill"]["crun"]
    assert a.get("paused kill --all KILL") == [True, "stopped"], a
    assert a.get("running kill 0") == [True, "running"], a
    _cmp(a, b, "kill/delete")


def test_ps_state_pause_v2(l1):
    a, b = l1["ps_state"]["isola-oci"], l1["ps_state"]["crun"]
    # crun leaves out empty annotations; runc and isola-oci write {}
    b[1].setdefault("annotations", {})
    assert a[0] == 3 and a[2] == "paused", a
    _cmp(a, b, "ps/state/pause")
