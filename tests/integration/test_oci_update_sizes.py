"""`isola-oci update --memory` takes runc's sizes (go-units RAMInBytes, the one
size rule of src/util/size.c), beside runc on the same bundle."""
import copy
import os
import shutil

import pytest


def limit_after_update(oci, exe, size):
    """Start `sleep` with `exe` as the runtime, update --memory SIZE, read the
    limit inside (cgroup namespace: the container's own memory cgroup)."""
    oci.exe = exe
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    cfg["linux"]["resources"] = {"memory": {"limit": 256 << 20}}
    # runc wants the real path of the root, not the bundle's symlink
    cfg["root"] = {"path": os.path.realpath(os.path.join(oci.bundle, "rootfs"))}
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.detached("run", "--detach", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    try:
        p = oci.cmd("update", "--memory", size, cid)
        assert p.returncode == 0, (exe, p.stderr)
        p = oci.cmd("exec", cid, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
        assert p.returncode == 0, (exe, p.stderr)
        return int(p.stdout)
    finally:
        oci.cmd("delete", "--force", cid)


@pytest.mark.parametrize("size,want", [("64m", 64 << 20), ("96MiB", 96 << 20),
                                       ("0.5g", 512 << 20), ("100663296", 96 << 20)])
def test_update_memory_sizes_like_runc(oci, size, want):
    isola_oci = oci.exe
    assert limit_after_update(oci, isola_oci, size) == want
    runc = shutil.which("runc")
    if runc is None:
        pytest.skip("runc is not installed (scripts/install-deps.sh): no peer to compare")
    assert limit_after_update(oci, runc, size) == want
    oci.exe = isola_oci


def test_update_memory_bad_size_named(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    oci.write(cfg)
    cid = oci.new_id()
    assert oci.detached("run", "--detach", "--bundle", oci.bundle, cid).returncode == 0
    p = oci.cmd("update", "--memory", "lots", cid)
    assert p.returncode != 0 and "--memory" in p.stderr and "lots" in p.stderr
