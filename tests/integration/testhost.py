"""The test host (L1): a real hardware-virtualization Linux host for tests.

This machine's /dev/kvm (nested PVM) cannot boot a stock kernel, and its cgroups
are hybrid. TestHost boots Debian's kernel in QEMU's software emulation with an
SVM CPU (`-accel tcg -cpu EPYC`, no KVM), loads kvm-amd there (so /dev/kvm in L1
is real SVM with nested paging), mounts a pure cgroup v2 hierarchy at
/sys/fs/cgroup and runs commands in the host's own tree: the host's / is shared
read-only over 9p below a tmpfs overlay, so binaries of the build directory run
unchanged. A writable exchange directory appears at the same path on both sides.

    with TestHost() as th:
        r = th.run(["/path/to/build/tests/test_cgroup", "--v2-root", "/sys/fs/cgroup"])
        assert r.returncode == 0, r.stdout + r.stderr

QEMU runs as a child of this process and is killed by pid in every outcome. The
serial console of the last run is kept at `<cache>/last-console.log`.

L1 sometimes freezes under QEMU's TCG on a loaded machine: both vCPUs stuck in
L1's kernel (`watchdog: BUG: soft lockup`, `rcu_preempt kthread starved`), seen
in about one L1 session of ten on this 2-core machine while other emulators ran.
run() notices it on the console (or by L1 not answering), keeps that console as
`<log>.frozen-N`, boots a fresh L1 on the same exchange directory and runs the
command once more, with a warning. A second freeze fails the command.
"""
import ctypes
import glob
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts", "testhost")

# kvm-amd needs ccp and (through kvm) irqbypass; the rest is the host's tree over
# 9p (virtio-pci), the overlay, and what nested tests need (tap, bridge, vsock).
L1_MODULES = ("kvm-amd virtio_pci 9pnet_virtio 9p overlay tun bridge veth loop "
              "ext4 vhost_net vhost_vsock virtio_blk virtio_net")
# loglevel=5: the soft-lockup and RCU-stall reports' stack traces reach the console.
L1_CMDLINE = ("console=ttyS0 quiet loglevel=5 mitigations=off panic=-1 "
              "softlockup_all_cpu_backtrace=1")
# A frozen L1: the soft-lockup watchdog has seen a CPU stuck this long. A starved
# but live L1 (a busy host) reports a short stall once and then goes on.
FROZEN_AFTER_S = 90
MAX_RESTARTS = 3  # per session


