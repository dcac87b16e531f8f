"""The `isola` CLI managing containers as Docker's (docs/engine.md, "Containers"):
run -d, ps, logs, stop, rm, exec, wait, inspect, restart policy, a killed monitor,
a host reboot, 50 runs at once, named volumes; compared with podman where it runs.
Each test has a private store (ISOLA_ROOT) and run dir (ISOLA_RUN_DIR)."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import cleanup_tree, mounts_below, run

IMAGE = "enginebb"
# a workload that answers the stop signal with exit 7 and writes to both streams
SERVICE = ["sh", "-c", "trap 'exit 7' TERM; echo out1; echo err1 >&2; echo out2; "
           "while :; do sleep 0.2; done"]


class Engine:
    def __init__(self, isola, tmp_root, rootfs_template):
        self.isola = isola
        self.tmp = tmp_root
        self.env = dict(os.environ, ISOLA_ROOT=os.path.join(tmp_root, "store"),
                        ISOLA_RUN_DIR=os.path.join(tmp_root, "run"))
        self.env.pop("ISOLA_DEFAULT_NETWORK", None)  # the default: bridge
        # run -d attaches to the default network (a bridge, nftables rules):
        # isola runs in a network namespace of the test's, never on the host's
        self.netns = f"isola-eng-{os.getpid()}-{time.monotonic_ns() % 10**9}"
        run(["ip", "netns", "add", self.netns], timeout=10, check=True)
        # the prefix for isola commands a test starts itself (ptys, pipes)
        self.ns = ["nsenter", f"--net=/run/netns/{self.netns}"]
        p = self("import", rootfs_template, IMAGE, "/bin/sh", "-c", "echo default")
        assert p.returncode == 0, p.stderr

    def __call__(self, *args, timeout=120, hostnet=False):
        """hostnet: in the host's network namespace (to reach a registry on
        its loopback; then with --network none)."""
        ns = [] if hostnet else self.ns
        return run([*ns, self.isola, *args], env=self.env, timeout=timeout)

    def ok(self, *args, timeout=120):
        p = self(*args, timeout=timeout)
        assert p.returncode == 0, f"isola {args}: {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p.stdout

    def inspect(self, ref):
        return json.loads(self.ok("inspect", ref))[0]

    def monitors(self):
        """Monitor pids named by the run dirs (all started by this test)."""
        pids = []
        d = os.path.join(self.env["ISOLA_RUN_DIR"], "c")
        for cid in os.listdir(d) if os.path.isdir(d) else []:
            try:
                with open(os.path.join(d, cid, "status")) as f:
                    pids.append(json.load(f)["monitorPid"])
            except (OSError, ValueError, KeyError):
                pass
        return pids

    def close(self):
        ids = self("ps", "-a", "-q", "--no-trunc").stdout.split()
        if ids:
            self("rm", "-f", *ids, timeout=300)
        for pid in self.monitors():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        run(["ip", "netns", "del", self.netns], timeout=10)


@pytest.fixture
def eng(isola, tmp_root, rootfs_template):
    e = Engine(isola, tmp_root, rootfs_template)
    try:
        yield e
    finally:
        e.close()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(cond, what, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def cgroup_dirs(pid):
    """The cgroup directories of a process, in every hierarchy of this host."""
    dirs = []
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrls == "":
                base = "/sys/fs/cgroup/unified"
                if not os.path.isdir(base):
                    base = "/sys/fs/cgroup"
            elif ctrls.startswith("name="):
                base = "/sys/fs/cgroup/" + ctrls[5:]
            else:
                base = "/sys/fs/cgroup/" + ctrls
            if path != "/" and os.path.isdir(base + path):
                dirs.append(base + path)
    return dirs


def ps_rows(eng, *args):
    out = eng.ok("ps", "--format", "json", *args)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_run_detached_ps_logs_stop_rm(eng, tmp_root):
    p = eng("run", "-d", "--name", "web", "--label", "tier=front", IMAGE, *SERVICE)
    assert p.returncode == 0, p.stderr
    cid = p.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    rows = ps_rows(eng)
    assert [(r["ID"], r["Names"], r["Image"], r["State"]) for r in rows] == \
        [(cid[:12], "web", IMAGE, "running")]
    assert rows[0]["Status"].startswith("Up ")
    out = eng.ok("ps")
    assert out.splitlines()[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED",
                                           "STATUS", "PORTS", "NAMES"]
    assert eng.ok("ps", "-q") == cid[:12] + "\n"
    assert eng.ok("ps", "-q", "--filter", "label=tier=front") == cid[:12] + "\n"
    assert eng.ok("ps", "-q", "--filter", "name=nomatch") == ""
    assert eng.ok("ps", "--format", "{{.Names}} {{.Image}}") == f"web {IMAGE}\n"
    wait_until(lambda: "out2" in eng.ok("logs", "web"), "the log")
    p = eng("logs", "web")
    assert p.stdout == "out1\nout2\n" and p.stderr == "err1\n"
    # --tail counts the lines of both streams, as Docker's
    p = eng("logs", "--tail", "1", cid[:5])
    assert (p.stdout + p.stderr) in ("out2\n", "err1\n")
    assert eng.ok("logs", "--since", "1h", "web") == "out1\nout2\n"
    assert eng.ok("logs", "--since", str(int(time.time()) + 3600), "web") == ""
    stamped = eng.ok("logs", "-t", "web").splitlines()
    assert re.match(r"^\d{4}-\d\d-\d\dT\S+Z out1$", stamped[0])
    st = eng.inspect("web")
    wpid = st["State"]["Pid"]
    assert st["Id"] == cid and st["Name"] == "/web" and st["State"]["Running"] is True
    assert st["Config"]["Labels"] == {"tier": "front"} and alive(wpid)
    assert eng.ok("stop", "web") == "web\n"
    st = eng.inspect("web")
    assert (st["State"]["Status"], st["State"]["ExitCode"], st["State"]["Running"]) == \
        ("exited", 7, False)
    assert not alive(wpid)
    assert ps_rows(eng) == []
    assert ps_rows(eng, "-a")[0]["Status"].startswith("Exited (7) ")
    assert eng.ok("ps", "-a", "-q", "--filter", "status=exited") == cid[:12] + "\n"
    # stopped containers keep their logs; start runs it again
    assert eng.ok("start", "web") == "web\n"
    assert eng.inspect("web")["State"]["Running"] is True
    assert eng.ok("stop", "-t", "5", "web") == "web\n"
    assert eng.ok("rm", "web") == "web\n"
    p = eng("inspect", "web")
    assert p.returncode != 0
    assert eng.ok("ps", "-a", "-q") == ""
    assert mounts_below(tmp_root) == []
    assert os.listdir(os.path.join(eng.env["ISOLA_ROOT"], "containers")) == []


def test_name_taken_and_rm_of_a_running_one(eng):
    cid = eng.ok("run", "-d", "--name", "dup", IMAGE, "sleep", "100").strip()
    p = eng("run", "-d", "--name", "dup", IMAGE, "true")
    assert p.returncode == 125
    assert p.stderr.strip() == (
        f'Error response from daemon: Conflict. The container name "/dup" is already in use by '
        f'container "{cid}". You have to remove (or rename) that container to be able to reuse '
        "that name.")
    p = eng("create", "--name", "dup", IMAGE, "true")
    assert p.returncode == 125
    assert len(eng.ok("ps", "-a", "-q").split()) == 1
    p = eng("rm", "dup")
    assert p.returncode == 1
    assert p.stderr.strip() == (
        'Error response from daemon: cannot remove container "/dup": container is running: '
        "stop the container before removing or force remove")
    assert eng.inspect("dup")["State"]["Running"] is True
    assert eng.ok("rm", "-f", "dup") == "dup\n"
    assert eng.ok("ps", "-a", "-q") == ""


def test_exec_running_and_stopped(eng):
    eng.ok("run", "-d", "--name", "ex", "-e", "GREETING=hello", IMAGE, "sleep", "100")
    p = eng("exec", "ex", "sh", "-c", "echo $GREETING; echo oops >&2; exit 3")
    assert (p.returncode, p.stdout, p.stderr) == (3, "hello\n", "oops\n")
    p = eng("exec", "-e", "GREETING=bye", "-e", "NEW=1", "-w", "/tmp", "-u", "nobody", "ex",
            "sh", "-c", "echo $GREETING $NEW $PWD $(id -u):$(id -g)")
    assert (p.returncode, p.stdout) == (0, "bye 1 /tmp 65534:65534\n"), p.stderr
    p = eng("exec", "-u", "123:45", "ex", "sh", "-c", "echo $(id -u):$(id -g) $GREETING")
    assert (p.returncode, p.stdout) == (0, "123:45 hello\n"), p.stderr
    p = eng("exec", "-u", "nosuchuser", "ex", "true")
    assert p.returncode == 1 and "unable to find user nosuchuser" in p.stderr
    assert eng("exec", "ex", "no-such-command").returncode == 127
    assert eng("exec", "ex", "/etc/passwd").returncode == 126
    eng.ok("stop", "-t", "0", "ex")
    p = eng("exec", "ex", "true")
    cid = eng.inspect("ex")["Id"]
    assert p.returncode == 1
    assert p.stderr.strip() == f"Error response from daemon: container {cid} is not running"


def test_wait_returns_the_exit_code(eng):
    eng.ok("run", "-d", "--name", "w3", IMAGE, "sh", "-c", "sleep 0.5; exit 3")
    p = eng("wait", "w3")
    assert (p.returncode, p.stdout) == (0, "3\n")
    assert eng.inspect("w3")["State"]["ExitCode"] == 3
    eng.ok("run", "-d", "--name", "w9", IMAGE, "sleep", "100")
    assert eng.ok("kill", "-s", "KILL", "w9") == "w9\n"
    assert eng.ok("wait", "w9") == "137\n"
    p = eng("kill", "w9")
    assert p.returncode == 1 and "is not running" in p.stderr
    # --rm -d: removed once it has exited (the monitor's exit command), with
    # no other isola command looking; its overlay goes with it
    gone = eng.ok("run", "-d", "--rm", "--name", "gone", IMAGE, "sh", "-c", "exit 4").strip()
    bundle = os.path.join(eng.env["ISOLA_ROOT"], "containers", gone)
    wait_until(lambda: not os.path.exists(bundle), "the --rm container's bundle to go")
    assert mounts_below(bundle) == []
    assert eng("inspect", "gone").returncode != 0
    # stop and wait of an --rm container: its end, then it is gone
    eng.ok("run", "-d", "--rm", "--name", "rmstop", IMAGE, *SERVICE)
    assert eng.ok("stop", "rmstop") == "rmstop\n"
    assert eng("inspect", "rmstop").returncode != 0
    rid = eng.ok("run", "-d", "--rm", "--name", "rmwait", IMAGE, "sh", "-c",
                 "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 5").strip()
    sock = os.path.join(eng.env["ISOLA_RUN_DIR"], "c", rid, "ctl.sock")
    w = subprocess.Popen(["nsenter", f"--net=/run/netns/{eng.netns}", eng.isola, "wait",
                          "rmwait"], env=eng.env, stdout=subprocess.PIPE, text=True)
    try:
        # the listening socket and, once wait is connected, its accepted one
        # (in the monitor's network namespace: /proc/net/unix is per namespace)
        wait_until(lambda: run(["nsenter", f"--net=/run/netns/{eng.netns}", "cat",
                                "/proc/net/unix"], timeout=10).stdout.count(sock) >= 2,
                   "wait to connect")
        eng.ok("exec", "rmwait", "touch", "/tmp/go")
        assert w.communicate(timeout=60)[0] == "5\n"
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    wait_until(lambda: eng("inspect", rid).returncode != 0, "the --rm container to go")
    # rm -f of a running --rm one: both removals meet, neither fails
    fid = eng.ok("run", "-d", "--rm", IMAGE, "sleep", "100").strip()
    assert eng.ok("rm", "-f", fid) == fid + "\n"
    bundle = os.path.join(eng.env["ISOLA_ROOT"], "containers", fid)
    wait_until(lambda: not os.path.exists(bundle), "its bundle to go")
    assert mounts_below(bundle) == []
    assert eng.ok("ps", "-a", "-q") == eng.ok("ps", "-a", "-q", "--filter", "name=w")


def test_restart_on_failure_counts(eng):
    eng.ok("run", "-d", "--name", "rs", "--restart", "on-failure:2", IMAGE,
           "sh", "-c", "echo run; exit 1")
    assert eng.ok("wait", "rs") == "1\n"
    st = eng.inspect("rs")
    assert st["RestartCount"] == 2
    assert st["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert eng.ok("logs", "rs") == "run\nrun\nrun\n"


def test_killed_monitor_then_rm_f_cleans_up(eng, tmp_root):
    eng.ok("run", "-d", "--name", "km", IMAGE, "sleep", "100")
    st = eng.inspect("km")
    wpid = st["State"]["Pid"]
    cgroups = cgroup_dirs(wpid)
    assert any(st["Id"] in d for d in cgroups), cgroups
    (mpid,) = eng.monitors()
    os.kill(mpid, signal.SIGKILL)
    wait_until(lambda: not alive(mpid) and not alive(wpid), "the monitor and its workload")
    row = ps_rows(eng, "-a")[0]
    assert row["State"] == "exited" and row["Status"].startswith("Exited (255) ")
    assert ps_rows(eng) == []
    assert mounts_below(os.path.join(eng.env["ISOLA_ROOT"], "containers")) != []
    # what the killed monitor could not clean up: rm -f does
    assert [d for d in cgroups if os.path.exists(d)] != []
    assert eng.ok("rm", "-f", "km") == "km\n"
    assert mounts_below(tmp_root) == []
    assert [d for d in cgroups if os.path.exists(d)] == []
    assert not os.path.exists(os.path.join(eng.env["ISOLA_RUN_DIR"], "containers-oci", st["Id"]))
    with open("/proc/self/mountinfo") as f:
        assert st["Id"] not in f.read()


def test_host_reboot_says_exited(eng, tmp_root):
    ids = [eng.ok("run", "-d", IMAGE, "sleep", "100").strip() for _ in range(3)]
    pids = [eng.inspect(i)["State"]["Pid"] for i in ids]
    for m in eng.monitors():
        os.kill(m, signal.SIGKILL)
    wait_until(lambda: not any(alive(p) for p in pids), "the workloads")
    # a reboot empties the run dir (a tmpfs) and with it the netns mounts
    cleanup_tree(eng.env["ISOLA_RUN_DIR"])
    rows = ps_rows(eng, "-a")
    assert sorted(r["ID"] for r in rows) == sorted(i[:12] for i in ids)
    assert all(r["State"] == "exited" and r["Status"].startswith("Exited (255)") for r in rows)
    assert eng.ok("wait", ids[0]) == "255\n"
    # a reboot also unmounts the roots: start says so instead of running in an empty one
    bundle = os.path.join(eng.env["ISOLA_ROOT"], "containers", ids[1])
    subprocess.run(["umount", os.path.join(bundle, "rootfs")], check=True, timeout=30)
    p = eng("start", ids[1])
    assert p.returncode == 1 and "is not mounted any more" in p.stderr, p.stderr
    eng.ok("rm", "-f", *ids)
    assert mounts_below(tmp_root) == []


def test_fifty_runs_at_once(eng, tmp_root):
    def one(i):
        return eng("run", "-d", "--name", f"many{i}", IMAGE, "sleep", "300", timeout=600)

    with ThreadPoolExecutor(50) as ex:
        ps = list(ex.map(one, range(50)))
    assert [p.returncode for p in ps] == [0] * 50, [p.stderr for p in ps if p.returncode]
    ids = {p.stdout.strip() for p in ps}
    assert len(ids) == 50
    rows = ps_rows(eng, "--no-trunc")
    assert {r["ID"] for r in rows} == ids
    assert {r["Names"] for r in rows} == {f"many{i}" for i in range(50)}
    assert all(r["State"] == "running" for r in rows)
    eng.ok("rm", "-f", *ids, timeout=600)
    assert eng.ok("ps", "-a", "-q") == ""
    assert mounts_below(tmp_root) == []


def test_volume_kept_across_containers_and_busy(eng, tmp_root):
    eng.ok("run", "-d", "--name", "v1", "-v", "data:/data", IMAGE,
           "sh", "-c", "echo kept > /data/f; sleep 100")
    wait_until(lambda: eng("exec", "v1", "cat", "/data/f").stdout == "kept\n", "the write")
    p = eng("volume", "rm", "data")
    assert p.returncode != 0 and "in use" in p.stderr
    eng.ok("rm", "-f", "v1")
    eng.ok("run", "-d", "--name", "v2", "-v", "data:/data:ro", IMAGE, "cat", "/data/f")
    assert eng.ok("wait", "v2") == "0\n"
    assert eng.ok("logs", "v2") == "kept\n"
    mounts = eng.inspect("v2")["Mounts"]
    assert [(m["Type"], m["Name"], m["Destination"], m["RW"]) for m in mounts] == \
        [("volume", "data", "/data", False)]
    assert eng("volume", "rm", "data").returncode != 0
    eng.ok("rm", "v2")
    eng.ok("volume", "rm", "data")
    assert mounts_below(tmp_root) == []


@pytest.fixture
def podman(rootfs_template, tmp_path_factory):
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (scripts/install-deps.sh)")
    if shutil.which("runc") is None:
        pytest.skip("runc is not installed (scripts/install-deps.sh)")
    from peers import Podman

    root = str(tmp_path_factory.mktemp("podman-engine"))
    p = Podman(root, "runc", tag=(os.getpid() + 23) % 10000)
    try:
        p.import_rootfs(rootfs_template, IMAGE)
        yield p
    finally:
        p.close()
        cleanup_tree(root)


def test_exit_codes_and_logs_like_podman(eng, podman):
    script = "echo a; echo b >&2; sleep 0.3; echo c; exit 5"
    results = {}
    for who, cmd in (("isola", eng), ("podman", podman)):
        extra = ["--network", "none"] if who == "podman" else []
        p = cmd("run", "-d", "--name", "cmp", *extra, IMAGE, "sh", "-c", script)
        assert p.returncode == 0, p.stderr
        w = cmd("wait", "cmp")
        logs = cmd("logs", "cmp")
        ex = cmd("exec", "cmp", "true")
        dup = cmd("run", "-d", "--name", "cmp", *extra, IMAGE, "true")
        results[who] = (w.stdout.strip(), logs.stdout, logs.stderr, ex.returncode != 0,
                        dup.returncode)
        cmd("rm", "-f", "cmp")
    assert results["isola"] == results["podman"]


def test_create_start_restart_rename_prune_logs_follow(eng, tmp_root):
    cid = eng.ok("create", "--name", "cr", IMAGE, "sh", "-c", "echo start; sleep 100").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    st = eng.inspect("cr")
    assert (st["State"]["Status"], st["State"]["StartedAt"]) == ("created", "0001-01-01T00:00:00Z")
    assert ps_rows(eng, "-a")[0]["Status"] == "Created"
    assert eng.ok("start", "cr") == "cr\n"
    first_pid = eng.inspect("cr")["State"]["Pid"]
    assert eng.ok("restart", "-t", "0", "cr") == "cr\n"
    st = eng.inspect("cr")
    assert st["State"]["Running"] is True and st["State"]["Pid"] != first_pid
    assert not alive(first_pid)
    wait_until(lambda: eng.ok("logs", "cr") == "start\nstart\n", "both runs' output")
    eng.ok("rename", "cr", "cr2")
    assert eng.inspect("cr2")["Id"] == cid
    assert eng("inspect", "cr").returncode != 0
    p = eng("container", "prune", "-f")
    assert p.returncode == 0 and cid not in p.stdout
    # logs -f ends when the container does, with everything it wrote
    eng.ok("run", "-d", "--name", "fl", IMAGE, "sh", "-c", "echo a; sleep 1; echo b")
    assert eng.ok("logs", "-f", "fl", timeout=60) == "a\nb\n"
    p = eng("container", "prune", "-f")
    assert p.returncode == 0 and eng.inspect("cr2")["Id"] == cid
    assert eng("inspect", "fl").returncode != 0
    eng.ok("rm", "-f", "cr2")
    # start -a: this run's output, then its exit code
    eng.ok("create", "--name", "sa", IMAGE, "sh", "-c", "echo one; exit 6")
    p = eng("start", "-a", "sa")
    assert (p.returncode, p.stdout) == (6, "one\n")
    p = eng("start", "-a", "sa")
    assert (p.returncode, p.stdout) == (6, "one\n")
    assert eng.ok("logs", "sa") == "one\none\n"
    eng.ok("rm", "sa")
    assert mounts_below(tmp_root) == []


def test_run_detached_pulls_a_missing_image(eng, isola, rootfs_template, tmp_root):
    """As `docker run -d`: an image not in the store is pulled (Debian's
    docker-registry on 127.0.0.1); --pull never refuses instead."""
    from test_image_registry import Registry

    src = os.path.join(tmp_root, "src-store")
    assert run([isola, "import", "--root", src, rootfs_template, "src:1"],
               timeout=120).returncode == 0
    reg = Registry(tmp_root)
    try:
        ref = f"{reg.host}/isola/eng{os.getpid()}:1"
        p = run([isola, "push", "--root", src, "src:1", ref], timeout=180)
        assert p.returncode == 0, p.stderr
        p = eng("run", "-d", "--pull", "never", ref, "true")
        assert p.returncode == 125 and eng.ok("ps", "-a", "-q") == ""
        p = eng("run", "-d", "--network", "none", "--name", "pulled", ref, "cat",
                "/etc/hostname", timeout=180, hostnet=True)
        assert p.returncode == 0, p.stderr
        cid = p.stdout.strip()
        assert f"Unable to find image '{ref}' locally" in p.stderr
        assert eng.ok("wait", "pulled") == "0\n"
        assert eng.ok("logs", "pulled") == cid[:12] + "\n"  # Docker's default hostname
        assert eng.inspect("pulled")["Config"]["Image"] == ref
    finally:
        reg.stop()


def test_run_dit_keeps_a_shell(eng):
    """`docker run -dit IMAGE sh`: a pty and an open stdin keep the shell
    running; without -i its stdin is /dev/null and it ends at once."""
    eng.ok("run", "-dit", "--name", "sh1", IMAGE, "sh")
    st = eng.inspect("sh1")
    assert st["State"]["Running"] is True and st["Config"]["Tty"] is True
    p = eng("exec", "sh1", "readlink", "/proc/1/fd/0")
    assert p.returncode == 0 and p.stdout.startswith("/dev/pts/"), p
    eng.ok("run", "-d", "--name", "sh2", IMAGE, "sh")
    assert eng.ok("wait", "sh2") == "0\n"
    eng.ok("rm", "-f", "sh1", "sh2")
