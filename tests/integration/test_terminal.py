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
"""
import copy
import fcntl
import os
import select
import shutil
import signal
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
        import json
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
