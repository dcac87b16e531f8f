"""Fixtures for the integration suite: it drives the real isola binaries.

Every test gets its own root directory (`tmp_root`) and names; whatever a test
mounts below its root is unmounted afterwards, in every outcome. Every command
runs with a time bound.
"""
import os
import shutil
import subprocess
import tempfile

import pytest

# Containers (`isola run`, `run -d`, `create`) and `isola build` attach to the
# default network `bridge` unless told otherwise: a bridge and nftables rules
# in the network namespace isola runs in. Tests run on this machine's real
# network namespace, so the suite's default is none (docs/networks.md,
# ISOLA_DEFAULT_NETWORK); the network tests run isola in namespaces of their
# own and drop it (test_network_run.py's NetEngine, test_engine_cli.py's Engine).
os.environ.setdefault("ISOLA_DEFAULT_NETWORK", "none")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ISOLA_BUILD", os.path.join(ROOT, "build"))


def binary(name):
    path = os.path.join(BUILD, "src", "cli", name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (run scripts/build.sh)")
    return path


@pytest.fixture(scope="session")
def isola():
    return binary("isola")


def run(argv, timeout=60, check=False, input=None, env=None):
    """Run argv, capture text output, bounded in time."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, input=input, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"{argv} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


@pytest.fixture(scope="session")
def rootfs_template():
    """A busybox root filesystem from Debian's busybox-static, built once."""
    path = os.path.join(BUILD, "fixtures", "rootfs")
    if not os.path.exists(os.path.join(path, "bin", "busybox")):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        run([os.path.join(ROOT, "tests", "fixtures", "mkrootfs.sh"), path], timeout=120,
            check=True)
    return path


def mounts_below(path):
    """Mount points at or below path, deepest first."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return sorted(out, key=len, reverse=True)


def cleanup_tree(path):
    for _ in range(3):
        mps = mounts_below(path)
        if not mps:
            break
        for mp in mps:
            subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL, timeout=30)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tmp_root():
    """A private directory for one test; unmounted and removed afterwards."""
    path = tempfile.mkdtemp(prefix="isola-test-")
    try:
        yield path
    finally:
        leaked = mounts_below(path)
        cleanup_tree(path)
        assert not leaked, f"test left mounts behind: {leaked}"


@pytest.fixture
def rootfs(rootfs_template, tmp_root):
    """A private copy of the busybox rootfs for one test."""
    dst = os.path.join(tmp_root, "rootfs")
    run(["cp", "-a", rootfs_template, dst], check=True)
    return dst


@pytest.fixture(scope="session")
def testinit():
    """Path of the static tests/fixtures/testinit helper (runs in an empty root)."""
    path = os.path.join(BUILD, "tests", "testinit")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (run scripts/build.sh)")
    return path


@pytest.fixture(scope="session")
def testhost():
    """The test host (tests/integration/testhost.py): Debian's kernel in QEMU TCG
    with an SVM CPU, real /dev/kvm, pure cgroup v2; booted once per session.
    `testhost.run(cmd, timeout)` runs a command there in the host's tree. Skips
    with the reason when qemu or the kernel package cannot be had."""
    from testhost import TestHost, TestHostUnavailable

    th = TestHost(log=os.path.join(BUILD, "testhost-console.log"))
    try:
        th.start()
    except TestHostUnavailable as e:
        pytest.skip(f"test host unavailable: {e}")
    try:
        yield th
    finally:
        th.stop()


@pytest.fixture(scope="session")
def oci_runtime():
    """The OCI runtime that peer tests (podman, containerd) drive: isola-oci.

    ISOLA_PEER_RUNTIME names another runtime binary, to check the peer setup
    itself against runc or crun.
    """
    return os.environ.get("ISOLA_PEER_RUNTIME") or binary("isola-oci")


@pytest.fixture
def oci(tmp_root, rootfs, request):
    """An isola-oci driver (tests/integration/oci_util.py) on a private root; every
    container it made is deleted afterwards and must have left nothing behind."""
    from oci_util import Oci

    o = Oci(tmp_root, rootfs, request)
    try:
        yield o
    finally:
        o.cleanup()
        for cid in o.ids:
            assert not o.leftovers(cid), f"left behind: {o.leftovers(cid)}"


# The private dockerd of the Docker comparisons (peers.Docker), one per pytest
# session for every module that compares with it (a fixture imported into two
# modules would start two, clashing on the netns name). Its image: DOCKER_IMAGE.
DOCKER_IMAGE = "dockercmp"


@pytest.fixture(scope="session")
def docker(rootfs_template):
    from peers import Docker, DockerUnavailable

    # short: containerd's socket path below it must fit sun_path
    root = tempfile.mkdtemp(prefix="idk-", dir="/tmp")
    try:
        d = Docker(root, tag=os.getpid() % 10000)
    except DockerUnavailable as e:
        cleanup_tree(root)
        pytest.skip(f"a private dockerd cannot run here: {e}")
    try:
        d.import_rootfs(rootfs_template, DOCKER_IMAGE)
        yield d
    finally:
        d.close()
