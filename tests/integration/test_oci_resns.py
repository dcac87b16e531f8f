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
        # a missing cwd is created (as runc and crun do); a file cannot be
        cfg["process"]["cwd"] = "/badinterp/dir"
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
def test_no_cgroup_left_after_failure(cgtop, oci, what):
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


def test_no_cgroup_left_after_delete_of_failed_start(cgtop, oci):
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


# -- peers --------------------------------------------------------------------

CRUN_WRAP = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"'


def peer_run(tmp_root, peer, bundle, cid):
    """`run` of the bundle with runc (as is) or crun (in a private mount
    namespace without the v2 tree: crun 1.8 refuses this hybrid host)."""
    root = os.path.join(tmp_root, f"{peer}-state")
    if peer == "runc":
        base = ["runc", "--root", root]
    else:
        base = ["unshare", "-m", "sh", "-c", CRUN_WRAP, "crun", "--root", root]
    try:
        with tempfile.TemporaryFile("w+") as out:
            p = subprocess.run(base + ["run", "--bundle", bundle, cid], stdout=out,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=60)
            out.seek(0)
            return p.returncode, out.read()
    finally:
        subprocess.run(base + ["delete", "--force", cid], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)


def peers():
    return [p for p in ("runc", "crun") if shutil.which(p) and shutil.which("unshare")]


def for_peers(cfg):
    """The same config for the peers: an absolute, real root.path (runc refuses
    a symlink) and an ociVersion crun 1.8 knows."""
    cfg = copy.deepcopy(cfg)
    cfg["ociVersion"] = "1.0.2"
    return cfg


def no_uts(cfg):
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "uts"]
    cfg.pop("hostname", None)


UTS_CASES = {
    # name: (change, isola's error or None, peers that refuse it)
    "hostname-and-sysctl": (lambda c: c["linux"].update(sysctl={"kernel.hostname": "x"}),
                            "linux.sysctl.kernel.hostname: conflicts with the OCI field "
                            "`hostname`", {"runc", "crun"}),
    "sysctl-hostname-alone": (lambda c: (c.pop("hostname"),
                                         c["linux"].update(sysctl={"kernel.hostname": "x"})),
                              "linux.sysctl.kernel.hostname: conflicts", {"runc", "crun"}),
    "domainname-and-sysctl": (lambda c: (c.update(domainname="d"),
                                         c["linux"].update(sysctl={"kernel.domainname": "x"})),
                              "linux.sysctl.kernel.domainname: conflicts with the OCI field "
                              "`domainname`", {"crun"}),
    "sysctl-domainname-alone": (lambda c: c["linux"].update(sysctl={"kernel.domainname": "x"}),
                                None, set()),
    "no-uts-sysctl-domainname": (lambda c: (no_uts(c), c["linux"].update(
        sysctl={"kernel.domainname": "x"})), "linux.sysctl.kernel.domainname: needs a uts "
        "namespace", {"runc", "crun"}),
    "no-uts-sysctl-hostname": (lambda c: (no_uts(c), c["linux"].update(
        sysctl={"kernel.hostname": "x"})), "linux.sysctl.kernel.hostname: needs a uts "
        "namespace", {"runc", "crun"}),
    "no-uts-hostname": (lambda c: (no_uts(c), c.update(hostname="h")),
                        "hostname: setting it needs a new uts namespace", {"runc", "crun"}),
}


@pytest.mark.parametrize("case", sorted(UTS_CASES))
def test_uts_sysctl_against_hostname_and_domainname(oci, tmp_root, case):
    change, want, refused_by = UTS_CASES[case]
    cfg = copy.deepcopy(oci.config)
    cfg["root"]["path"] = os.path.realpath(os.path.join(oci.bundle, "rootfs"))
    cfg["process"]["args"] = ["sh", "-c", "echo $(hostname) $(cat /proc/sys/kernel/domainname)"]
    change(cfg)
    p, cid = oci.run(config=cfg)
    if want is None:
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == ["isola-test", "x"], p.stdout
    else:
        assert p.returncode != 0 and want in p.stderr, p.stderr
    oci.write(for_peers(cfg))
    for peer in peers():
        rc, out = peer_run(tmp_root, peer, oci.bundle, cid + "-" + peer)
        if peer in refused_by:
            assert rc != 0, (peer, out)
            assert "hostname" in out or "domainname" in out, (peer, out)
        else:
            assert rc == 0, (peer, out)
            # runc 1.1 lets kernel.domainname win over `domainname`: isola-oci refuses
            # that config, as crun (docs/oci-runtime.md)
            assert want is not None or out.split() == p.stdout.split(), (peer, out, p.stdout)


