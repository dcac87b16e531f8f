"""isola-monitor (docs/engine.md, "Monitor"): the per-workload monitor that the
engine starts detached. These tests drive the real binary on a busybox bundle:
start, logs, exit file, restart policy, attach, resize, stop, SIGKILL of the
monitor, and what is left afterwards."""
import copy
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import binary, run
from oci_util import BASE, HIERARCHIES

LOG_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$")


class Mon:
    """One test's monitors: private run dirs, runtime state root, bundle."""

    def __init__(self, tmp_root, rootfs, request):
        self.exe = binary("isola-monitor")
        self.oci = binary("isola-oci")
        self.tmp = tmp_root
        self.root = os.path.join(tmp_root, "oci")
        self.bundle = os.path.join(tmp_root, "bundle")
        os.makedirs(self.bundle)
        os.symlink(rootfs, os.path.join(self.bundle, "rootfs"))
        self.prefix = f"m{os.getpid()}-{request.node.name[:30]}"
        self.n = 0
        self.started = []  # (id, dir, monitor pid, workload pid)

    def start(self, args, *opts, config=None, expect_ok=True):
        cfg = copy.deepcopy(config or BASE)
        cfg["process"]["args"] = args
        cfg["root"]["path"] = os.path.realpath(os.path.join(self.bundle, "rootfs"))
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(cfg, f)
        self.n += 1
        cid = f"{self.prefix}-{self.n}"
        d = os.path.join(self.tmp, f"run{self.n}")
        os.makedirs(d)
        p = run([self.exe, "start", "--dir", d, "--id", cid, "--bundle", self.bundle,
                 "--state-root", self.root, *opts], timeout=60)
        if not expect_ok:
            return p, cid, d
        assert p.returncode == 0, p.stderr
        wpid, mpid = (int(x) for x in p.stdout.split())
        self.started.append((cid, d, mpid, wpid))
        return cid, d, mpid, wpid

    def connect(self, d):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(30)
        s.connect(os.path.join(d, "ctl.sock"))
        return s

    def request(self, d, what):
        """Send wait/stop; return the exit object the monitor sends at the end.
        A monitor that has already ended has no socket: the exit file says it."""
        try:
            with self.connect(d) as s:
                s.send(what.encode())
                while True:
                    pkt = s.recv(70000)
                    assert pkt, "the monitor closed the socket without an exit"
                    if pkt[:1] == b"x":
                        return json.loads(pkt[1:])
        except (FileNotFoundError, ConnectionRefusedError):
            pass
        st = json.load(open(os.path.join(d, "status")))
        wait_gone(st["monitorPid"], "the monitor")
        with open(os.path.join(d, "exit")) as f:
            return json.load(f)

    def log(self, d, name="ctr.log"):
        with open(os.path.join(d, name)) as f:
            lines = f.read().splitlines()
        recs = []
        for line in lines:
            m = LOG_RE.match(line)
            assert m, f"not a CRI log record: {line!r}"
            recs.append(m.groups())
        return recs

    def leftovers(self, cid):
        left = []
        if os.path.exists(os.path.join(self.root, cid)):
            left.append(os.path.join(self.root, cid))
        for h in HIERARCHIES:
            p = os.path.join("/sys/fs/cgroup", h, "isola", cid)
            if os.path.exists(p):
                left.append(p)
        return left

    def cleanup(self):
        for cid, d, mpid, wpid in self.started:
            if monitor_running(mpid, d):
                os.kill(mpid, signal.SIGKILL)
            subprocess.run([self.oci, "--root", self.root, "delete", "--force", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def monitor_running(mpid, d):
    """Is mpid still our monitor (not a reused pid)?"""
    try:
        with open(f"/proc/{mpid}/cmdline", "rb") as f:
            return d.encode() in f.read()
    except FileNotFoundError:
        return False


def wait_gone(pid, what):
    for _ in range(300):
        if not os.path.exists(f"/proc/{pid}"):
            return
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[1].startswith("Z"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} (pid {pid}) still runs")


@pytest.fixture
def mon(tmp_root, rootfs, request):
    m = Mon(tmp_root, rootfs, request)
    try:
        yield m
    finally:
        m.cleanup()


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)


def test_start_detached_the_workload_runs(mon):
    cid, d, mpid, wpid = mon.start(["sleep", "1000"], "--stop-timeout", "1")
    # the start command has exited; the monitor runs on in its own session and
    # is the workload's parent
    assert os.path.exists(f"/proc/{wpid}")
    assert int(proc_status(wpid)["PPid"]) == mpid
    # nothing of the monitor's signal handling leaks into the workload
    assert int(proc_status(wpid)["SigBlk"], 16) == 0
    assert int(proc_status(wpid)["SigIgn"], 16) == 0
    # a session of its own, not as its leader (it cannot take a controlling tty)
    assert os.getsid(mpid) not in (mpid, os.getsid(0))
    st = json.load(open(os.path.join(d, "status")))
    assert st["state"] == "running" and st["pid"] == wpid and st["monitorPid"] == mpid
    p = run([mon.exe, "alive", "--dir", d])
    assert p.returncode == 0 and p.stdout.split() == ["running", str(mpid)]
    # sleep (pid 1 of its namespace) ignores SIGTERM: the stop escalates
    x = mon.request(d, "stop")
    assert x["exitCode"] == 137 and x["signal"] == 9 and x["oomKilled"] is False
    wait_gone(mpid, "the monitor")
    assert not os.path.exists(f"/proc/{wpid}")
    assert json.load(open(os.path.join(d, "status")))["state"] == "exited"
    assert not os.path.exists(os.path.join(d, "ctl.sock"))
    p = run([mon.exe, "alive", "--dir", d])
    assert p.returncode == 3 and p.stdout.split() == ["exited", str(mpid)]
    assert mon.leftovers(cid) == []


def test_a_second_monitor_does_not_take_over_a_run_dir(mon):
    cid, d, mpid, wpid = mon.start(["sleep", "1000"], "--stop-timeout", "1")
    p = run([mon.exe, "start", "--dir", d, "--id", cid + "-b", "--bundle", mon.bundle,
             "--state-root", mon.root])
    assert p.returncode == 125
    assert f"monitor {mpid} runs there" in p.stderr
    # the first one still answers on its socket
    assert mon.request(d, "stop")["exitCode"] == 137
    assert mon.leftovers(cid + "-b") == []


def test_sigterm_to_the_monitor_is_a_stop(mon):
    cid, d, mpid, wpid = mon.start(
        ["sh", "-c", "trap 'exit 7' TERM; while true; do sleep 1; done"], "--restart", "always")
    os.kill(mpid, signal.SIGTERM)
    wait_gone(mpid, "the monitor")
    with open(os.path.join(d, "exit")) as f:
        x = json.load(f)
    assert x["exitCode"] == 7 and x["restartCount"] == 0  # no restart after a stop
    assert mon.leftovers(cid) == []


def test_start_error_is_reported(mon):
    p, cid, d = mon.start(["/no/such/program"], expect_ok=False)
    assert p.returncode == 125
    assert "/no/such/program" in p.stderr
    assert mon.leftovers(cid) == []


def test_logs_both_streams_in_order_and_exit_code(mon):
    script = "echo out1; sleep 0.2; echo err1 >&2; sleep 0.2; printf part; sleep 0.2; echo out2; exit 3"
    cid, d, mpid, wpid = mon.start(["sh", "-c", script])
    x = mon.request(d, "wait")
    assert x["exitCode"] == 3 and x["signal"] == 0 and x["oomKilled"] is False
    with open(os.path.join(d, "exit")) as f:
        assert json.load(f)["exitCode"] == 3
    recs = mon.log(d)
    assert [(r[1], r[2], r[3]) for r in recs] == [
        ("stdout", "F", "out1"), ("stderr", "F", "err1"), ("stdout", "P", "part"),
        ("stdout", "F", "out2")]
    times = [r[0] for r in recs]
    assert times == sorted(times)
    wait_gone(mpid, "the monitor")
    assert mon.leftovers(cid) == []
    # the same bundle under runc exits with the same code
    if not os.path.exists("/usr/sbin/runc") and not os.path.exists("/usr/bin/runc"):
        pytest.skip("runc is not installed: no peer comparison")
    p = run(["runc", "--root", os.path.join(mon.tmp, "runc"), "run", "--bundle", mon.bundle,
             cid + "-runc"], timeout=60)
    assert p.returncode == 3


def test_exit_by_signal_is_128_plus_n(mon):
    cid, d, mpid, wpid = mon.start(["sleep", "1000"])
    p = run([mon.oci, "--root", mon.root, "kill", cid, "KILL"])
    assert p.returncode == 0, p.stderr
    x = mon.request(d, "wait")
    assert x["exitCode"] == 137 and x["signal"] == 9 and x["oomKilled"] is False


def test_oom_kill_is_recorded(mon):
    cfg = copy.deepcopy(BASE)
    cfg["linux"]["resources"] = {"memory": {"limit": 16 << 20, "swap": 16 << 20}}
    # a shell variable of 64 MB: the shell itself outgrows the limit
    cid, d, mpid, wpid = mon.start(
        ["sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived"], config=cfg)
    x = mon.request(d, "wait")
    assert x["oomKilled"] is True, x
    assert x["exitCode"] == 137 and x["signal"] == 9
    assert "survived" not in [r[3] for r in mon.log(d)]
    wait_gone(mpid, "the monitor")
    assert mon.leftovers(cid) == []


def test_restart_on_failure_2_restarts_twice(mon):
    cid, d, mpid, wpid = mon.start(["sh", "-c", "echo run; exit 1"], "--restart", "on-failure:2")
    x = mon.request(d, "wait")
    assert x["exitCode"] == 1 and x["restartCount"] == 2
    assert [r[3] for r in mon.log(d)] == ["run", "run", "run"]
    st = json.load(open(os.path.join(d, "status")))
    assert st["state"] == "exited" and st["restartCount"] == 2
    wait_gone(mpid, "the monitor")
    assert mon.leftovers(cid) == []


def test_restart_always_ends_with_stop(mon):
    cid, d, mpid, wpid = mon.start(["sh", "-c", "echo run; exit 0"], "--restart", "always")
    # wait until it restarted at least twice (the backoff is 100, 200 ms)
    for _ in range(100):
        if json.load(open(os.path.join(d, "status")))["restartCount"] >= 2:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no second restart")
    x = mon.request(d, "stop")
    assert x["restartCount"] >= 2
    wait_gone(mpid, "the monitor")
    assert mon.leftovers(cid) == []


def test_log_rotation_keeps_max_file(mon):
    script = "i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done"
    cid, d, mpid, wpid = mon.start(["sh", "-c", script], "--log-max-size", "1k",
                                   "--log-max-file", "3")
    assert mon.request(d, "wait")["exitCode"] == 0
    files = sorted(f for f in os.listdir(d) if f.startswith("ctr.log"))
    assert files == ["ctr.log", "ctr.log.1", "ctr.log.2"]
    for f in files:
        assert os.path.getsize(os.path.join(d, f)) <= 1024
    texts = [r[3] for f in ("ctr.log.2", "ctr.log.1", "ctr.log") for r in mon.log(d, f)]
    assert texts[-1] == "line199"
    # what is kept is the end of the output, contiguous
    first = int(texts[0][4:])
    assert texts == [f"line{i}" for i in range(first, 200)]


def attach(mon, d):
    s = mon.connect(d)
    s.send(b"attach")
    return s


def read_until(s, want):
    got = b""
    while want not in got:
        pkt = s.recv(70000)
        assert pkt, f"socket closed before {want!r}; got {got!r}"
        if pkt[:1] in (b"o", b"e"):
            got += pkt[1:]
        elif pkt[:1] == b"x":
            raise AssertionError(f"exited before {want!r}: {pkt!r}; got {got!r}")
    return got


def test_attach_live_output_and_stdin(mon):
    cid, d, mpid, wpid = mon.start(
        ["sh", "-c", "echo ready; while read l; do echo got:$l; echo err:$l >&2; done; exit 5"],
        "-i")
    with attach(mon, d) as s:
        s.send(b"ihello\n")
        out = read_until(s, b"err:hello")
        assert b"got:hello\n" in out
        # detach: the workload goes on
        s.send(b"d")
    assert os.path.exists(f"/proc/{wpid}")
    with attach(mon, d) as s:
        s.send(b"iagain\n")
        read_until(s, b"got:again")
        s.send(b"c")  # end of stdin: the loop ends
        while True:
            pkt = s.recv(70000)
            assert pkt
            if pkt[:1] == b"x":
                assert json.loads(pkt[1:])["exitCode"] == 5
                break
    texts = [r[3] for r in mon.log(d)]
    assert texts[0] == "ready" and "got:hello" in texts and "got:again" in texts


def test_resize_under_a_pty(mon):
    cfg = copy.deepcopy(BASE)
    cfg["process"]["terminal"] = True
    cid, d, mpid, wpid = mon.start(
        ["sh", "-c", "read a; stty size; read b; stty size"], "-t", config=cfg)
    with attach(mon, d) as s:
        s.send(b"r40 100")
        s.send(b"igo\n")
        read_until(s, b"40 100")
        s.send(b"r25 70")
        s.send(b"igo\n")
        read_until(s, b"25 70")
    assert mon.request(d, "wait")["exitCode"] == 0
    assert os.path.exists(os.path.join(d, "ctr.log"))
    assert mon.leftovers(cid) == []


def test_stop_escalates_to_sigkill(mon):
    cid, d, mpid, wpid = mon.start(
        ["sh", "-c", "trap 'echo got TERM' TERM; echo ready; while true; do sleep 1; done"],
        "--stop-timeout", "2")
    with attach(mon, d) as s:
        pass
    for _ in range(100):
        if any(r[3] == "ready" for r in mon.log(d)):
            break
        time.sleep(0.1)
    x = mon.request(d, "stop")
    assert x["exitCode"] == 137 and x["signal"] == 9
    assert "got TERM" in [r[3] for r in mon.log(d)]
    wait_gone(mpid, "the monitor")
    assert mon.leftovers(cid) == []


def test_stop_with_sigterm_that_the_workload_handles(mon):
    cid, d, mpid, wpid = mon.start(
        ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 1; done"])
    for _ in range(100):
        if any(r[3] == "ready" for r in mon.log(d)):
            break
        time.sleep(0.1)
    x = mon.request(d, "stop")
    assert x["exitCode"] == 0 and x["signal"] == 0
    assert [r[3] for r in mon.log(d)] == ["ready", "bye"]


def test_stop_signal_that_the_workload_handles(mon):
    cid, d, mpid, wpid = mon.start(
        ["sh", "-c", "trap 'echo bye; exit 0' USR1; echo ready; while true; do sleep 1; done"],
        "--stop-signal", "USR1")
    for _ in range(100):
        if any(r[3] == "ready" for r in mon.log(d)):
            break
        time.sleep(0.1)
    x = mon.request(d, "stop")
    assert x["exitCode"] == 0 and x["signal"] == 0
    assert [r[3] for r in mon.log(d)] == ["ready", "bye"]


def test_sigkill_of_the_monitor_kills_the_workload(mon):
    """The chosen behaviour (docs/engine.md): a workload never runs on without
    its monitor; the run dir says that the monitor is gone, and a forced
    delete removes what is left (state, cgroup)."""
    cid, d, mpid, wpid = mon.start(["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    for _ in range(100):  # the shell forks its two sleeps after the start
        p = run([mon.oci, "--root", mon.root, "ps", "--format", "json", cid])
        assert p.returncode == 0, p.stderr
        pids = json.loads(p.stdout)
        if len(pids) == 3:
            break
        time.sleep(0.1)
    assert wpid in pids and len(pids) == 3
    os.kill(mpid, signal.SIGKILL)
    wait_gone(mpid, "the monitor")
    for pid in pids:
        wait_gone(pid, "a workload process")
    p = run([mon.exe, "alive", "--dir", d])
    assert p.returncode == 1 and p.stdout.split() == ["gone", str(mpid)]
    assert not os.path.exists(os.path.join(d, "exit"))
    p = run([mon.oci, "--root", mon.root, "state", cid])
    assert p.returncode == 0 and json.loads(p.stdout)["status"] == "stopped"
    p = run([mon.oci, "--root", mon.root, "delete", "--force", cid])
    assert p.returncode == 0, p.stderr
    assert mon.leftovers(cid) == []


def test_a_new_life_in_the_same_run_dir_starts_without_the_old_exit(mon):
    cid, d, mpid, wpid = mon.start(["sh", "-c", "exit 3"])
    assert mon.request(d, "wait")["exitCode"] == 3
    cfg = copy.deepcopy(BASE)
    cfg["process"]["args"] = ["sleep", "1000"]
    cfg["root"]["path"] = os.path.realpath(os.path.join(mon.bundle, "rootfs"))
    with open(os.path.join(mon.bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    p = run([mon.exe, "start", "--dir", d, "--id", cid, "--bundle", mon.bundle,
             "--state-root", mon.root, "--stop-timeout", "1"])
    assert p.returncode == 0, p.stderr
    wpid2, mpid2 = (int(x) for x in p.stdout.split())
    mon.started.append((cid, d, mpid2, wpid2))
    assert not os.path.exists(os.path.join(d, "exit"))
    assert mon.request(d, "stop")["exitCode"] == 137


def test_full_disk_keeps_the_workload_and_logs_the_drop(mon):
    logdir = os.path.join(mon.tmp, "logfs")
    os.makedirs(logdir)
    p = run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", logdir])
    if p.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the full-disk case: {p.stderr.strip()}")
    try:
        log = os.path.join(logdir, "ctr.log")
        cid, d, mpid, wpid = mon.start(
            ["sh", "-c", "while read l; do echo $l; done; echo end"], "-i", "--log", log)
        filler = os.path.join(logdir, "filler")
        with attach(mon, d) as s:
            s.send(b"ibefore\n")
            read_until(s, b"before\n")
            # fill the file system: the next lines cannot be logged
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC)
            try:
                while os.write(fd, b"\0" * 512) > 0:
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
            # lines longer than a page: a record needs a new page (a short
            # write into the last page is cut back)
            s.send(b"ilost1" + b"x" * 5000 + b"\nlost2" + b"x" * 5000 + b"\n")
            read_until(s, b"lost2" + b"x" * 5000 + b"\n")  # handled: logged, then sent
            os.unlink(filler)
            s.send(b"iafter\n")
            read_until(s, b"after\n")
            s.send(b"c")
            read_until(s, b"end\n")
        x = mon.request(d, "wait")
        assert x["exitCode"] == 0  # the workload went on to the end
        with open(log) as f:
            lines = f.read().splitlines()
        texts = [LOG_RE.match(l).group(4) for l in lines]
        assert texts[0] == "before"
        assert not [t for t in texts if t.startswith("lost")]
        note = [t for t in texts if "dropped" in t]
        assert note == ["[isola-monitor] dropped 2 log records (10010 bytes) of output: "
                        "No space left on device"]
        assert texts[texts.index(note[0]) + 1:] == ["after", "end"]
    finally:
        subprocess.run(["umount", "-l", logdir], timeout=30)


def test_stats_of_a_running_workload(mon):
    cfg = copy.deepcopy(BASE)
    cfg["linux"]["resources"] = {"memory": {"limit": 64 << 20}}
    cid, d, mpid, wpid = mon.start(
        ["sh", "-c", "sleep 1000 & sleep 1000 & i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done;"
         " echo busy-done; wait"], "--stop-timeout", "1", config=cfg)
    for _ in range(300):
        if any(r[3] == "busy-done" for r in mon.log(d)):
            break
        time.sleep(0.1)
    with mon.connect(d) as s:
        s.send(b"stats")
        pkt = s.recv(70000)
    assert pkt[:1] == b"s", pkt
    st = json.loads(pkt[1:])
    assert st["running"] is True
    assert st["pids"] == 3  # sh and its two sleeps
    assert st["memoryLimit"] == 64 << 20
    assert 0 < st["memoryCurrent"] <= st["memoryPeak"]
    assert st["cpuNs"] > 0 and st["oomKills"] == 0
    assert st["netRx"] is None  # not known for linux yet
    mon.request(d, "stop")
    assert mon.leftovers(cid) == []


def private_podman(tmp):
    """podman with private storage (vfs) and config, runtime runc: (argv, env)."""
    import shutil
    if shutil.which("podman") is None or shutil.which("runc") is None:
        pytest.skip("podman or runc is not installed: no peer comparison")
    proot = os.path.join(tmp, "podman")
    os.makedirs(proot)
    with open(os.path.join(proot, "containers.conf"), "w") as f:
        f.write(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{proot}/events.log"
""")
    with open(os.path.join(proot, "storage.conf"), "w") as f:
        f.write(f"""[storage]
driver = "vfs"
graphroot = "{proot}/graph"
runroot = "{proot}/run"
""")
    env = dict(os.environ, CONTAINERS_CONF=os.path.join(proot, "containers.conf"),
               CONTAINERS_STORAGE_CONF=os.path.join(proot, "storage.conf"))
    return ["podman", "--runtime", "runc"], env, proot


def podman_cleanup(argv, env, name):
    run(argv + ["rm", "-f", "-t", "0", name], timeout=120, env=env)
    run(argv + ["system", "reset", "-f"], timeout=120, env=env)


def test_log_records_match_podmans_conmon(mon, rootfs):
    """The same program under podman (runc, conmon, k8s-file log driver) gives
    the same records: stream, F/P tag and text."""
    argv, env, proot = private_podman(mon.tmp)
    script = "echo out1; sleep 0.2; echo err1 >&2; sleep 0.2; printf part; sleep 0.2; echo out2; exit 3"
    cid, d, mpid, wpid = mon.start(["sh", "-c", script])
    assert mon.request(d, "wait")["exitCode"] == 3
    ours = [(r[1], r[2], r[3]) for r in mon.log(d)]
    plog = os.path.join(proot, "ctr.log")
    name = f"{cid}-podman"
    try:
        p = run(argv + ["run", "--name", name, "--network", "none", "--log-driver", "k8s-file",
                        "--log-opt", f"path={plog}", "--rootfs", rootfs, "sh", "-c", script],
                timeout=120, env=env)
        assert p.returncode == 3, p.stderr
        theirs = []
        with open(plog) as f:
            for line in f.read().splitlines():
                # conmon writes the offset as +00:00 where we write Z
                m = re.match(r"^\S+ (stdout|stderr) ([FP]) (.*)$", line)
                assert m, line
                theirs.append(m.groups())
        assert ours == theirs
    finally:
        podman_cleanup(argv, env, name)


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def exec_in(mon, d, *args):
    """exec over the control socket: (stdout, stderr, exit object)."""
    out, err = b"", b""
    with mon.connect(d) as s:
        s.send(b"exec\0" + b"\0".join(a.encode() for a in args))
        while True:
            pkt = s.recv(70000)
            assert pkt, "closed without an exit"
            if pkt[:1] == b"o":
                out += pkt[1:]
            elif pkt[:1] == b"e":
                err += pkt[1:]
            elif pkt[:1] == b"E":
                return out, err, {"error": pkt[1:].decode()}
            elif pkt[:1] == b"x":
                return out, err, json.loads(pkt[1:])


def test_exec_through_the_monitor(mon):
    cid, d, mpid, wpid = mon.start(["sleep", "1000"], "--stop-timeout", "1")
    out, err, x = exec_in(mon, d, "sh", "-c", "hostname; echo oops >&2; exit 4")
    assert (out, err, x.get("exitCode")) == (b"isola-test\n", b"oops\n", 4), x
    out, err, x = exec_in(mon, d, "/no/such")
    assert "/no/such" in x.get("error", ""), x
    # the exec'd process is in the container: same pid namespace as its init
    out, err, x = exec_in(mon, d, "sh", "-c", "cat /proc/1/cmdline")
    assert out == b"sleep\x001000\x00" and x["exitCode"] == 0
    # exec output is not the workload's log
    assert mon.log(d) == []
    mon.request(d, "stop")
    assert mon.leftovers(cid) == []
