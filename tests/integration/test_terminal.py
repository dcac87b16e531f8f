"""The container and the caller's terminal.

A container process must not share the caller's session: with the caller's
terminal as its controlling tty it could push input into it with TIOCSTI
(while /proc/sys/dev/tty/legacy_tiocsti is 1, as on Debian 12), and the
calling shell would run it after the container exits. Each test plays the
caller: `sh` in a session of its own whose controlling terminal is a new pty,
running the runtime with that pty as stdin. A tiny static probe in the rootfs
tries TIOCSTI on its stdin and reports; afterwards nothing may be waiting in the
caller's terminal, and /proc must show the container process in a session of
its own. runc runs the same bundle where it is installed.

Then interactive use, where the container has a pty of its own: `podman run
-it`, `ctr run -t`, a foreground `run` of a terminal container, create/start
with `--console-socket`, and `exec --tty`. A user types a command and checks
its output, the exit code, the terminal's name and window size, and who owns
the pty; each against runc where it is installed.
"""
import copy
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import socket
import struct
import subprocess
import termios
import time
import tty

import pytest

from conftest import run

PROBE_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ptyprobe TEXT [wait]: push TEXT into the terminal on stdin with TIOCSTI,
 * print the outcome, then wait for a signal if asked. */
int main(int argc, char **argv)
{
    const char *res = "ok";

    for (const char *c = argv[1]; *c; c++)
        if (ioctl(0, TIOCSTI, c) < 0) {
            res = strerrorname_np(errno);
            break;
        }
    printf("tiocsti=%s\n", res);
    fflush(stdout);
    if (argc > 2)
        pause();
    return 0;
}
"""

INJECT = "echo INJECTED\n"


@pytest.fixture(scope="module")
def probe_bin(tmp_path_factory):
    cc = shutil.which("cc")
    if cc is None or not os.path.exists("/usr/lib/x86_64-linux-gnu/libc.a"):
        pytest.skip("SKIPPED LOUDLY: no C compiler or static libc (gcc, libc6-dev) to build the "
                    "TIOCSTI probe")
    d = tmp_path_factory.mktemp("ptyprobe")
    src = d / "ptyprobe.c"
    src.write_text(PROBE_C)
    out = str(d / "ptyprobe")
    run([cc, "-static", "-O1", "-o", out, str(src)], timeout=120, check=True)
    return out


@pytest.fixture
def probe_rootfs(rootfs, probe_bin):
    shutil.copy(probe_bin, os.path.join(rootfs, "bin", "ptyprobe"))
    return rootfs


def _take_ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class TtyCaller:
    """The calling shell: `sh -c 'ARGV; echo exit=$?'` as the leader of a new
    session whose controlling terminal is a fresh pty, on its stdin (raw, so
    that injected bytes wait in the input queue as they are); stdout and stderr
    go to one pipe."""

    def __init__(self, argv, env=None):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.proc = subprocess.Popen(["sh", "-c", '"$@"; echo "exit=$?"', "sh", *argv],
                                     stdin=self.slave, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_take_ctty, env=env)
        self.sid = self.proc.pid
        self.out = b""

    def read_until(self, marker, timeout=60):
        """Output up to and including the line that contains marker."""
        fd = self.proc.stdout.fileno()
        while marker.encode() not in self.out:
            r, _, _ = select.select([fd], [], [], timeout)
            assert r, f"no {marker!r} within {timeout}s; output so far: {self.out!r}"
            chunk = os.read(fd, 4096)
            assert chunk, f"output ended before {marker!r}: {self.out!r}"
            self.out += chunk
        return self.out.decode(errors="replace")

    def finish(self, timeout=60):
        rest, _ = self.proc.communicate(timeout=timeout)
        self.out += rest
        return self.out.decode(errors="replace")

    def pending(self):
        """What waits in the caller's terminal for the shell to read."""
        os.set_blocking(self.slave, False)
        try:
            return os.read(self.slave, 4096)
        except BlockingIOError:
            return b""

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc.stdout.close()
        os.close(self.master)
        os.close(self.slave)


