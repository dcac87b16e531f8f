"""A foreground `isola run`: the signals sent to it reach the container, the
container does not outlive it, and nothing of a run stays behind (state,
bundle, overlay mount, cgroup), even when `isola run` itself is SIGKILLed."""
import json
import os
import signal
import subprocess

import pytest
from conftest import mounts_below, run

FORWARDED = ["INT", "TERM", "HUP", "QUIT", "USR1", "USR2"]


def env_for(tmp_root):
    return dict(os.environ, ISOLA_RUN_DIR=os.path.join(tmp_root, "run"),
                ISOLA_ROOT=os.path.join(tmp_root, "store"))


def alive(pid):
    """Running (not gone, not a zombie waiting for its new parent to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Run:
    """`isola run --name NAME` in the background, started and killed by this test
    only; close() also kills the container's init if it outlived isola run (the
    bug this file tests for), so the output pipes reach EOF."""

    def __init__(self, isola, env, name, *args):
        self.state_json = os.path.join(env["ISOLA_RUN_DIR"], "oci", name, "state.json")
        self.init = None
        self.p = subprocess.Popen([isola, "run", "--name", name, *args], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_ready(self):
        line = self.p.stdout.readline()  # bounded: the script prints it first
        assert line == "ready\n", (line, self.p.poll())
        with open(self.state_json) as f:
            self.state = json.load(f)
        self.init = self.state["pid"]

    def finish(self, timeout=60):
        self.p.wait(timeout=timeout)
        if self.init and alive(self.init):
            os.kill(self.init, signal.SIGKILL)  # outlived isola run: a failure, seen below
        return self.p.returncode, self.p.stdout.read(), self.p.stderr.read()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=60)
        if self.init and alive(self.init):
            os.kill(self.init, signal.SIGKILL)
        self.p.stdout.close()
        self.p.stderr.close()


def leftovers(tmp_root):
    rd = os.path.join(tmp_root, "run")
    left = [d for d in os.listdir(rd) if d.startswith("bundle-")]
    left += [d for d in os.listdir(os.path.join(rd, "oci")) if not d.startswith(".")] \
        if os.path.isdir(os.path.join(rd, "oci")) else []
    return left + mounts_below(tmp_root)


def cgroup_dirs(state):
    """The container's cgroup directories (v1 hierarchies, v2) from its state."""
    cg = state.get("isola", {}).get("cgroup") or {}
    dirs = list((cg.get("v1") or {}).values()) + ([cg["v2"]] if cg.get("v2") else [])
    return [d for d in dirs if isinstance(d, str) and os.path.isabs(d)]


@pytest.mark.parametrize("sig", FORWARDED)
def test_signal_is_forwarded(isola, rootfs, tmp_root, sig):
    script = (f'trap "echo got-{sig}; exit 7" {sig}; echo ready; '
              "sleep 1000 & wait $!; echo not-reached")
    r = Run(isola, env_for(tmp_root), f"sig{os.getpid()}", "--rm", rootfs, "sh", "-c", script)
    try:
        r.wait_ready()
        r.p.send_signal(getattr(signal, "SIG" + sig))
        rc, out, err = r.finish()
    finally:
        r.close()
    assert out == f"got-{sig}\n", err
    assert rc == 7, err
    assert leftovers(tmp_root) == []


def test_exit_status_of_a_killed_container_is_128_plus_n(isola, rootfs, tmp_root):
    name = f"killed{os.getpid()}"
    r = Run(isola, env_for(tmp_root), name, rootfs, "sh", "-c", "echo ready; exec sleep 1000")
    try:
        r.wait_ready()
        os.kill(r.init, signal.SIGKILL)  # the init this test started
        rc, _, err = r.finish()
    finally:
        r.close()
    assert rc == 128 + signal.SIGKILL, err
    assert leftovers(tmp_root) == []


@pytest.mark.parametrize("from_image", [False, True])
def test_sigkill_of_isola_run_leaves_nothing(isola, rootfs, tmp_root, from_image):
    env = env_for(tmp_root)
    name = f"orphan{os.getpid()}"
    what = rootfs
    if from_image:
        what = f"lifecycle{os.getpid()}"
        assert run([isola, "import", rootfs, what], env=env, timeout=120).returncode == 0
    r = Run(isola, env, name, what, "sh", "-c", "echo ready; exec sleep 1000")
    try:
        r.wait_ready()
        cgroups = cgroup_dirs(r.state)
        assert cgroups and all(os.path.isdir(c) for c in cgroups)
        r.p.kill()
        r.p.wait(timeout=60)
        # the container dies with it (bounded wait for the kernel's SIGKILL)
        for _ in range(200):
            if not alive(r.init):
                break
            subprocess.run(["sleep", "0.05"], timeout=10)
        assert not alive(r.init)
    finally:
        r.close()
    # the name is free again for the next run, which collects the leftovers
    p = run([isola, "run", "--rm", "--name", name, what, "echo", "reused"], env=env, timeout=120)
    assert p.returncode == 0 and p.stdout == "reused\n", p.stderr
    assert leftovers(tmp_root) == []
    assert not any(os.path.exists(c) for c in cgroups), cgroups


@pytest.mark.parametrize("rm", [[], ["--rm"]])
def test_image_run_unmounts_its_overlay(isola, rootfs, tmp_root, rm):
    env = env_for(tmp_root)
    img = f"ovl{os.getpid()}"
    assert run([isola, "import", rootfs, img], env=env, timeout=120).returncode == 0
    p = run([isola, "run", *rm, img, "sh", "-c", "echo x > /written; cat /written"], env=env,
            timeout=120)
    assert p.returncode == 0 and p.stdout == "x\n", p.stderr
    assert leftovers(tmp_root) == []


def test_ctrl_c_on_the_terminal_reaches_the_container(isola, rootfs, tmp_root):
    """^C typed on isola run's terminal: the container's trap runs, isola run
    waits for it and returns its status."""
    import pty
    import select

    env = env_for(tmp_root)
    name = f"ctrlc{os.getpid()}"
    script = 'trap "echo got-INT; exit 7" INT; echo ready; sleep 1000 & wait $!'
    pid, fd = pty.fork()  # the child: a new session, the pty its controlling terminal
    if pid == 0:
        try:
            os.execve(isola, [isola, "run", "--rm", "--name", name, rootfs, "sh", "-c", script],
                      env)
        finally:
            os._exit(127)
    out = b""
    init = None
    try:
        def read_until(marker):
            nonlocal out
            for _ in range(600):  # bounded: 600 reads of at most 0.1 s of silence each
                if marker in out:
                    return True
                r, _, _ = select.select([fd], [], [], 0.1)
                if r:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        return marker in out
            return marker in out

        assert read_until(b"ready"), out
        with open(os.path.join(env["ISOLA_RUN_DIR"], "oci", name, "state.json")) as f:
            init = json.load(f)["pid"]
        os.write(fd, b"\x03")
        assert read_until(b"got-INT"), out
        _, ws = os.waitpid(pid, 0)
        pid = 0
        assert os.waitstatus_to_exitcode(ws) == 7, out
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if init and alive(init):
            os.kill(init, signal.SIGKILL)  # the container this test started, orphaned
        os.close(fd)
    assert leftovers(tmp_root) == []
