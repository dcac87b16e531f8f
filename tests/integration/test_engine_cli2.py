"""The everyday `isola` container commands beyond test_engine_cli.py's
(docs/engine.md, "Containers"): attach (a real pty as the user's terminal,
detach keys, stdin, signals proxied). Each test has a private store
(ISOLA_ROOT) and run dir (ISOLA_RUN_DIR)."""
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time

from test_engine_cli import IMAGE, cgroup_dirs, eng, wait_until  # noqa: F401 (fixture)
from test_terminal import PtyProc

TICKS = ["sh", "-c", "trap 'exit 7' TERM; while :; do echo tick; sleep 0.2; done"]


def read_until(fd, marker, buf, timeout=60):
    end = time.monotonic() + timeout
    while marker not in buf[0]:
        left = end - time.monotonic()
        assert left > 0, f"no {marker!r} within {timeout}s: {buf[0]!r}"
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            assert chunk, f"output ended before {marker!r}: {buf[0]!r}"
            buf[0] += chunk


def test_attach_tty_size_detach_keys_exit_code(eng):
    cid = eng.ok("run", "-d", "-i", "-t", "--name", "att", IMAGE, "sh").strip()
    p = PtyProc([*eng.ns, eng.isola, "attach", "att"], env=eng.env, rows=31, cols=97)
    try:
        # the window size of the user's terminal reaches the container's pty
        p.type("stty size; echo mark$((40+2))\n")
        p.read_until("mark42", timeout=60)
        assert "31 97" in p.text()
        # Ctrl-P Ctrl-Q: detached, exit 0, the container goes on
        p.type("\x10\x11")
        assert p.wait() == 0, p.text()
    finally:
        p.close()
    assert eng.inspect(cid)["State"]["Running"] is True
    # attached again: a typed `exit 5` ends it, and attach exits with its code
    p = PtyProc([*eng.ns, eng.isola, "attach", "att"], env=eng.env)
    try:
        p.type("echo again$((1+1))\n")
        p.read_until("again2")
        p.type("exit 5\n")
        assert p.wait() == 5, p.text()
    finally:
        p.close()
    st = eng.inspect(cid)["State"]
    assert st["Running"] is False and st["ExitCode"] == 5


def test_attach_stdin_pipe_and_exit_code(eng):
    eng.ok("run", "-d", "-i", "--name", "att2", IMAGE,
           "sh", "-c", "read l; echo got-$l; exit 3")
    p = subprocess.run(
        [*eng.ns, eng.isola, "attach", "att2"], input="hello\n", env=eng.env, capture_output=True,
        text=True, timeout=60)
    assert p.returncode == 3, p.stderr
    assert "got-hello" in p.stdout


def test_attach_stopped_container_refused(eng):
    eng.ok("create", "--name", "att3", IMAGE, "true")
    p = eng("attach", "att3")
    assert p.returncode == 1
    assert "You cannot attach to a stopped container, start it first" in p.stderr


