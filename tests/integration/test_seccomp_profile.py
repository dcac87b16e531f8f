# SPDX-License-Identifier: GPL-2.0-or-later
"""The seccomp compiler on a real-world profile: containers-common's default
(what podman and CRI-O use), turned into OCI `linux.seccomp` form, compiled
plain and through the cache by bench-seccomp."""
import os
import re
import subprocess

import pytest
from conftest import BUILD, ROOT

PROFILE = "/usr/share/containers/seccomp.json"


def test_containers_default_profile_compiles(tmp_path):
    bench = os.path.join(BUILD, "bench", "bench-seccomp")
    if not os.path.exists(PROFILE):
        pytest.skip(f"{PROFILE} missing (Debian package golang-github-containers-common)")
    if not os.path.exists(bench):
        pytest.skip(f"{bench} not built")
    oci = tmp_path / "profile.json"
    with open(oci, "w") as f:
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "oci-seccomp-profile.py"),
                        PROFILE], stdout=f, check=True, timeout=60)
    r = subprocess.run([bench, str(oci), "2"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    sizes = {int(n) for n in re.findall(r"\((\d+) BPF insns\)", r.stdout)}
    # plain, cold cache and warm cache: the same program, of a plausible size
    assert len(sizes) == 1 and 200 < sizes.pop() <= 4096, r.stdout
