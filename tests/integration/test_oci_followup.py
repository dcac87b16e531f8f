# SPDX-License-Identifier: GPL-2.0-or-later
"""isola-oci: the seccomp cache under the state root, cleanup after a runtime
killed mid-create, exec --tty in the foreground."""
import copy
import json
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

from test_oci_config import sh


SECCOMP = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
}


def test_seccomp_cache_is_private_and_reused(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["seccomp"] = SECCOMP
    cache = os.path.join(oci.root, ".seccomp-cache")
    for _ in range(2):  # cold cache, then warm: the filter holds both times
        p, _ = oci.run(sh("mkdir /tmp/x 2>&1; grep ^Seccomp: /proc/self/status"), config=cfg)
        assert "Operation not permitted" in p.stdout, p.stdout + p.stderr
        assert "Seccomp:\t2" in p.stdout
        st = os.stat(cache)
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
        assert len(os.listdir(cache)) == 1, os.listdir(cache)
    p = oci.cmd("list", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert ".seccomp-cache" not in p.stdout
    # the cache's name is not a container id
    p = oci.cmd("run", "--bundle", oci.bundle, ".seccomp-cache")
    assert p.returncode != 0 and "reserved" in p.stderr, p.stderr


def test_seccomp_cache_in_exec(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["seccomp"] = SECCOMP
    cfg["process"]["args"] = ["sleep", "60"]
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.detached("run", "--detach", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    p = oci.cmd("exec", cid, "sh", "-c", "mkdir /tmp/e 2>&1; true")
    assert "Operation not permitted" in p.stdout, p.stdout + p.stderr
    assert len(os.listdir(os.path.join(oci.root, ".seccomp-cache"))) == 1
    assert oci.cmd("delete", "--force", cid).returncode == 0


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_runtime_killed_inside_cgroup_create(oci):
    """kill -9 of the runtime while cgroup_create() is half done (strace holds
    its mkdir of the last directory): `delete --force` still finds and removes
    every cgroup directory, because the state named them before they existed."""
    if shutil.which("strace") is None:
        pytest.skip("strace missing (Debian package strace): cannot stop the runtime mid-mkdir")
    if not os.path.isdir("/sys/fs/cgroup/memory") or not os.path.isdir("/sys/fs/cgroup/unified"):
        pytest.skip("needs this host's hybrid layout (v1 memory + /sys/fs/cgroup/unified)")
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    oci.write(cfg)
    cid = oci.new_id()
    v1 = os.path.join("/sys/fs/cgroup/memory/isola", cid)
    v2 = os.path.join("/sys/fs/cgroup/unified/isola", cid)
    # hybrid: every v1 directory is made before the v2 one, whose mkdir strace delays
    tracer = subprocess.Popen(
        ["strace", "-f", "-o", "/dev/null", "-P", v2, "-e", "trace=mkdir",
         "-e", "inject=mkdir:delay_enter=60000000", oci.exe, "--root", oci.root, "create",
         "--bundle", oci.bundle, cid],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            if os.path.isdir(v1):
                break
            time.sleep(0.05)
        assert os.path.isdir(v1), "the runtime never reached cgroup_create"
        children = open(f"/proc/{tracer.pid}/task/{tracer.pid}/children").read().split()
        assert len(children) == 1, children
        runtime = int(children[0])
        os.kill(runtime, signal.SIGKILL)
        # a killed tracee waits in its exit stop for the tracer: let strace go
        # (the held mkdir is never executed: SIGKILL ends the syscall-entry stop)
        time.sleep(0.5)
        tracer.kill()
        tracer.wait(timeout=30)
        for _ in range(400):
            if gone(runtime):
                break
            time.sleep(0.05)
        assert gone(runtime)
    finally:
        tracer.kill()
        tracer.wait(timeout=30)
    st = json.load(open(os.path.join(oci.root, cid, "state.json")))
    assert st["pid"] == 0 and st["isola"]["creating"], st
    assert oci.state(cid)["status"] == "creating"
    p = oci.cmd("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    assert not oci.leftovers(cid)
    assert not os.path.exists(v2)
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    assert cid not in mounts and oci.bundle not in mounts


def test_exec_tty_without_console_socket_relays_the_pty(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "60"]
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.detached("run", "--detach", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    p = oci.cmd("exec", "--tty", cid, "sh", "-c", "tty; read x; echo got $x; exit 4",
                input="hello\n")
    assert p.returncode == 4, p.stderr
    assert "/dev/pts/" in p.stdout and "got hello" in p.stdout, p.stdout
    # detached, nobody could relay it: a clear error
    p = oci.detached("exec", "--tty", "--detach", cid, "true")
    assert p.returncode != 0 and "--console-socket" in p.stderr, p.stderr
    assert oci.cmd("delete", "--force", cid).returncode == 0