def test_attach_sig_proxy_and_no_stdin(eng):
    eng.ok("run", "-d", "-i", "--name", "att4", IMAGE, *TICKS)
    a = subprocess.Popen([*eng.ns, eng.isola, "attach", "--no-stdin", "att4"], env=eng.env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        buf = [b""]
        read_until(a.stdout.fileno(), b"tick", buf)
        # --no-stdin: our input does not end the container's stdin (its
        # `read` would see EOF); the SIGTERM we get goes to the container,
        # whose trap exits 7, and attach exits with that code
        a.stdin.write(b"ignored\n")
        a.stdin.close()
        a.send_signal(signal.SIGTERM)
        assert a.wait(timeout=60) == 7, a.stderr.read()
    finally:
        if a.poll() is None:
            a.kill()
            a.wait()
    assert eng.inspect("att4")["State"]["ExitCode"] == 7


def test_attach_sig_proxy_false(eng):
    eng.ok("run", "-d", "--name", "att5", IMAGE, *TICKS)
    a = subprocess.Popen([*eng.ns, eng.isola, "attach", "--sig-proxy=false", "att5"], env=eng.env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        buf = [b""]
        read_until(a.stdout.fileno(), b"tick", buf)
        a.send_signal(signal.SIGTERM)
        assert a.wait(timeout=60) == -signal.SIGTERM
    finally:
        if a.poll() is None:
            a.kill()
            a.wait()
    # the container did not get it
    wait_until(lambda: eng.inspect("att5")["State"]["Running"], "att5 running", 5)


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def test_run_it_winsize_ctrl_c_exit_code(eng):
    p = PtyProc([*eng.ns, eng.isola, "run", "-it", "--name", "runit", IMAGE, "sh"], env=eng.env,
                rows=33, cols=101)
    try:
        p.type("stty size; echo m$((2+3))\n")
        p.read_until("m5")
        assert "33 101" in p.text()
        # a new window size (SIGWINCH to isola) reaches the container's pty
        set_winsize(p.fd, 41, 120)
        p.type("stty size; echo n$((2+4))\n")
        p.read_until("n6")
        assert "41 120" in p.text()
        # Ctrl-C goes to the container's foreground job, not to isola
        p.type("sh -c 'trap \"echo got-int; exit 0\" INT; echo armed$((1)); "
               "while :; do sleep 0.1; done'; echo after$((3+4))\n")
        p.read_until("armed1")
        p.type("\x03")
        p.read_until("after7")
        assert "got-int" in p.text()
        p.type("exit 4\n")
        assert p.wait() == 4, p.text()
    finally:
        p.close()
    st = eng.inspect("runit")["State"]
    assert st["Running"] is False and st["ExitCode"] == 4


def test_run_it_detach_keys(eng):
    p = PtyProc([*eng.ns, eng.isola, "run", "-it", "--name", "runit2", IMAGE, "sh"], env=eng.env)
    try:
        p.type("echo up$((1+1))\n")
        p.read_until("up2")
        p.type("\x10\x11")
        assert p.wait() == 0, p.text()
    finally:
        p.close()
    assert eng.inspect("runit2")["State"]["Running"] is True
    assert eng("exec", "runit2", "true").returncode == 0


def test_run_i_stdin_pipe(eng):
    p = subprocess.run([*eng.ns, eng.isola, "run", "-i", "--rm", IMAGE, "sh", "-c", "cat; exit 2"],
                       input="piped-in\n", env=eng.env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2, p.stderr
    assert p.stdout == "piped-in\n"


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def frozen(pid):
    """Is pid frozen by a cgroup freezer (v2 cgroup.freeze or v1 freezer)?"""
    for d in cgroup_dirs(pid):
        for name, want in (("cgroup.freeze", "1"), ("freezer.state", "FROZEN")):
            try:
                with open(os.path.join(d, name)) as f:
                    if f.read().strip() == want:
                        return True
            except OSError:
                pass
    return False


def test_pause_unpause_ps_stop(eng):
    cid = eng.ok("run", "-d", "--name", "pz", IMAGE, *TICKS).strip()
    pid = eng.inspect(cid)["State"]["Pid"]
    assert eng.ok("pause", "pz").strip() == "pz"
    st = eng.inspect(cid)["State"]
    assert st["Paused"] is True and st["Running"] is True and st["Status"] == "paused"
    assert frozen(pid)
    assert "(Paused)" in eng.ok("ps", "--filter", "name=pz", "--format", "{{.Status}}")
    # Docker's words for a second pause, and an unpause of a running one
    p = eng("pause", "pz")
    assert p.returncode == 1 and f"Container {cid} is already paused" in p.stderr
    assert eng.ok("unpause", "pz").strip() == "pz"
    assert not frozen(pid)
    assert eng.inspect(cid)["State"]["Status"] == "running"
    p = eng("unpause", "pz")
    assert p.returncode == 1 and f"Container {cid} is not paused" in p.stderr
    # stop of a paused container: thawed, it gets the stop signal (its trap exits 7)
    eng.ok("pause", "pz")
    eng.ok("stop", "pz", timeout=60)
    st = eng.inspect(cid)["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 7 and st["Paused"] is False
    p = eng("pause", "pz")
    assert p.returncode == 1 and f"Container {cid} is not running" in p.stderr


def test_stats_no_stream(eng):
    import json
    eng.ok("run", "-d", "--name", "busy", "-m", "64m", IMAGE, "sh", "-c", "while :; do :; done")
    eng.ok("run", "-d", "--name", "idle", IMAGE, "sh", "-c", "sleep 1000 & sleep 1000 & wait")
    eng.ok("create", "--name", "notrun", IMAGE, "true")
    rows = {}
    for line in eng.ok("stats", "--no-stream", "--format", "json", timeout=60).splitlines():
        r = json.loads(line)
        rows[r["Name"]] = r
    assert set(rows) == {"busy", "idle"}  # running ones only without -a
    busy, idle = rows["busy"], rows["idle"]
    assert float(busy["CPUPerc"].rstrip("%")) > 0.5  # a busy loop over a second
    assert busy["MemUsage"].endswith(" / 64MiB")
    used = busy["MemUsage"].split(" / ")[0]
    assert used[-3:] in ("KiB", "MiB") or used.endswith("B")
    assert 0 < float(busy["MemPerc"].rstrip("%")) < 100
    # sh and its two sleeps (once sh has started both)
    wait_until(lambda: eng.ok("stats", "--no-stream", "--format", "{{.PIDs}}",
                              "idle").strip() == "3", "3 pids in idle", 60)
    assert len(busy["ID"]) == 12 and busy["Container"] == "busy"
    # -a: a container that does not run has Docker's zero row
    out = eng.ok("stats", "--no-stream", "-a", "--format",
                 "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", timeout=60)
    assert "notrun 0.00% 0B / 0B 0" in out.splitlines()
    # the default table: Docker's header
    out = eng.ok("stats", "--no-stream", "idle", timeout=60).splitlines()
    assert out[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT",
                              "MEM", "%", "NET", "I/O", "BLOCK", "I/O", "PIDS"]
    assert out[1].split()[1] == "idle"
    p = eng("stats", "--no-stream", "nosuch")
    assert p.returncode == 1 and "No such container: nosuch" in p.stderr


def test_top(eng):
    cid = eng.ok("run", "-d", "--name", "tp", IMAGE, "sh", "-c", "sleep 1000 & wait").strip()
    pid = eng.inspect(cid)["State"]["Pid"]
    wait_until(lambda: "sleep 1000" in eng.ok("top", "tp"), "the sleep in top", 60)
    lines = eng.ok("top", "tp").splitlines()
    assert lines[0].split()[:3] == ["UID", "PID", "PPID"]
    assert len(lines) == 3  # sh and sleep, nothing of the host's
    assert any(line.split()[1] == str(pid) for line in lines[1:])
    lines = eng.ok("top", "tp", "-o", "pid,comm").splitlines()
    assert [line.split()[1] for line in lines] == ["COMMAND", "sh", "sleep"]
    p = eng("top", "tp", "-o", "comm")
    assert p.returncode == 1 and "Couldn't find PID field in ps output" in p.stderr
    eng.ok("stop", "-t", "1", "tp", timeout=60)
    p = eng("top", "tp")
    assert p.returncode == 1 and f"container {cid} is not running" in p.stderr


def test_exec_it_pty_winsize_exit_code(eng):
    eng.ok("run", "-d", "--name", "ex", IMAGE, *TICKS)
    p = PtyProc([*eng.ns, eng.isola, "exec", "-it", "ex", "sh"], env=eng.env, rows=27, cols=88)
    try:
        p.type("stty size; tty; echo e$((1+1))\n")
        p.read_until("e2")
        assert "27 88" in p.text() and "/dev/pts/" in p.text()
        set_winsize(p.fd, 50, 132)
        p.type("stty size; echo f$((1+2))\n")
        p.read_until("f3")
        assert "50 132" in p.text()
        p.type("exit 6\n")
        assert p.wait() == 6, p.text()
    finally:
        p.close()
    assert eng.inspect("ex")["State"]["Running"] is True


def test_exec_i_stdin_pipe(eng):
    eng.ok("run", "-d", "--name", "exi", IMAGE, *TICKS)
    p = subprocess.run([*eng.ns, eng.isola, "exec", "-i", "exi", "sh", "-c", "cat; exit 3"],
                       input="to-exec\n", env=eng.env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 3, p.stderr
    assert p.stdout == "to-exec\n"
    p = subprocess.run([*eng.ns, eng.isola, "exec", "-i", "exi", "nosuchcmd"], input="", env=eng.env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 127, p.stderr


def test_system_boot_after_simulated_reboot(eng):
    import shutil
    from conftest import mounts_below
    from test_engine_cli import alive
    eng.ok("run", "-d", "--name", "b-always", "--restart", "always", IMAGE, *TICKS)
    eng.ok("run", "-d", "--name", "b-unless", "--restart", "unless-stopped", IMAGE, *TICKS)
    eng.ok("run", "-d", "--name", "b-unless-stopped", "--restart", "unless-stopped", IMAGE, *TICKS)
    eng.ok("run", "-d", "--name", "b-none", IMAGE, *TICKS)
    eng.ok("run", "-d", "--name", "b-always-stopped", "--restart", "always", IMAGE, *TICKS)
    eng.ok("stop", "-t", "5", "b-unless-stopped", "b-always-stopped", timeout=60)
    eng.ok("exec", "b-always", "sh", "-c", "echo kept > /written")
    names = ["b-always", "b-unless", "b-none"]
    pids = [eng.inspect(n)["State"]["Pid"] for n in names]
    cgroups = [d for p in pids for d in cgroup_dirs(p)]
    # the reboot: every monitor killed (its workload dies with it), the run
    # dir (a tmpfs) emptied, the overlays and cgroups gone
    for pid in eng.monitors():
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not any(alive(p) for p in pids), "workloads gone")
    run_dir = eng.env["ISOLA_RUN_DIR"]
    for entry in os.listdir(run_dir):
        shutil.rmtree(os.path.join(run_dir, entry), ignore_errors=True)
    for m in mounts_below(os.path.join(eng.env["ISOLA_ROOT"], "containers")):
        subprocess.run(["umount", "-l", m], check=True, timeout=30)
    for d in sorted(cgroups, key=len, reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass
    out = eng.ok("system", "boot", timeout=120)
    assert sorted(out.split()) == ["b-always", "b-always-stopped", "b-unless"]
    for n in ("b-always", "b-unless", "b-always-stopped"):
        st = eng.inspect(n)["State"]
        assert st["Running"] is True, (n, st)
        # its root is the overlay again, with what the container wrote before
        assert eng("exec", n, "true").returncode == 0
    assert eng.ok("exec", "b-always", "cat", "/written") == "kept\n"
    st = eng.inspect("b-none")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 255
    st = eng.inspect("b-unless-stopped")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 7
    # a second boot changes nothing
    assert eng.ok("system", "boot", timeout=120) == ""


def test_system_prune(eng):
    eng.ok("create", "--name", "pr-created", IMAGE, "true")
    eng.ok("run", "-d", "--name", "pr-running", IMAGE, *TICKS)
    # without -f it asks; "n" keeps everything
    p = subprocess.run([*eng.ns, eng.isola, "system", "prune"], input="n\n", env=eng.env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "Are you sure you want to continue? [y/N]" in p.stdout
    assert eng("inspect", "pr-created").returncode == 0
    out = eng.ok("system", "prune", "-f", timeout=120)
    assert "Deleted Containers:" in out
    assert eng("inspect", "pr-created").returncode != 0
    assert eng.inspect("pr-running")["State"]["Running"] is True


def test_default_hostname_is_short_id(eng):
    # (the UTS name; /etc/hostname is the image's file: isola writes none yet)
    cid = eng.ok("run", "-d", "--name", "hn", IMAGE, "hostname").strip()
    assert eng.ok("wait", "hn") == "0\n"
    assert eng.ok("logs", "hn") == f"{cid[:12]}\n"
    assert eng.inspect("hn")["Config"]["Hostname"] == cid[:12]
    # --hostname still wins
    eng.ok("run", "-d", "--name", "hn2", "--hostname", "web1", IMAGE, "hostname")
    assert eng.ok("wait", "hn2") == "0\n" and eng.ok("logs", "hn2") == "web1\n"


def test_kill_turns_restart_policy_off_as_docker(eng):
    from test_engine_cli import alive
    # SIGKILL (the default): the policy is off until the next start (docker-kill(1))
    eng.ok("run", "-d", "--name", "k1", "--restart", "always", IMAGE, *TICKS)
    mon = eng.monitors()[0]
    eng.ok("kill", "k1")
    assert eng.ok("wait", "k1", timeout=60) == "137\n"
    wait_until(lambda: not alive(mon), "k1's monitor gone (no restart)", 60)
    st = eng.inspect("k1")
    assert st["State"]["Status"] == "exited" and st["RestartCount"] == 0
    # the stop signal (TERM by default) too: the trap exits 7, no restart
    eng.ok("start", "k1")
    eng.ok("kill", "-s", "TERM", "k1")
    assert eng.ok("wait", "k1", timeout=60) == "7\n"
    assert eng.inspect("k1")["State"]["Status"] == "exited"
    # another signal that ends it: the policy applies, it is restarted
    eng.ok("run", "-d", "--name", "k2", "--restart", "always", IMAGE,
           "sh", "-c", "trap 'exit 3' USR1; while :; do sleep 0.2; done")
    eng.ok("kill", "-s", "USR1", "k2")
    wait_until(lambda: eng.inspect("k2")["RestartCount"] >= 1, "k2 restarted", 60)
    wait_until(lambda: eng.inspect("k2")["State"]["Running"], "k2 running again", 60)
