"""`isola run`'s security defaults against podman's (runtime runc) on the same
image: the seccomp profile (what a set of syscalls returns inside), the mounts
and their flags, masked and read-only paths, capabilities, RLIMIT_NOFILE.
docs/security.md has the table these tests measure."""
import os
import shutil

import pytest
from conftest import ROOT, cleanup_tree, run

SYSCALLS = ["bpf", "keyctl", "add_key", "request_key", "unshare", "mount", "perf_event_open",
            "open_by_handle_at", "personality", "personality_query", "userfaultfd", "kexec_load",
            "socket_audit", "getpid"]
PROBE = ("grep -E '^(Seccomp|NoNewPrivs|Cap(Bnd|Eff|Prm)):' /proc/self/status; "
         "echo sid=$(cut -d' ' -f6 /proc/1/stat); echo nofile=$(ulimit -n); "
         "echo hnofile=$(ulimit -Hn); echo devs=$(ls /dev | tr '\\n' ,); "
         "sc " + " ".join(SYSCALLS) + "; cat /proc/self/mountinfo")
IMAGE = "localhost/isola-run-defaults"


@pytest.fixture(scope="module")
def probe_rootfs(rootfs_template, tmp_path_factory):
    """The busybox root with the static syscall prober as /bin/sc."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler to build the syscall prober")
    d = str(tmp_path_factory.mktemp("rundef"))
    root = os.path.join(d, "rootfs")
    run(["cp", "-a", rootfs_template, root], check=True)
    run(["cc", "-static", "-O1", "-o", os.path.join(root, "bin", "sc"),
         os.path.join(ROOT, "tests", "fixtures", "syscalls.c")], check=True, timeout=120)
    try:
        yield root
    finally:
        cleanup_tree(d)


@pytest.fixture(scope="module")
def podman_out(probe_rootfs, tmp_path_factory):
    """What PROBE prints in a `podman run --network none` container (runc)."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (scripts/install-deps.sh)")
    if shutil.which("runc") is None:
        pytest.skip("runc is not installed (scripts/install-deps.sh)")
    from peers import Podman

    root = str(tmp_path_factory.mktemp("podman-rundef"))
    p = Podman(root, "runc", tag=(os.getpid() + 7) % 10000)
    try:
        p.import_rootfs(probe_rootfs, IMAGE)
        r = p("run", "--rm", "--network", "none", IMAGE, "sh", "-c", PROBE)
        assert r.returncode == 0, r.stderr
        yield r.stdout
    finally:
        p.close()


def isola_out(isola, probe_rootfs, tmp_root):
    env = dict(os.environ, ISOLA_RUN_DIR=os.path.join(tmp_root, "run"))
    r = run([isola, "run", "--rm", probe_rootfs, "sh", "-c", PROBE], env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def fields(out):
    return dict(line.split("=", 1) if "=" in line else line.split(":\t", 1)
                for line in out.splitlines()
                if "=" in line and " " not in line or line.startswith(("Seccomp", "Cap", "NoNew")))


def mounts(out):
    """mount point -> (fstype, per-mount flags, super block flags) from mountinfo."""
    m = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) < 10 or "-" not in f:
            continue
        sep = f.index("-")
        m[f[4]] = (f[sep + 1], set(f[5].split(",")) - {"relatime"}, f[sep + 3])
    return m


def test_seccomp_default_profile_is_podmans(isola, probe_rootfs, podman_out, tmp_root):
    mine, theirs = fields(isola_out(isola, probe_rootfs, tmp_root)), fields(podman_out)
    assert mine["Seccomp"] == "2"
    # bpf/perf_event_open need CAP_SYS_ADMIN; unshare and mount fail for want of it
    assert mine["bpf"] == mine["perf_event_open"] == mine["unshare"] == mine["mount"] == "EPERM"
    assert mine["open_by_handle_at"] == mine["userfaultfd"] == mine["kexec_load"] == "EPERM"
    # Docker's treatment of the (not namespaced) keyrings: EPERM; podman
    # allows keyctl and leaves add_key/request_key to the ENOSYS default
    assert mine["keyctl"] == mine["add_key"] == mine["request_key"] == "EPERM"
    assert mine["getpid"] == "ok"
    same = [k for k in SYSCALLS if k not in ("keyctl", "add_key", "request_key")]
    assert {k: mine[k] for k in same} == {k: theirs[k] for k in same}
    assert (theirs["keyctl"], theirs["add_key"]) == ("ok", "ENOSYS")


def test_caps_session_nofile_and_devices_are_podmans(isola, probe_rootfs, podman_out, tmp_root):
    mine, theirs = fields(isola_out(isola, probe_rootfs, tmp_root)), fields(podman_out)
    for k in ("CapBnd", "CapEff", "CapPrm", "nofile", "hnofile", "devs"):
        assert mine[k] == theirs[k], k
    # the init leads a session of its own, as runc's
    assert mine["sid"] == theirs["sid"] == "1"
    # a deliberate difference (docs/security.md): isola sets no_new_privs
    assert (mine["NoNewPrivs"], theirs["NoNewPrivs"]) == ("1", "0")


def test_mounts_are_podmans(isola, probe_rootfs, podman_out, tmp_root):
    mine, theirs = mounts(isola_out(isola, probe_rootfs, tmp_root)), mounts(podman_out)
    # podman's own files (hostname, hosts, .containerenv) and the root differ by
    # design; on a cgroup v1 host podman binds the container's cgroups where
    # isola mounts them in a cgroup namespace.
    skip = {"/", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv"}
    compared = 0
    for mp, (fstype, flags, sb) in theirs.items():
        if mp in skip or mp.startswith("/sys/fs/cgroup/"):
            continue
        assert mp in mine, f"{mp} ({fstype}) is mounted by podman, not by isola run"
        assert mine[mp][0] == fstype, mp
        # isola may be stricter (its masks are also nosuid,nodev,noexec), never looser
        if "ro" in mine[mp][1]:
            flags = flags - {"rw"}
        assert flags <= mine[mp][1], f"{mp}: podman {sorted(flags)}, isola {sorted(mine[mp][1])}"
        compared += 1
    assert compared >= 10
    assert {"nosuid", "nodev", "noexec"} <= mine["/proc"][1]
    assert "gid=5" in mine["/dev/pts"][2]
    assert mine["/sys/fs/cgroup"][1] >= {"ro", "nosuid", "nodev", "noexec"}
