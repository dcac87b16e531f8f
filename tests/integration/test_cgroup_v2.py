# SPDX-License-Identifier: GPL-2.0-or-later
"""The cgroup unit test on a pure cgroup v2 host (the testhost, L1): this
machine's hybrid layout has no v2 memory/pids/cpu/io controllers, so the v2
driver's resource files are only checked for real there."""
import os

import pytest
from conftest import BUILD



@pytest.mark.parametrize("name,args", [
    ("test-cgroup", ["--v2-root", "/sys/fs/cgroup"]),
    ("test-seccomp", []),
    ("test-caps", []),
])
def test_runtime_sec_units_on_pure_v2(testhost, name, args):
    exe = os.path.join(BUILD, "tests", name)
    if not os.path.exists(exe):
        pytest.fail(f"{exe} is not built (run scripts/build.sh)")
    th = testhost
    r = th.run([exe] + args, timeout=180)
    assert r.returncode == 0, r
    assert "not ok" not in r.stdout, r.stdout


# Delegate a subtree to `nobody` (cgroup-v2.rst "Delegation Containment"), move
# the shell there as root, then run the cgroup test as nobody: the cgroup code
# needs no root, only the files the delegation made the user's.
ROOTLESS = r'''
set -u
D=/sys/fs/cgroup/isola-deleg-$$
mkdir "$D" "$D/runtime" || exit 90
echo "+memory +pids" > "$D/cgroup.subtree_control" || exit 91
chown -R 65534:65534 "$D" || exit 92
echo $$ > "$D/runtime/cgroup.procs" || exit 93
setpriv --reuid 65534 --regid 65534 --clear-groups -- "$1" --rootless-path "/isola-deleg-$$/c"
rc=$?
echo $$ > /sys/fs/cgroup/cgroup.procs
rmdir "$D/c" 2>/dev/null; rmdir "$D/runtime" "$D"
exit $rc
'''


def test_cgroup_rootless_in_delegated_subtree(testhost):
    exe = os.path.join(BUILD, "tests", "test-cgroup")
    if not os.path.exists(exe):
        pytest.fail(f"{exe} is not built (run scripts/build.sh)")
    th = testhost
    r = th.run(["sh", "-c", ROOTLESS, "sh", exe], timeout=180)
    assert r.returncode == 0, r
    assert "not ok" not in r.stdout and "# rootless as uid 65534" in r.stdout, r.stdout