def _die_with_parent():
    """In the QEMU child: be killed when the process that started it dies, so a
    killed test run leaves no L1 behind (prctl PR_SET_PDEATHSIG)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _remove_stale_workdirs():
    """Remove work directories of test hosts whose owner process is gone."""
    for d in glob.glob(os.path.join(tempfile.gettempdir(), "isola-testhost-*-*")):
        try:
            pid = int(os.path.basename(d).split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(d, ignore_errors=True)


def cache_dir():
    return os.path.join(os.environ.get("ISOLA_CACHE", os.path.expanduser("~/.cache/isola")),
                        "testhost")


class TestHostUnavailable(Exception):
    """The test host cannot be prepared here (no qemu, no kernel package)."""


class TestHostError(Exception):
    """The test host failed (did not boot, died, or stopped answering)."""


class Result:
    def __init__(self, argv, returncode, stdout, stderr):
        self.args = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return (f"Result(returncode={self.returncode}, stdout={self.stdout[-2000:]!r}, "
                f"stderr={self.stderr[-2000:]!r})")


def prepare():
    """Download and extract the kernel (idempotent); return its directory."""
    if shutil.which("qemu-system-x86_64") is None:
        raise TestHostUnavailable("qemu-system-x86_64 not found (scripts/install-deps.sh)")
    for tool in ("cpio", "modprobe", "depmod"):
        if shutil.which(tool) is None:
            raise TestHostUnavailable(f"{tool} not found (scripts/install-deps.sh)")
    if not os.access("/bin/busybox", os.X_OK):
        raise TestHostUnavailable("/bin/busybox not found (install busybox-static)")
    try:
        p = subprocess.run([os.path.join(SCRIPTS, "prepare")], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise TestHostUnavailable("scripts/testhost/prepare timed out")
    if p.returncode != 0:
        raise TestHostUnavailable(f"scripts/testhost/prepare failed: {p.stderr.strip()}")
    return p.stdout.strip().splitlines()[-1]


def mkguest_initrd(out, modules="", files=(), command=None, kdir=None):
    """Build a guest initramfs (see scripts/testhost/mkguest-initrd)."""
    argv = [os.path.join(SCRIPTS, "mkguest-initrd"), "-o", out]
    if kdir:
        argv += ["-k", kdir]
    if modules:
        argv += ["-m", modules]
    for f in files:
        argv += ["-a", f]
    if command is not None:
        argv += ["-c", command]
    subprocess.run(argv, check=True, timeout=120, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    return out


class TestHostFrozen(TestHostError):
    """L1 stopped making progress (see the module's doc)."""


def _soft_lockup_seconds(console):
    """The longest `soft lockup - CPU#N stuck for Ms!` on the console, or 0."""
    worst = 0
    try:
        with open(console, errors="replace") as f:
            for line in f:
                i = line.find("soft lockup - CPU#")
                if i >= 0:
                    try:
                        worst = max(worst, int(line[i:].split("stuck for ")[1].split("s")[0]))
                    except (IndexError, ValueError):
                        pass
    except OSError:
        pass
    return worst


class TestHost:
    """One L1 machine: start() once, run() commands, stop()."""

    __test__ = False  # not a pytest test class

    def __init__(self, cpus=2, memory_mb=2048, boot_timeout=300, log=None):
        self.cpus = cpus
        self.memory_mb = memory_mb
        self.boot_timeout = boot_timeout
        self.log = log or os.path.join(cache_dir(), "last-console.log")
        self.kdir = None
        self.workdir = None
        self.xchg = None
        self.proc = None
        self.seq = 0
        self.boot_seconds = None
        self.ready_info = ""
        self.freezes = 0

    # -- lifecycle --------------------------------------------------------
    def start(self):
        self.kdir = prepare()
        _remove_stale_workdirs()
        self.workdir = tempfile.mkdtemp(prefix=f"isola-testhost-{os.getpid()}-")
        try:
            self._boot()
        except BaseException:
            self.stop()
            raise
        return self

    def shell(self):
        """Boot L1 with an interactive shell on this terminal instead of the
        command loop; return QEMU's exit status when the shell exits."""
        self.kdir = prepare()
        _remove_stale_workdirs()
        self.workdir = tempfile.mkdtemp(prefix=f"isola-testhost-{os.getpid()}-")
        try:
            self._boot(interactive=True)
            return self.proc.wait()
        finally:
            self.stop()

    def _boot(self, interactive=False):
        self.xchg = os.path.join(self.workdir, "x")
        os.makedirs(self.xchg, exist_ok=True)
        initrd = os.path.join(self.workdir, "l1.cpio")
        mkguest_initrd(initrd, modules=L1_MODULES, kdir=self.kdir,
                       files=[os.path.join(SCRIPTS, "agent") + ":/agent"],
                       command="sh /agent")
        self.console = os.path.join(self.workdir, "console.log")
        argv = [
            "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "EPYC",
            "-smp", str(self.cpus), "-m", str(self.memory_mb),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-serial", "mon:stdio" if interactive else f"file:{self.console}",
            "-kernel", os.path.join(self.kdir, "vmlinuz"), "-initrd", initrd,
            "-append", f"{L1_CMDLINE} isola.xchg={self.xchg} isola.kdir={self.kdir}" +
                       (" isola.shell=1" if interactive else ""),
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,"
                       "multidevs=remap",
            "-virtfs", f"local,path={self.xchg},mount_tag=xchg,security_model=none,"
                       "multidevs=remap",
        ]
        if not interactive:
            argv += ["-monitor", "none"]
        t0 = time.monotonic()
        self.qemu_err = open(os.path.join(self.workdir, "qemu.err"), "w")
        if interactive:
            self.proc = subprocess.Popen(argv, stderr=self.qemu_err, preexec_fn=_die_with_parent)
            return
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.qemu_err, stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     preexec_fn=_die_with_parent)
        ready = os.path.join(self.xchg, "ready")
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                raise TestHostError(f"L1 exited with {self.proc.returncode} before it was ready"
                                    f"\n{self._diagnostics()}")
            if time.monotonic() - t0 > self.boot_timeout:
                raise TestHostError(f"L1 not ready after {self.boot_timeout}s"
                                    f"\n{self._diagnostics()}")
            time.sleep(0.05)
        self.boot_seconds = time.monotonic() - t0
        with open(ready) as f:
            self.ready_info = f.read()

    def _diagnostics(self):
        out = []
        for name in ("qemu.err", "console.log"):
            path = os.path.join(self.workdir, name)
            try:
                with open(path, errors="replace") as f:
                    lines = [l for l in f.read().splitlines()
                             if "TCG doesn't support requested feature" not in l]
                out.append(f"--- {name} (last lines) ---\n" + "\n".join(lines[-40:]))
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        """Power L1 off (or kill it) and remove every file it used; idempotent."""
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                if proc.poll() is None and self.xchg:
                    open(os.path.join(self.xchg, "stop"), "w").close()
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        pass
            finally:
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if getattr(self, "qemu_err", None):
            self.qemu_err.close()
            self.qemu_err = None
        if self.workdir:
            console = os.path.join(self.workdir, "console.log")
            if os.path.exists(console):
                try:
                    os.makedirs(os.path.dirname(self.log), exist_ok=True)
                    shutil.copyfile(console, self.log)
                except OSError:
                    pass
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- commands ---------------------------------------------------------
    @property
    def kernel(self):
        """Debian's stock kernel (bzImage), for guests booted inside L1."""
        return os.path.join(self.kdir, "vmlinuz")

    def path(self, name):
        """A path in the exchange directory: writable, the same on both sides."""
        return os.path.join(self.xchg, name)

    def run(self, cmd, timeout=120, cwd=None, env=None, check=False):
        """Run cmd in L1 (a shell string, or an argv list) as root, in the host's
        tree, bounded by timeout seconds (exit status 124 when it ran out).
        Returns a Result with returncode, stdout, stderr. If L1 freezes meanwhile,
        a fresh L1 runs the command once more (see the module's doc)."""
        for attempt in (1, 2):
            try:
                return self._run_once(cmd, timeout, cwd, env, check)
            except TestHostFrozen as e:
                if self.freezes >= MAX_RESTARTS:
                    self._kill()  # later commands fail at once
                    raise
                self._restart_frozen()
                if attempt == 2:
                    raise  # a fresh L1 is up for the next command
                warnings.warn(f"test host: L1 froze while running {cmd!r} (its console is "
                              f"kept as {self.log}.frozen-{self.freezes}); running it again "
                              f"in a fresh L1. {str(e).splitlines()[0]}")

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
        if getattr(self, "qemu_err", None):
            self.qemu_err.close()
            self.qemu_err = None

    def _restart_frozen(self):
        """Kill the frozen L1, keep its console, boot a new one on the same
        exchange directory (paths from path() stay valid)."""
        self.freezes += 1
        self._kill()
        try:
            os.makedirs(os.path.dirname(self.log), exist_ok=True)
            shutil.copyfile(self.console, f"{self.log}.frozen-{self.freezes}")
        except OSError:
            pass
        for sub in ("cmd", "out"):
            shutil.rmtree(os.path.join(self.xchg, sub), ignore_errors=True)
        for name in ("ready", "stop"):
            try:
                os.unlink(os.path.join(self.xchg, name))
            except FileNotFoundError:
                pass
        self._boot()

    def _run_once(self, cmd, timeout, cwd, env, check):
        if self.proc is None or self.proc.poll() is not None:
            raise TestHostError("L1 is not running" +
                                (f"\n{self._diagnostics()}" if self.workdir else ""))
        self.seq += 1
        n = f"{self.seq:05d}"
        script = "".join([
            "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
            "export HOME=/root LANG=C.UTF-8\n",
            "".join(f"export {k}={shlex.quote(v)}\n" for k, v in (env or {}).items()),
            f"cd {shlex.quote(cwd or os.getcwd())} 2>/dev/null || cd /\n",
            (cmd if isinstance(cmd, str) else shlex.join(cmd)) + "\n",
        ])
        cmddir = os.path.join(self.xchg, "cmd")
        with open(os.path.join(cmddir, f"{n}.timeout"), "w") as f:
            f.write(f"{int(timeout)}\n")
        tmp = os.path.join(cmddir, f".{n}.tmp")
        with open(tmp, "w") as f:
            f.write(script)
        os.rename(tmp, os.path.join(cmddir, f"{n}.sh"))
        outdir = os.path.join(self.xchg, "out")
        rc_path = os.path.join(outdir, f"{n}.rc")
        deadline = time.monotonic() + timeout + 30
        next_look = time.monotonic() + 5
        while not os.path.exists(rc_path):
            if self.proc.poll() is not None:
                raise TestHostFrozen(f"L1 died while running {cmd!r}\n{self._diagnostics()}")
            now = time.monotonic()
            if now > deadline:
                # The agent's own timeout would have answered by now: L1 is hung.
                raise TestHostFrozen(f"L1 did not answer {timeout + 30}s after {cmd!r}"
                                     f"\n{self._diagnostics()}")
            if now > next_look:
                next_look = now + 5
                stuck = _soft_lockup_seconds(self.console)
                if stuck >= FROZEN_AFTER_S:
                    raise TestHostFrozen(f"L1 froze: a CPU stuck for {stuck}s in L1's kernel "
                                         f"(soft lockup) while running {cmd!r}"
                                         f"\n{self._diagnostics()}")
            time.sleep(0.02)
        with open(rc_path) as f:
            rc = int(f.read().strip() or "255")
        res = []
        for ext in ("out", "err"):
            p = os.path.join(outdir, f"{n}.{ext}")
            with open(p, errors="replace") as f:
                res.append(f.read())
            os.unlink(p)
        os.unlink(rc_path)
        r = Result(cmd, rc, res[0], res[1])
        if check and rc != 0:
            raise AssertionError(f"in L1: {cmd!r} exited {rc}\nstdout: {r.stdout}\n"
                                 f"stderr: {r.stderr}")
        return r
