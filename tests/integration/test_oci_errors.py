"""isola-oci on bad input and faults: a precise message naming the field, path or
id, a non-zero exit, and nothing left behind (state dir, cgroup, processes)."""
import copy
import json
import os
import signal
import subprocess
import time

import pytest


def gone(pid, bound=100):
    """pid has exited (a zombie waiting for a reaper counts as exited)."""
    for _ in range(bound):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def fails(oci, cfg, *want):
    """run cfg; it must fail with every string of want in stderr, leaving nothing."""
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.detached("run", "--bundle", oci.bundle, cid)
    assert p.returncode != 0
    for w in want:
        assert w in p.stderr, p.stderr
    assert not oci.leftovers(cid), oci.leftovers(cid)
    return p


def test_malformed_json(oci):
    with open(os.path.join(oci.bundle, "config.json"), "w") as f:
        f.write('{"ociVersion": "1.2.0", "process": {')
    cid = oci.new_id()
    p = oci.cmd("run", "--bundle", oci.bundle, cid)
    assert p.returncode != 0
    assert "config.json" in p.stderr and "line 1" in p.stderr
    assert not oci.leftovers(cid)


@pytest.mark.parametrize("path,value,want", [
    ("process.user.uid", "root", "process.user.uid: expected an integer"),
    ("process.args", "sh", "process.args: expected an array"),
    ("process.terminal", 1, "process.terminal: expected a boolean"),
    ("process.rlimits", [{"type": "RLIMIT_NOFILE", "soft": "x", "hard": 1}],
     "process.rlimits[0].soft: expected"),
    ("process.capabilities", {"bounding": ["CAP_BOGUS"]},
     "process.capabilities.bounding[0]: unknown capability"),
    ("linux.namespaces", [{"type": "mount"}, {"type": "pid", "path": 3}],
     "linux.namespaces[1].path: expected a string"),
    ("linux.resources", {"memory": {"limit": "lots"}}, "linux.resources.memory.limit"),
    ("linux.seccomp", {"defaultAction": "SCMP_ACT_BOGUS"}, "linux.seccomp.defaultAction"),
    ("mounts", [{"destination": "/x", "type": "tmpfs", "options": "ro"}],
     "mounts[0].options: expected an array"),
    ("linux.sysctl", {"kernel.panic": "1"}, "linux.sysctl.kernel.panic"),
    ("process.selinuxLabel", "system_u:system_r:container_t:s0", "process.selinuxLabel"),
])
def test_wrong_typed_or_unsupported_field(oci, path, value, want):
    cfg = copy.deepcopy(oci.config)
    obj = cfg
    keys = path.split(".")
    for k in keys[:-1]:
        obj = obj[k]
    obj[keys[-1]] = value
    fails(oci, cfg, want)


def test_missing_rootfs(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["root"]["path"] = "/nonexistent/rootfs"
    fails(oci, cfg, "root.path", "/nonexistent/rootfs", "No such file or directory")


def test_missing_executable(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["no-such-program", "x"]
    fails(oci, cfg, "executable `no-such-program` not found")


def test_invalid_and_duplicate_ids(oci):
    oci.write()
    p = oci.cmd("create", "--bundle", oci.bundle, "bad/id")
    assert p.returncode != 0 and "invalid container id `bad/id`" in p.stderr
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    oci.write(cfg)
    cid = oci.new_id()
    assert oci.detached("create", "--bundle", oci.bundle, cid).returncode == 0
    p = oci.detached("create", "--bundle", oci.bundle, cid)
    assert p.returncode != 0 and f"container `{cid}` already exists" in p.stderr
    # the first one is intact
    assert oci.state(cid)["status"] == "created"


def test_hanging_hook_times_out(oci, tmp_root):
    cfg = copy.deepcopy(oci.config)
    pidfile = os.path.join(tmp_root, "hook.pid")
    cfg["hooks"] = {"createRuntime": [{"path": "/bin/sh", "timeout": 1,
                                       "args": ["sh", "-c", f"echo $$ > {pidfile}; exec sleep 60"]}]}
    p = fails(oci, cfg, "hooks.createRuntime[0] `/bin/sh`: timed out after 1 s")
    assert gone(int(open(pidfile).read())), "the hook was not killed"


def test_failing_hook(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["hooks"] = {"prestart": [{"path": "/bin/false"}]}
    fails(oci, cfg, "hooks.prestart[0] `/bin/false`: failed with exit status 1")
    cfg["hooks"] = {"prestart": [{"path": "/no/hook"}]}
    fails(oci, cfg, "hooks.prestart[0]: exec `/no/hook`: No such file")


def test_container_exits_before_start(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    oci.write(cfg)
    cid = oci.new_id()
    assert oci.detached("create", "--bundle", oci.bundle, cid).returncode == 0
    pid = oci.state(cid)["pid"]
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if oci.state(cid)["status"] == "stopped":
            break
        time.sleep(0.05)
    p = oci.cmd("start", cid)
    assert p.returncode != 0 and "is not in the created state (it is stopped)" in p.stderr
    assert oci.cmd("delete", cid).returncode == 0
    assert not oci.leftovers(cid)


def test_runtime_killed_during_create(oci, tmp_root):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    marker = os.path.join(tmp_root, "in-hook")
    cfg["hooks"] = {"createRuntime": [{"path": "/bin/sh",
                                       "args": ["sh", "-c", f"echo $$ > {marker}; exec sleep 60"]}]}
    cfg["linux"]["resources"] = {"pids": {"limit": 10}}
    oci.write(cfg)
    cid = oci.new_id()
    rt = subprocess.Popen([oci.exe, "--root", oci.root, "create", "--bundle", oci.bundle, cid],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(marker) and os.path.getsize(marker) > 0:
                break
            time.sleep(0.05)
        assert os.path.exists(marker)
        hook_pid = int(open(marker).read())
        init_pid = json.load(open(os.path.join(oci.root, cid, "state.json")))["pid"]
        rt.kill()
        rt.wait(timeout=30)
    finally:
        if rt.poll() is None:
            rt.kill()
            rt.wait()
    # the init and the hook died with the runtime (PDEATHSIG)
    for pid in (init_pid, hook_pid):
        assert gone(pid), f"pid {pid} outlived the runtime"
    st = oci.state(cid)
    assert st["status"] in ("stopped", "creating")
    p = oci.cmd("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    assert not oci.leftovers(cid)
