"""isola-oci on a pure cgroup v2 host: the testhost (L1, QEMU TCG, `cgroup2` at
/sys/fs/cgroup). Run, create/start, pause/resume, update, exec, ps and delete,
with the limits read back inside the container and in the cgroup tree."""
import copy
import json
import os

import pytest

from conftest import binary
from oci_util import BASE


def _testhost(request):
    try:
        return request.getfixturevalue("testhost")
    except pytest.FixtureLookupError:
        pytest.skip("no `testhost` fixture in this tree (the testhost branch provides it)")


SCRIPT = r'''
set -u
O={exe}; R={root}; B={bundle}; ID={id}
$O --root $R run -b $B $ID-a || exit 10
$O --root $R create -b $B --config $B/sleep.json $ID-b </dev/null >/dev/null 2>&1 || exit 11
$O --root $R start $ID-b || exit 12
$O --root $R pause $ID-b || exit 13
$O --root $R state $ID-b | grep -q '"paused"' || exit 14
$O --root $R resume $ID-b || exit 15
$O --root $R update --pids-limit 12 $ID-b || exit 16
echo "pids.max=$(cat /sys/fs/cgroup/isola/$ID-b/pids.max)"
$O --root $R exec $ID-b sh -c 'echo exec-cgroup=$(cat /proc/self/cgroup)' || exit 17
$O --root $R delete --force $ID-b || exit 18
test -e /sys/fs/cgroup/isola/$ID-b && exit 19
test -e /sys/fs/cgroup/isola/$ID-a && exit 20
echo all-done
'''


def test_oci_on_pure_cgroup_v2(request, tmp_root, rootfs):
    th = _testhost(request)
    os.chmod(tmp_root, 0o755)
    bundle = os.path.join(tmp_root, "bundle")
    os.makedirs(bundle)
    os.symlink(rootfs, os.path.join(bundle, "rootfs"))
    cfg = copy.deepcopy(BASE)
    cfg["process"]["args"] = ["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max"]
    cfg["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 33}}
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    cfg["process"]["args"] = ["sleep", "100"]
    with open(os.path.join(bundle, "sleep.json"), "w") as f:
        json.dump(cfg, f)
    script = SCRIPT.format(exe=binary("isola-oci"), root=os.path.join(tmp_root, "state"),
                           bundle=bundle, id=f"v2-{os.getpid()}")
    r = th.run(["sh", "-c", script], timeout=300)
    assert r.returncode == 0, r
    assert f"{64 << 20}\n33\n" in r.stdout
    assert "pids.max=12" in r.stdout
    assert "exec-cgroup=0::/" in r.stdout
    assert "all-done" in r.stdout
