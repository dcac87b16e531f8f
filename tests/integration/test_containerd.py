"""containerd drives isola-oci through its runc shim (`ctr run --runc-binary`).

A private containerd (CRI plugin disabled; root, state and sockets under the
test's directory; see peers.py) imports an OCI archive of the busybox fixture.
"""
import os
import shutil
import time

import pytest

from peers import Containerd, oci_archive

pytestmark = pytest.mark.skipif(shutil.which("containerd") is None or shutil.which("ctr") is None,
                                reason="containerd/ctr are not installed (scripts/install-deps.sh)")

IMAGE = "localhost/isola-bb:latest"


@pytest.fixture(scope="module")
def ctrd(oci_runtime, rootfs_template, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("containerd"))
    archive = os.path.join(root, "bb.tar")
    oci_archive(rootfs_template, archive, IMAGE)
    c = Containerd(os.path.join(root, "d"), oci_runtime)
    try:
        r = c.ctr("images", "import", archive)
        assert r.returncode == 0, r.stderr
        yield c
    finally:
        c.close()


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def cid(name):
    return f"{name}-{os.getpid()}"


def test_run_rm(ctrd):
    p = ctrd.ctr("run", "--rm", "--runc-binary", ctrd.runtime, IMAGE, cid("hello"),
                 "echo", "hello from containerd")
    assert ok(p) == "hello from containerd\n"
    p = ctrd.ctr("run", "--rm", "--runc-binary", ctrd.runtime, IMAGE, cid("exit"),
                 "sh", "-c", "exit 3")
    assert p.returncode == 3


def cgroup_file(pid, controller, name):
    """The host path of a cgroup file of pid (v1: the controller's hierarchy; v2: unified)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(","):
                return f"/sys/fs/cgroup/{controller}{path}/{name}"
            if ctrls == "" and os.path.exists(f"/sys/fs/cgroup/cgroup.controllers"):
                return f"/sys/fs/cgroup{path}/{name}"
    raise AssertionError(f"no {controller} cgroup for pid {pid}")


def task_pid(ctrd, name):
    for line in ok(ctrd.ctr("task", "ls")).splitlines()[1:]:
        f = line.split()
        if f[0] == name:
            return int(f[1])
    raise AssertionError(f"task {name} not listed")


def test_detached_memory_limit_exec_kill(ctrd):
    name = cid("det")
    ok(ctrd.ctr("run", "-d", "--memory-limit", str(48 << 20), "--runc-binary", ctrd.runtime,
                IMAGE, name, "sleep", "300"))
    try:
        pid = task_pid(ctrd, name)
        v1 = os.path.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")
        with open(cgroup_file(pid, "memory", "memory.limit_in_bytes" if v1 else "memory.max")) as f:
            assert int(f.read()) == 48 << 20
        out = ok(ctrd.ctr("task", "exec", "--exec-id", f"e{os.getpid()}", name,
                          "sh", "-c", "echo exec ok; cat /proc/1/cmdline"))
        assert out.startswith("exec ok\nsleep")
        ok(ctrd.ctr("task", "kill", "-s", "SIGKILL", name))
        deadline = time.monotonic() + 30
        while "STOPPED" not in ctrd.ctr("task", "ls").stdout and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "STOPPED" in ctrd.ctr("task", "ls").stdout
        assert not os.path.exists(f"/proc/{pid}")
    finally:
        ctrd.ctr("task", "delete", "-f", name)
        ctrd.ctr("container", "delete", name)
    assert name not in ok(ctrd.ctr("containers", "ls", "-q")).split()
