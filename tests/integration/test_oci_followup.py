# SPDX-License-Identifier: GPL-2.0-or-later
"""isola-oci: the seccomp cache under the state root, cleanup after a runtime
killed mid-create, exec --tty in the foreground."""
import copy
import json
import os
import stat

import pytest

from oci_util import Oci


@pytest.fixture
def oci(tmp_root, rootfs, request):
    o = Oci(tmp_root, rootfs, request)
    try:
        yield o
    finally:
        o.cleanup()
        for cid in o.ids:
            assert not o.leftovers(cid), f"left behind: {o.leftovers(cid)}"


def sh(script):
    return ["sh", "-c", script]


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