def no_mountns(cfg):
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "mount"]
    cfg["mounts"] = []
    cfg["linux"].pop("maskedPaths", None)
    cfg["linux"].pop("readonlyPaths", None)


def test_no_mount_namespace_chroots_like_crun(oci, tmp_root):
    """runtime-spec requires no mount namespace; runc and crun run such a config
    and chroot into root.path, in the host's mount table."""
    cfg = copy.deepcopy(oci.config)
    cfg["root"]["path"] = os.path.realpath(os.path.join(oci.bundle, "rootfs"))
    no_mountns(cfg)
    cfg["process"]["cwd"] = "/etc"
    marker = f"host-only-{os.getpid()}"
    open(os.path.join(tmp_root, marker), "w").close()
    cfg["process"]["args"] = ["sh", "-c", f"pwd; ls /bin/busybox; ls {tmp_root}/{marker} 2>&1 "
                              "| grep -c 'No such'; ls /proc | wc -l"]
    with open("/proc/self/mountinfo") as f:
        before = f.read()
    p, cid = oci.run(config=cfg)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    # cwd inside the root; the root is root.path, not the host's /; nothing mounted
    assert lines == ["/etc", "/bin/busybox", "1", "0"], p.stdout
    with open("/proc/self/mountinfo") as f:
        assert f.read().count(tmp_root) == before.count(tmp_root)
    if "crun" not in peers():
        pytest.skip("crun is not installed: isola-oci checked alone")
    # runc 1.1 cannot run it without /proc mounted (it closes fds via /proc/self/fd);
    # crun runs it: the same output
    oci.write(for_peers(cfg))
    rc, out = peer_run(tmp_root, "crun", oci.bundle, cid + "-crun")
    assert rc == 0, out
    assert out.split() == lines, (out, p.stdout)


@pytest.mark.parametrize("field", ["mounts", "maskedPaths", "readonlyPaths", "root.readonly"])
def test_no_mount_namespace_refuses_what_would_mount_on_the_host(oci, tmp_root, field):
    """runc and crun make `mounts` in the host's table (where they stay after the
    container is gone): isola-oci refuses them, naming the field."""
    cfg = copy.deepcopy(oci.config)
    no_mountns(cfg)
    if field == "mounts":
        cfg["mounts"] = [{"destination": "/proc", "type": "proc", "source": "proc"}]
    elif field == "root.readonly":
        cfg["root"]["readonly"] = True
    else:
        cfg["linux"][field] = ["/proc/kcore"]
    p, cid = oci.run(config=cfg)
    assert p.returncode != 0
    name = field if field.startswith(("mounts", "root")) else "linux." + field
    assert f"{name}: needs a mount namespace" in p.stderr, p.stderr
    # nothing mounted in the host's table (the tmp_root fixture checks it too)
    with open("/proc/self/mountinfo") as f:
        assert tmp_root not in f.read()


def cg_read(path):
    with open(path) as f:
        return f.read().strip()