def proc_stat(pid):
    """(session, tty_nr) of pid, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[3]), int(fields[4])


class Runtime:
    """isola-oci or runc with a private --root, on one bundle."""

    def __init__(self, exe, root):
        self.exe = exe
        self.root = root
        self.ids = []

    def argv(self, *args):
        return [self.exe, "--root", self.root, *args]

    def __call__(self, *args, timeout=60):
        return run(self.argv(*args), timeout=timeout)

    def detached(self, *args, timeout=60):
        with open(os.devnull, "r+") as null:
            return subprocess.run(self.argv(*args), stdin=null, stdout=null, stderr=null,
                                  timeout=timeout).returncode

    def pid(self, cid):
        p = self("state", cid)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)["pid"]

    def cleanup(self):
        for cid in self.ids:
            self("delete", "--force", cid)


RUNTIMES = ["isola-oci", "runc"]


@pytest.fixture(params=RUNTIMES)
def rt(request, oci):
    """The test's isola-oci (the `oci` fixture's root and bundle) or runc on the same bundle."""
    if request.param == "runc":
        if shutil.which("runc") is None:
            pytest.skip("SKIPPED LOUDLY: runc is not installed: no side-by-side comparison")
        r = Runtime(shutil.which("runc"), oci.root + "-runc")
    else:
        r = Runtime(oci.exe, oci.root)
    r.name = request.param
    try:
        yield r
    finally:
        r.cleanup()


def probe_config(oci, rootfs, args, terminal=False):
    cfg = copy.deepcopy(oci.config)
    cfg["root"]["path"] = rootfs  # runc wants it absolute, not a symlink
    cfg["process"]["args"] = args
    cfg["process"]["terminal"] = terminal
    oci.write(cfg)


def check_own_session(caller, pid, want_tty_nr=0):
    sid, tty_nr = proc_stat(pid)
    assert sid != caller.sid, f"pid {pid} is in the caller's session {caller.sid}"
    assert sid == pid, f"pid {pid} is not the leader of its session ({sid})"
    if want_tty_nr is not None:
        assert tty_nr == want_tty_nr, f"pid {pid} has controlling tty {tty_nr:#x}"


def read_pid_file(path, timeout=30):
    """runc writes an exec's --pid-file once the process runs, maybe after its first output."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                text = f.read()
            if text:
                return int(text)
        except FileNotFoundError:
            pass
        assert time.monotonic() < deadline, f"{path}: not written within {timeout}s"
        time.sleep(0.05)


