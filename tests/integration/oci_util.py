"""Helpers for the isola-oci tests: a bundle with a generated config.json, the
runtime's command line with a private --root, and cleanup checks."""
import copy
import json
import os
import subprocess
import tempfile

from conftest import binary, run

HIERARCHIES = ["memory", "pids", "cpu", "cpuset", "devices", "freezer", "blkio", "systemd",
               "unified"]

BASE = {
    "ociVersion": "1.2.0",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh", "-c", "true"],
        "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
        "cwd": "/",
        "capabilities": {
            s: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            for s in ("bounding", "effective", "permitted")
        },
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": False},
    "hostname": "isola-test",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ],
    "linux": {
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")],
        "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware",
                        "/proc/acpi"],
        "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/bus"],
    },
}


class Oci:
    """One test's runtime: private state root, bundle dir, unique ids."""

    def __init__(self, tmp_root, rootfs, request):
        self.exe = binary("isola-oci")
        self.root = os.path.join(tmp_root, "state")
        self.bundle = os.path.join(tmp_root, "bundle")
        os.makedirs(self.bundle, exist_ok=True)
        os.symlink(rootfs, os.path.join(self.bundle, "rootfs"))
        self.prefix = f"t{os.getpid()}-{request.node.name[:40]}".replace("[", "-").replace("]", "")
        self.n = 0
        self.ids = []
        self.config = copy.deepcopy(BASE)

    def new_id(self):
        self.n += 1
        cid = f"{self.prefix}-{self.n}"
        self.ids.append(cid)
        return cid

    def write(self, config=None):
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(config or self.config, f)

    def cmd(self, *args, timeout=60, input=None, glob=()):
        return run([self.exe, "--root", self.root, *glob, *args], timeout=timeout, input=input)

    def detached(self, *args, timeout=60, glob=()):
        """A command that leaves a container process behind (create, run
        --detach, exec --detach): that process inherits stdout/stderr, so they
        go to files instead of pipes that would never reach EOF."""
        out = tempfile.TemporaryFile(mode="w+")
        err = tempfile.TemporaryFile(mode="w+")
        with out, err:
            p = subprocess.run([self.exe, "--root", self.root, *glob, *args], stdout=out,
                               stderr=err, stdin=subprocess.DEVNULL, timeout=timeout)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())

    def run(self, args=None, config=None, **kw):
        """`run` of a config with process.args = args; returns (CompletedProcess, id)."""
        cfg = copy.deepcopy(config or self.config)
        if args is not None:
            cfg["process"]["args"] = args
        self.write(cfg)
        cid = self.new_id()
        return self.cmd("run", "--bundle", self.bundle, cid, **kw), cid

    def state(self, cid):
        p = self.cmd("state", cid)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def cleanup(self):
        for cid in self.ids:
            subprocess.run([self.exe, "--root", self.root, "delete", "--force", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def leftovers(self, cid):
        """Whatever a container left behind: state dir, cgroup dirs."""
        left = []
        if os.path.exists(os.path.join(self.root, cid)):
            left.append(os.path.join(self.root, cid))
        for h in HIERARCHIES:
            p = os.path.join("/sys/fs/cgroup", h, "isola", cid)
            if os.path.exists(p):
                left.append(p)
        return left