def test_kernel_tcp_applied_on_v1_as_crun(cgtop, oci, tmp_root):
    """memory.kernelTCP: v1's memory.kmem.tcp.limit_in_bytes, as crun writes it;
    ignored with a warning where the kernel has no such file (cgroup v2)."""
    limit = 8 << 20
    cfg = copy.deepcopy(oci.config)
    cfg["root"]["path"] = os.path.realpath(os.path.join(oci.bundle, "rootfs"))
    cfg["process"]["args"] = ["sleep", "100"]
    cfg["linux"]["resources"] = {"memory": {"kernelTCP": limit}}
    cid = oci.new_id()
    cfg["linux"]["cgroupsPath"] = f"/{cgtop}/{cid}"
    oci.write(cfg)
    p = oci.detached("create", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    f = os.path.join(CG, "memory", cgtop, cid, "memory.kmem.tcp.limit_in_bytes")
    if not os.path.exists(os.path.join(CG, "memory", "memory.kmem.tcp.limit_in_bytes")):
        assert "kernelTCP: ignored" in p.stderr, p.stderr
        pytest.skip("this kernel has no memory.kmem.tcp.limit_in_bytes: only the warning checked")
    assert int(cg_read(f)) == limit
    assert "kernelTCP" not in p.stderr, p.stderr
    # crun writes it too (runc 1.1 no longer does); crun runs in a private mount
    # namespace, so create, read and delete happen in one shell there
    if "crun" not in peers():
        pytest.skip("crun is not installed: isola-oci checked alone")
    rid = cid + "-crun"
    cfg["linux"]["cgroupsPath"] = f"/{cgtop}/{rid}"
    oci.write(for_peers(cfg))
    root = os.path.join(tmp_root, "crun-state")
    script = ('umount /sys/fs/cgroup/unified 2>/dev/null; crun --root "$1" create --bundle "$2" '
              '"$3" >/dev/null 2>&1 </dev/null || echo create-failed; cat "$4"; '
              'crun --root "$1" delete --force "$3"')
    r = run(["unshare", "-m", "sh", "-c", script, "sh", root, oci.bundle, rid,
             os.path.join(CG, "memory", cgtop, rid, "memory.kmem.tcp.limit_in_bytes")])
    assert r.stdout.strip() == str(limit), r.stdout + r.stderr


def test_realtime_runtime_in_a_nested_cgroup(cgtop, oci):
    """cpu.realtimeRuntime/realtimePeriod on v1 (CONFIG_RT_GROUP_SCHED): a new
    cgroup has no RT runtime, so the parents are given some first (top-down),
    then the period, then the runtime."""
    if not os.path.exists(os.path.join(CG, "cpu", "cpu.rt_runtime_us")):
        pytest.skip("no cpu.rt_runtime_us: this kernel lacks CONFIG_RT_GROUP_SCHED or cpu v1")
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["true"]
    cfg["linux"]["resources"] = {"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 500000}}
    cid = oci.new_id()
    cfg["linux"]["cgroupsPath"] = f"/{cgtop}/mid/{cid}"
    oci.write(cfg)
    p = oci.detached("create", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    d = os.path.join(CG, "cpu", cgtop, "mid", cid)
    assert cg_read(os.path.join(d, "cpu.rt_period_us")) == "500000"
    assert cg_read(os.path.join(d, "cpu.rt_runtime_us")) == "10000"
    # the parents hold at least as much runtime per period as the child
    for anc in (os.path.join(CG, "cpu", cgtop), os.path.join(CG, "cpu", cgtop, "mid")):
        rt, per = int(cg_read(anc + "/cpu.rt_runtime_us")), int(cg_read(anc + "/cpu.rt_period_us"))
        assert rt * 500000 >= 10000 * per, (anc, rt, per)
    assert oci.cmd("start", cid).returncode == 0
    for _ in range(100):
        if oci.state(cid)["status"] == "stopped":
            break
        time.sleep(0.05)
    # a second one beside it: the parents grow for both; the container sees its
    # runtime (busybox has no chrt to start an RT process with)
    cid2 = oci.new_id()
    cfg["linux"]["cgroupsPath"] = f"/{cgtop}/mid/{cid2}"
    cfg["process"]["args"] = ["sh", "-c", "cat /sys/fs/cgroup/cpu/cpu.rt_runtime_us "
                              "/sys/fs/cgroup/cpu/cpu.rt_period_us"]
    oci.write(cfg)
    p = oci.cmd("run", "--bundle", oci.bundle, cid2)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["10000", "500000"], p.stdout + p.stderr