def kill_pid(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_run_no_terminal_cannot_inject(oci, rt, probe_rootfs):
    probe_config(oci, probe_rootfs, ["/bin/ptyprobe", INJECT, "wait"])
    cid = oci.new_id()
    rt.ids.append(cid)
    caller = TtyCaller(rt.argv("run", "--bundle", oci.bundle, cid))
    pid = None
    try:
        out = caller.read_until("tiocsti=")
        assert "tiocsti=ok" not in out, f"{rt.name}: TIOCSTI on the caller's terminal worked"
        pid = rt.pid(cid)
        check_own_session(caller, pid)
        kill_pid(pid)
        out = caller.finish()
        assert "exit=137" in out, out
        assert caller.pending() == b"", f"{rt.name}: input injected into the caller's terminal"
    finally:
        if pid:
            kill_pid(pid)
        caller.close()


def test_isola_run_cannot_inject(isola, probe_rootfs, tmp_root, oci):
    env = dict(os.environ, ISOLA_RUN_DIR=os.path.join(tmp_root, "run"))
    name = oci.new_id()
    state = Runtime(oci.exe, os.path.join(tmp_root, "run", "oci"))
    state.ids.append(name)
    caller = TtyCaller([isola, "run", "--rm", "--name", name, probe_rootfs, "/bin/ptyprobe",
                        INJECT, "wait"], env=env)
    pid = None
    try:
        out = caller.read_until("tiocsti=")
        assert "tiocsti=ok" not in out, "TIOCSTI on the caller's terminal worked"
        pid = state.pid(name)
        check_own_session(caller, pid)
        kill_pid(pid)
        out = caller.finish()
        assert "exit=137" in out, out
        assert caller.pending() == b"", "input injected into the caller's terminal"
    finally:
        if pid:
            kill_pid(pid)
        caller.close()
        state.cleanup()


@pytest.mark.parametrize("tty_flag", [False, True], ids=["notty", "tty"])
def test_exec_cannot_inject(oci, rt, probe_rootfs, tty_flag):
    probe_config(oci, probe_rootfs, ["sleep", "300"])
    cid = oci.new_id()
    rt.ids.append(cid)
    assert rt.detached("run", "--detach", "--bundle", oci.bundle, cid) == 0
    init = rt.pid(cid)
    pidfile = os.path.join(oci.bundle, f"exec-{cid}.pid")
    caller = TtyCaller(rt.argv("exec", *(["--tty"] if tty_flag else []), "--pid-file", pidfile,
                               cid, "/bin/ptyprobe", INJECT, "wait"))
    pid = None
    try:
        out = caller.read_until("tiocsti=")
        pid = read_pid_file(pidfile)
        if tty_flag:
            # its own pty: TIOCSTI reaches that one, never the caller's
            check_own_session(caller, pid, want_tty_nr=None)
            assert proc_stat(pid)[1] != 0, "exec --tty: no controlling terminal"
            st, mine = os.stat(f"/proc/{pid}/fd/0"), os.fstat(caller.slave)
            assert (st.st_dev, st.st_ino) != (mine.st_dev, mine.st_ino), "stdin is the caller's tty"
        else:
            assert "tiocsti=ok" not in out, f"{rt.name}: TIOCSTI on the caller's terminal worked"
            check_own_session(caller, pid)
        kill_pid(pid)
        out = caller.finish()
        assert "exit=137" in out, out
        if not tty_flag:  # with --tty the relay reads the caller's terminal itself
            assert caller.pending() == b"", f"{rt.name}: input injected into the caller's terminal"
    finally:
        if pid:
            kill_pid(pid)
        kill_pid(init)
        caller.close()


# ---- interactive use: the container's own pty ----

ROWS, COLS = 33, 111


class PtyProc:
    """argv on a new pty of ours (stdin, stdout, stderr and controlling
    terminal), window ROWSxCOLS set before it starts: an interactive user."""

    def __init__(self, argv, env=None, rows=ROWS, cols=COLS):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execvpe(argv[0], argv, env or os.environ)
            finally:
                os._exit(127)
        self.out = b""
        self.status = None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return None
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: every slave fd is closed
            chunk = b""
        self.out += chunk
        return chunk

    def read_until(self, marker, timeout=60):
        deadline = time.monotonic() + timeout
        while marker.encode() not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"no {marker!r} within {timeout}s; output: {self.out!r}"
            chunk = self._read(left)
            assert chunk != b"", f"output ended before {marker!r}: {self.out!r}"
        return self.text()

    def type(self, line):
        os.write(self.fd, line.encode())

    def wait(self, timeout=60):
        """Exit code, reading the output meanwhile (a full pty would block it)."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                break
            assert time.monotonic() < deadline, f"still running after {timeout}s: {self.out!r}"
            self._read(0.2)
        while self._read(0):
            pass
        return self.status

    def text(self):
        return self.out.decode(errors="replace").replace("\r", "")

    def close(self):
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.status = -9
        os.close(self.fd)


# What a user checks in an interactive shell: the terminal's name, its size,
# that a command runs, the exit code. $((6*7)) prints 42 only when run (the
# terminal echoes the line as typed).
CHECK = "tty; stty size; stat -L -c 'own=%u:%g mode=%a' /proc/self/fd/0; echo MARK$((6*7)); exit 5\n"


# ctr sends the window size after the task has started (its console resize
# loop), so the shell may print its prompt first: wait until the pty has a
# size (stty fails on 0x0), bounded by read_until's timeout.
SETTLE = "until stty size >/dev/null 2>&1; do sleep 0.1; done; "


def check_interactive(p, who, size=(ROWS, COLS), settle=False):
    p.read_until("# ")  # the shell's prompt: it reads the terminal now
    p.type((SETTLE if settle else "") + CHECK)
    out = p.read_until("MARK42")
    code = p.wait()
    assert code == 5, f"{who}: exit code {code}\n{out}"
    lines = out.split("\n")
    assert any(ln in ("/dev/console", "/dev/pts/0") for ln in lines), f"{who}: tty\n{out}"
    assert f"{size[0]} {size[1]}" in lines, f"{who}: window size\n{out}"
    return out


@pytest.fixture(scope="module")
def busybox_archive(rootfs_template, tmp_path_factory):
    return subprocess.run(["tar", "-C", rootfs_template, "-c", "."], stdout=subprocess.PIPE,
                          check=True, timeout=60).stdout


def peer_runtimes(oci_runtime):
    rts = [("isola-oci", oci_runtime)]
    if shutil.which("runc"):
        rts.append(("runc", shutil.which("runc")))
    return rts


def test_podman_run_interactive(oci_runtime, busybox_archive, tmp_path):
    """`podman run -it IMAGE sh`: podman lists /dev/pts after /sys, so /dev/ptmx
    has to be made once every mount is in place."""
    if shutil.which("podman") is None:
        pytest.skip("SKIPPED LOUDLY: podman is not installed (scripts/install-deps.sh)")
    from peers import Podman

    pm = Podman(str(tmp_path / "podman"), oci_runtime, tag=(os.getpid() + 17) % 10000)
    try:
        r = subprocess.run(["podman", "import", "-", "localhost/isola-tty"], input=busybox_archive,
                           env=pm.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        for name, exe in peer_runtimes(oci_runtime):
            p = PtyProc([*pm.prefix, "podman", "--runtime", exe, "run", "--rm", "-it",
                         "localhost/isola-tty", "sh"], env=pm.env)
            try:
                out = check_interactive(p, f"podman --runtime {name}")
            finally:
                p.close()
            assert "own=0:5 mode=620" in out, out
            # podman exec -it: conmon's console socket, the exec's own pty
            ctr = f"tty-{name}-{os.getpid()}"
            r = pm("--runtime", exe, "run", "-d", "--name", ctr, "localhost/isola-tty", "sleep",
                   "300")
            assert r.returncode == 0, r.stderr
            p = PtyProc([*pm.prefix, "podman", "--runtime", exe, "exec", "-it", ctr, "sh"],
                        env=pm.env)
            try:
                check_interactive(p, f"podman --runtime {name} exec -it")
            finally:
                p.close()
                pm("--runtime", exe, "rm", "--force", "--time", "0", ctr)
    finally:
        pm.close()


def test_ctr_run_tty(oci_runtime, rootfs_template, tmp_path):
    if shutil.which("containerd") is None or shutil.which("ctr") is None:
        pytest.skip("SKIPPED LOUDLY: containerd/ctr are not installed (scripts/install-deps.sh)")
    from peers import Containerd, oci_archive

    image = "localhost/isola-tty:latest"
    archive = str(tmp_path / "bb.tar")
    oci_archive(rootfs_template, archive, image)
    c = Containerd(str(tmp_path / "d"), oci_runtime)
    try:
        r = c.ctr("images", "import", archive)
        assert r.returncode == 0, r.stderr
        for name, exe in peer_runtimes(oci_runtime):
            p = PtyProc(["ctr", "-a", c.sock, "-n", c.ns, "run", "--rm", "-t", "--runc-binary",
                         exe, image, f"tty-{name}-{os.getpid()}", "sh"])
            try:
                check_interactive(p, f"ctr --runc-binary {name}", settle=True)
            finally:
                p.close()
            # ctr task exec -t on a detached task
            task = f"ttyd-{name}-{os.getpid()}"
            r = c.ctr("run", "-d", "--runc-binary", exe, image, task, "sleep", "300")
            assert r.returncode == 0, r.stderr
            p = PtyProc(["ctr", "-a", c.sock, "-n", c.ns, "task", "exec", "-t", "--exec-id",
                         "sh1", task, "sh"])
            try:
                check_interactive(p, f"ctr --runc-binary {name} task exec -t", settle=True)
            finally:
                p.close()
                c.ctr("task", "kill", "-s", "SIGKILL", task)
                c.ctr("task", "delete", "-f", task)
                c.ctr("container", "delete", task)
    finally:
        c.close()


def tty_config(oci, rootfs, args, user=None, terminal=True, console_size=None):
    cfg = copy.deepcopy(oci.config)
    cfg["root"]["path"] = rootfs  # runc wants it absolute, not a symlink
    cfg["process"]["args"] = args
    cfg["process"]["terminal"] = terminal
    if user:
        cfg["process"]["user"] = {"uid": user[0], "gid": user[1]}
    if console_size:
        cfg["process"]["consoleSize"] = {"height": console_size[0], "width": console_size[1]}
    for m in cfg["mounts"]:
        if m["type"] == "devpts":
            m["options"] = m["options"] + ["gid=5"]  # as podman, docker and runc's spec
    oci.write(cfg)


def test_run_terminal_foreground(oci, rt, rootfs):
    """A foreground `run` of a terminal container relays the pty: the window
    size is the caller's, the pty is the process's controlling terminal and is
    bound at /dev/console, and belongs to the process's user (runc's
    fixStdioPermissions)."""
    tty_config(oci, rootfs, ["sh"], user=(1000, 1000))
    cid = oci.new_id()
    rt.ids.append(cid)
    p = PtyProc(rt.argv("run", "--bundle", oci.bundle, cid))
    try:
        p.read_until("$ ")
        p.type("ls -ln /dev/console; grep -c ' /dev/console ' /proc/self/mountinfo; "
               "cut -d' ' -f6,7 /proc/self/stat; " + CHECK.replace("exit 5", "exit 6"))
        out = p.read_until("MARK42")
        assert p.wait() == 6, out
    finally:
        p.close()
    lines = out.split("\n")
    assert "/dev/pts/0" in lines, out
    assert f"{ROWS} {COLS}" in lines, out
    assert "own=1000:5 mode=620" in out, f"{rt.name}: the pty's owner and mode\n{out}"
    assert any(ln.startswith("crw--w----") and " 1000 " in ln and "136," in ln for ln in lines), out
    assert "1" in lines, f"{rt.name}: /dev/console is not a mount\n{out}"
    # session 1 (the init leads it) and a controlling tty (136, 0)
    assert f"1 {os.makedev(136, 0)}" in lines, out


def recv_master(srv, timeout=60):
    srv.settimeout(timeout)
    conn, _ = srv.accept()
    with conn:
        msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    assert fds, "no fd on the console socket"
    return fds[0], msg.decode()


def test_console_socket_size_and_resize(oci, rt, rootfs, tmp_root):
    """create/start with --console-socket: process.consoleSize is the first
    size, a TIOCSWINSZ of the receiver on the master reaches the process."""
    tty_config(oci, rootfs, ["sh", "-c", "stty size; tty; read x; stty size; echo DONE"],
               console_size=(25, 97))
    cid = oci.new_id()
    rt.ids.append(cid)
    path = os.path.join(tmp_root, f"console-{rt.name}.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
        srv.bind(path)
        srv.listen(1)
        assert rt.detached("create", "--console-socket", path, "--bundle", oci.bundle, cid) == 0
        master, name = recv_master(srv)
    try:
        assert rt.detached("start", cid) == 0
        out = b""
        deadline = time.monotonic() + 60
        while b"/dev/" not in out:
            assert time.monotonic() < deadline, out
            r, _, _ = select.select([master], [], [], 5)
            if r:
                out += os.read(master, 4096)
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.write(master, b"go\n")
        while b"DONE" not in out:
            assert time.monotonic() < deadline, out
            r, _, _ = select.select([master], [], [], 5)
            if r:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
    finally:
        os.close(master)
    lines = out.decode().replace("\r", "").split("\n")
    assert lines[0] == "25 97", f"{rt.name}: consoleSize\n{lines}"
    assert lines[1] in ("/dev/console", "/dev/pts/0"), lines
    assert "40 120" in lines, f"{rt.name}: resize\n{lines}"


def test_exec_tty(oci, rt, rootfs):
    """`exec --tty`: a pty of its own with the caller's window size, as its
    controlling terminal, owned by the exec's user."""
    tty_config(oci, rootfs, ["sleep", "300"], terminal=False)
    cid = oci.new_id()
    rt.ids.append(cid)
    assert rt.detached("run", "--detach", "--bundle", oci.bundle, cid) == 0
    init = rt.pid(cid)
    p = PtyProc(rt.argv("exec", "--tty", "--user", "1000:1000", cid, "sh"))
    try:
        p.read_until("$ ")
        p.type(CHECK)
        out = p.read_until("MARK42")
        assert p.wait() == 5, out
    finally:
        p.close()
        kill_pid(init)
    lines = out.split("\n")
    assert any(ln.startswith("/dev/pts/") for ln in lines), out
    assert f"{ROWS} {COLS}" in lines, out
    assert "own=1000:5 mode=620" in out, f"{rt.name}: the pty's owner and mode\n{out}"
