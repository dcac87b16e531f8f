# SPDX-License-Identifier: GPL-2.0-or-later
"""The cgroup unit test on a pure cgroup v2 host (the testhost, L1): this
machine's hybrid layout has no v2 memory/pids/cpu/io controllers, so the v2
driver's resource files are only checked for real there."""
import os

import pytest
from conftest import BUILD


def _testhost(request):
    try:
        return request.getfixturevalue("testhost")
    except pytest.FixtureLookupError:
        pytest.skip("no `testhost` fixture in this tree (the testhost branch provides it)")


@pytest.mark.parametrize("name,args", [
    ("test-cgroup", ["--v2-root", "/sys/fs/cgroup"]),
    ("test-seccomp", []),
    ("test-caps", []),
])
def test_runtime_sec_units_on_pure_v2(request, name, args):
    exe = os.path.join(BUILD, "tests", name)
    if not os.path.exists(exe):
        pytest.skip(f"{exe} not built")
    th = _testhost(request)
    r = th.run([exe] + args, timeout=180)
    assert r.returncode == 0, r
    assert "not ok" not in r.stdout, r.stdout
