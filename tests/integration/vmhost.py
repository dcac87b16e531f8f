"""Where the monitor's tests run a VM: this host's /dev/kvm when it can run the
tiny guests, else the test host (L1, tests/integration/testhost.py) with real
SVM. Both are driven with a shell command string, so tests read the same.
"""
import os
import shlex
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ISOLA_BUILD", os.path.join(ROOT, "build"))
ISOLA = os.path.join(BUILD, "src", "cli", "isola")
GUEST = os.path.join(BUILD, "tests", "guests", "vm-guest")
GUEST_TOOL = os.path.join(BUILD, "tests", "guest-tool")


def local_kvm():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return (f"Result(returncode={self.returncode}, stdout={self.stdout[-3000:]!r}, "
                f"stderr={self.stderr[-3000:]!r})")


class LocalHost:
    name = "local /dev/kvm"

    def run(self, cmd, timeout=60):
        p = subprocess.run(["sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return Result(p.returncode, p.stdout, p.stderr)


class L1Host:
    name = "test host (L1)"

    def __init__(self, th):
        self.th = th

    def run(self, cmd, timeout=60):
        r = self.th.run(cmd, timeout=timeout)
        return Result(r.returncode, r.stdout, r.stderr)


def vm_cmd(*args, kernel=GUEST, stdin=None):
    """A shell command running `isola vm run --kernel KERNEL ARGS...`."""
    cmd = shlex.join([ISOLA, "vm", "run", "--kernel", kernel, *args])
    if stdin is not None:
        return f"printf %s {shlex.quote(stdin)} | {cmd}"
    return f"{cmd} </dev/null"
