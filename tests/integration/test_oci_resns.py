"""isola-oci resources and namespaces as runc and crun treat them: cgroups left
behind by failures, kernelTCP, realtime cpu, configs without a mount or UTS
namespace. Where runc runs here, the same bundle runs with it and the results
are compared."""
import copy
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import run

CG = "/sys/fs/cgroup"


def cgroup_dirs(top):
    """Every directory named `top` directly below any hierarchy's root (all of
    them, also those isola-oci does not use: net_cls, perf_event, ...)."""
    return sorted(p for p in glob.glob(os.path.join(CG, "*", top.strip("/")))
                  if os.path.isdir(p))


def rmdir_tree(path):
    for dirpath, _, _ in sorted(os.walk(path), key=lambda w: -len(w[0])):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


@pytest.fixture
def cgtop(request):
    """A cgroup parent of this test's own (cgroupsPath /TOP/ID): every directory
    a run leaves below any hierarchy shows; removed in every outcome."""
    top = f"isola-cgtest-{os.getpid()}-{request.node.name[:30]}".replace("[", "-").replace(
        "]", "")
    try:
        yield top
    finally:
        for d in cgroup_dirs(top):
            rmdir_tree(d)


def bad(cfg, what):
    cfg = copy.deepcopy(cfg)
    if what == "hook":
        cfg["hooks"] = {"prestart": [{"path": "/no/such/hook"}]}
    elif what == "hook-fails":
        cfg["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}
    elif what == "args":
        cfg["process"]["args"] = ["/no/such/binary"]
    elif what == "cwd":
        cfg["process"]["cwd"] = "/no/such/dir"
    elif what == "cpuset":
        cfg["linux"].setdefault("resources", {})["cpu"] = {"cpus": "4095"}
    elif what == "mount":
        cfg["mounts"].append({"destination": "/mnt", "type": "bind",
                              "source": "/no/such/source", "options": ["bind"]})
    elif what == "sysctl":
        cfg["linux"]["sysctl"] = {"net.no.such.key": "1"}
    elif what == "exec":
        # passes create's check (an executable file), fails in execve at start
        cfg["process"]["args"] = ["/badinterp"]
    elif what == "seccomp":
        # execve itself refused: fails at start
        cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                   "syscalls": [{"names": ["execve", "execveat"],
                                                 "action": "SCMP_ACT_ERRNO"}]}
    return cfg


@pytest.mark.parametrize("what", ["hook", "hook-fails", "args", "cwd", "cpuset", "mount",
                                  "sysctl", "exec", "seccomp"])
def test_no_cgroup_left_after_failure(oci, cgtop, what):
    with open(os.path.join(oci.bundle, "rootfs", "badinterp"), "w") as f:
        f.write("#!/no/such/interpreter\n")
    os.chmod(os.path.join(oci.bundle, "rootfs", "badinterp"), 0o755)
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["true"]
    cid = oci.new_id()
    cfg["linux"]["cgroupsPath"] = f"/{cgtop}/{cid}"
    oci.write(bad(cfg, what))
    p = oci.detached("create", "--bundle", oci.bundle, cid)
    if p.returncode == 0:
        # failing later: at start, or in the process; delete then cleans up
        p = oci.cmd("start", cid)
        for _ in range(100):
            st = oci.cmd("state", cid)
            if st.returncode != 0 or json.loads(st.stdout)["status"] == "stopped":
                break
            time.sleep(0.05)
        d = oci.cmd("delete", cid)
        assert d.returncode == 0, d.stderr
        st = oci.cmd("state", cid)
        assert st.returncode != 0, st.stdout
    else:
        assert oci.cmd("state", cid).returncode != 0
    assert what in ("exec", "seccomp") or p.returncode != 0, (what, p.stderr)
    assert cgroup_dirs(cgtop) == [], (what, cgroup_dirs(cgtop), p.stderr)
    assert not oci.leftovers(cid)
    # run: the same
    cid = oci.new_id()
    cfg["linux"]["cgroupsPath"] = f"/{cgtop}/{cid}"
    oci.write(bad(cfg, what))
    p = oci.cmd("run", "--bundle", oci.bundle, cid)
    assert p.returncode != 0, (what, p.stdout, p.stderr)
    assert cgroup_dirs(cgtop) == [], (what, "run", cgroup_dirs(cgtop), p.stderr)
    assert not oci.leftovers(cid)


def test_no_cgroup_left_after_delete_of_failed_start(oci, cgtop):
    """delete --force of a container whose start failed, and of a running one."""
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    cid = oci.new_id()
    cfg["linux"]["cgroupsPath"] = f"/{cgtop}/sub/{cid}"
    oci.write(cfg)
    p = oci.detached("run", "--detach", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    assert cgroup_dirs(cgtop)
    p = oci.cmd("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    assert cgroup_dirs(cgtop) == [], cgroup_dirs(cgtop)
