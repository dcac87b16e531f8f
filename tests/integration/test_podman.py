"""podman drives isola-oci (`podman --runtime`) for the everyday verbs.

podman here has a private containers.conf (cgroupfs manager, file events,
nofile/nproc ulimits this host can grant), storage.conf and CNI network; see
peers.py. Each test checks from inside the container what a user would.
"""
import os
import shutil
import time

import pytest

from peers import Podman

pytestmark = pytest.mark.skipif(shutil.which("podman") is None,
                                reason="podman is not installed (scripts/install-deps.sh)")

IMAGE = "localhost/isola-bb"


@pytest.fixture(scope="module")
def podman(oci_runtime, rootfs_template, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("podman"))
    p = Podman(root, oci_runtime, tag=os.getpid() % 10000)
    try:
        p.import_rootfs(rootfs_template, IMAGE)
        yield p
    finally:
        p.close()


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def test_run_prints_and_exit_status(podman):
    assert ok(podman("run", "--rm", IMAGE, "echo", "hello from podman")) == "hello from podman\n"
    assert podman("run", "--rm", IMAGE, "sh", "-c", "exit 7").returncode == 7


def test_memory_and_pids_limits(podman):
    out = ok(podman("run", "--rm", "-m", "32m", "--pids-limit", "50", IMAGE, "sh", "-c",
                    "cat /sys/fs/cgroup/memory.max 2>/dev/null || "
                    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                    "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max"))
    assert out.split() == ["33554432", "50"]


def test_pids_limit_is_enforced(podman):
    # Try to start 20 sleepers under pids.max 8, then read pids.current with
    # shell builtins only (no fork is left to spend).
    out = ok(podman("run", "--rm", "--pids-limit", "8", IMAGE, "sh", "-c",
                    "sh -c 'for i in $(seq 20); do sleep 5 & done' 2>/dev/null; "
                    "f=/sys/fs/cgroup/pids.current; [ -e $f ] || f=/sys/fs/cgroup/pids/pids.current; "
                    "read n < $f; echo current $n"))
    n = int(out.split()[1])
    assert 3 <= n <= 8, out


def test_cap_drop(podman):
    out = ok(podman("run", "--rm", "--cap-drop", "NET_RAW", "--cap-drop", "CHOWN", IMAGE,
                    "grep", "CapEff", "/proc/self/status"))
    eff = int(out.split()[1], 16)
    assert not eff & (1 << 13), "CAP_NET_RAW still effective"
    assert not eff & (1 << 0), "CAP_CHOWN still effective"
    assert eff & (1 << 6), "CAP_SETGID (a podman default) missing"


def test_volume_readonly_rootfs_and_user(podman, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "in.txt").write_text("from host\n")
    os.chmod(vol, 0o777)
    out = ok(podman("run", "--rm", "--read-only", "--user", "1000:1000", "-v", f"{vol}:/data",
                    IMAGE, "sh", "-c",
                    "id -u; id -g; cat /data/in.txt; echo out > /data/out.txt; "
                    "touch /x 2>/dev/null && echo writable || echo readonly"))
    assert out.split("\n")[:4] == ["1000", "1000", "from host", "readonly"]
    assert (vol / "out.txt").read_text() == "out\n"
    assert (vol / "out.txt").stat().st_uid == 1000


def test_default_bridge_network(podman):
    out = ok(podman("run", "--rm", IMAGE, "sh", "-c",
                    f"ip -4 -o addr show eth0; ping -c1 -W5 {podman.subnet}.1 >/dev/null && echo pong"))
    assert f"inet {podman.subnet}." in out
    assert "pong" in out


def test_detached_exec_stop_rm(podman):
    name = f"isola-t{os.getpid()}"
    ok(podman("run", "-d", "--name", name, IMAGE, "sleep", "300"))
    try:
        assert ok(podman("exec", name, "cat", "/proc/1/cmdline")).startswith("sleep")
        assert ok(podman("exec", "--user", "1000", name, "id", "-u")) == "1000\n"
        assert ok(podman("inspect", "--format", "{{.State.Status}}", name)).strip() == "running"
        ok(podman("stop", "--time", "2", name))
        assert ok(podman("inspect", "--format", "{{.State.Status}}", name)).strip() == "exited"
    finally:
        ok(podman("rm", "--force", name))
    assert podman("inspect", name).returncode != 0
