"""Run one bundle with a peer runtime (runc, crun) next to isola-oci.

runc 1.1 runs on this host as is. crun 1.8.1 refuses the hybrid v1/v2 cgroup
layout, so it runs in a private mount namespace in which the (empty) v2 tree at
/sys/fs/cgroup/unified is unmounted (as bench/oci-run.sh does). Each peer gets
its own --root under the test's directory; every container is deleted
afterwards by `PeerRuntime.cleanup()`.
"""
import shutil
import subprocess
import tempfile

import pytest

from conftest import run

CRUN_WRAP = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"'


class PeerRuntime:
    def __init__(self, name, state_root):
        self.name = name
        self.exe = shutil.which(name)
        if self.exe is None:
            pytest.skip(f"{name} is not installed: cannot compare isola-oci with it")
        self.root = state_root
        self.ids = []

    def argv(self, *args):
        base = [self.exe, "--root", self.root, *args]
        if self.name == "crun":
            return ["unshare", "-m", "--propagation", "private", "sh", "-c", CRUN_WRAP, "sh", *base]
        return base

    def cmd(self, *args, timeout=60, input=None):
        return run(self.argv(*args), timeout=timeout, input=input)

    def detached(self, *args, timeout=60):
        """create / run -d: the container inherits stdout/stderr, so use files."""
        with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err:
            p = subprocess.run(self.argv(*args), stdout=out, stderr=err,
                               stdin=subprocess.DEVNULL, timeout=timeout)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())

    def run(self, bundle, cid, timeout=60):
        self.ids.append(cid)
        return self.cmd("run", "--bundle", bundle, cid, timeout=timeout)

    def cleanup(self):
        for cid in self.ids:
            subprocess.run(self.argv("delete", "--force", cid), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
