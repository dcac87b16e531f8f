"""The `isola` engine against Docker and Podman: the same commands, run by all
three on the same busybox image, give what a user compares (docs/engine.md,
"Compared with Docker and Podman"): exit codes, signals of stop and kill,
--rm, the order and shape of logs, ps columns and status strings, inspect's
common fields and their types, wait's output, rm of a running container, a
taken name. Docker is a private dockerd (peers.Docker: its own data root,
socket, network namespace and cgroup parent); Podman a private podman with
runc. Where Docker and Podman disagree, isola follows Docker (the test says
which values Podman has instead). Each test removes what it made in all three.
"""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import DOCKER_IMAGE, cleanup_tree, run

IMAGE = DOCKER_IMAGE


class Isola:
    """`isola` with a private store and run dir (ISOLA_DEFAULT_NETWORK=none,
    conftest.py: nothing touches the host's network)."""

    def __init__(self, binary, root, rootfs):
        self.binary = binary
        self.env = dict(os.environ, ISOLA_ROOT=os.path.join(root, "store"),
                        ISOLA_RUN_DIR=os.path.join(root, "run"))
        p = self("import", rootfs, IMAGE)
        assert p.returncode == 0, p.stderr

    def __call__(self, *args, timeout=120, stderr=subprocess.PIPE):
        return subprocess.run([self.binary, *args], stdout=subprocess.PIPE, stderr=stderr,
                              text=True, timeout=timeout, env=self.env)

    def close(self):
        ids = self("ps", "-a", "-q", "--no-trunc").stdout.split()
        if ids:
            self("rm", "-f", *ids, timeout=300)


def merged(engine, *args, timeout=60):
    """Run an engine command with stderr into the same pipe as stdout (the
    order a user sees in a terminal)."""
    if isinstance(engine, Isola):
        return engine(*args, timeout=timeout, stderr=subprocess.STDOUT).stdout
    argv, env = engine.argv(*args)
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, env=env).stdout


@pytest.fixture(scope="module")
def podman(rootfs_template, tmp_path_factory):
    """None when podman cannot run here: the tests then compare with Docker only."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        import warnings

        warnings.warn("podman or runc is not installed (scripts/install-deps.sh): "
                      "isola is compared with Docker only")
        yield None
        return
    from peers import Podman

    root = str(tmp_path_factory.mktemp("podman-docker"))
    p = Podman(root, "runc", tag=(os.getpid() + 41) % 10000)
    try:
        p.import_rootfs(rootfs_template, IMAGE)
        yield p
    finally:
        p.close()
        cleanup_tree(root)


class Peer:
    """docker or podman as an engine of the tests: `e(*args)`, `e.argv(*args)`
    and what `run`/`create` need to stay off the network."""

    def __init__(self, name, obj):
        self.name = name
        self.obj = obj

    def argv(self, *args):
        if self.name == "docker":
            return [self.obj.CLIENT, *args], self.obj.env
        return [*self.obj.prefix, "podman", "--runtime", self.obj.runtime, *args], self.obj.env

    def __call__(self, *args, timeout=120):
        argv, env = self.argv(*args)
        return run(argv, timeout=timeout, env=env)


@pytest.fixture
def engines(isola, tmp_root, rootfs_template, docker, podman):
    """{name: engine}; every container of the names in `made` is removed from all
    three at the end."""
    es = {"isola": Isola(isola, tmp_root, rootfs_template), "docker": Peer("docker", docker)}
    if podman is not None:
        es["podman"] = Peer("podman", podman)
    try:
        yield es
    finally:
        es["isola"].close()
        for who in [w for w in ("docker", "podman") if w in es]:
            ids = es[who]("ps", "-a", "-q", "--no-trunc").stdout.split()
            if who == "docker":
                docker.ids.update(ids)
            if ids:
                es[who]("rm", "-f", *ids, timeout=300)


def net(who):
    """podman's default network is a CNI bridge (in the test's namespace); the
    comparisons need none. isola's is none here (conftest.py), dockerd has no
    bridge (--bridge none)."""
    return ["--network", "none"] if who == "podman" else []


def uname():
    return f"dk{os.getpid()}x{time.monotonic_ns() % 10**8}"


def wait_until(cond, what, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def disagree(results, what):
    """Docker is the reference: isola must match it. Podman is reported."""
    assert results["isola"] == results["docker"], \
        f"{what}: isola {results['isola']!r} != docker {results['docker']!r} " \
        f"(podman {results.get('podman', 'not run')!r})"


def test_exit_codes(engines):
    """125 engine error, 126 cannot execute, 127 not found, the command's own
    code, 128+N for signal N; in the foreground and with -d."""
    res = {}
    for who, e in engines.items():
        n = net(who)
        r = {}
        r["own"] = e("run", "--rm", *n, IMAGE, "sh", "-c", "exit 3").returncode
        r["not found"] = e("run", "--rm", *n, IMAGE, "nosuchcmd").returncode
        r["cannot execute"] = e("run", "--rm", *n, IMAGE, "/etc").returncode
        r["not executable"] = e("run", "--rm", *n, IMAGE, "/etc/passwd").returncode
        r["bad flag value"] = e("run", "--rm", "-m", "lots", *n, IMAGE, "true").returncode
        r["create bad flag"] = e("create", "--nosuchflag", IMAGE, "true").returncode
        r["bad flag"] = e("run", "--nosuchflag", IMAGE, "true").returncode
        r["no image"] = e("run", "--rm", "--pull", "never", *n, "nosuchimage:1",
                          "true").returncode
        name = uname()
        p = e("run", "-d", "--name", name, *n, IMAGE, "nosuchcmd")
        r["-d not found"] = p.returncode
        e("rm", "-f", name)
        p = e("run", "-d", "--name", name, *n, IMAGE, "/etc")
        r["-d cannot execute"] = p.returncode
        e("rm", "-f", name)
        p = e("run", "-d", "--name", name, *n, IMAGE, "sleep", "100")
        assert p.returncode == 0, p.stderr
        p = e("kill", name)
        r["kill"] = (p.returncode, p.stdout == name + "\n")
        p = e("wait", name)
        r["wait after SIGKILL"] = (p.returncode, p.stdout.replace(name, "NAME"))
        r["exec stopped"] = e("exec", name, "true").returncode
        e("rm", "-f", name)
        res[who] = r
    disagree(res, "exit codes")
    assert res["docker"]["own"] == 3 and res["docker"]["not found"] == 127


def test_stop_and_kill_signals(engines):
    """`kill -s SIG` delivers SIG; `stop -t N` sends SIGTERM, then SIGKILL after
    N seconds when the container does not end."""
    script = ("trap 'echo term' TERM; trap 'echo usr1' USR1; echo ready; "
              "while :; do sleep 0.1; done")
    res = {}
    for who, e in engines.items():
        name = uname()
        p = e("run", "-d", "--name", name, *net(who), IMAGE, "sh", "-c", script)
        assert p.returncode == 0, p.stderr
        wait_until(lambda: e("logs", name).stdout == "ready\n", f"{who}: ready")
        k = e("kill", "-s", "USR1", name)
        wait_until(lambda: "usr1" in e("logs", name).stdout, f"{who}: usr1")
        s = e("stop", "-t", "2", name)
        w = e("wait", name)
        st = json.loads(e("inspect", name).stdout)[0]["State"]
        res[who] = ((k.returncode, k.stdout == name + "\n"), (s.returncode, s.stdout == name + "\n"),
                    w.stdout, e("logs", name).stdout, st["Status"], st["ExitCode"])
        e("rm", name)
    disagree(res, "kill -s USR1, stop -t 2")
    assert res["docker"][2:] == ("137\n", "ready\nusr1\nterm\n", "exited", 137)


def test_rm_flag(engines):
    """--rm: the foreground run's container is gone at its end; a detached one
    once it stops."""
    res = {}
    for who, e in engines.items():
        name = uname()
        p = e("run", "--rm", "--name", name, *net(who), IMAGE, "sh", "-c", "echo hi; exit 4")
        gone = e("inspect", name).returncode
        name2 = uname()
        d = e("run", "-d", "--rm", "--name", name2, *net(who), IMAGE, "sleep", "100")
        assert d.returncode == 0, d.stderr
        kept = e("inspect", name2).returncode
        s = e("stop", "-t", "0", name2)
        wait_until(lambda: e("inspect", name2).returncode != 0, f"{who}: --rm removal")
        res[who] = (p.returncode, p.stdout, gone, kept, s.returncode,
                    e("ps", "-a", "-q").stdout)
    disagree(res, "--rm")
    assert res["docker"] == (4, "hi\n", 1, 0, 0, "")


TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"


def test_logs_order_tail_timestamps(engines):
    """Both streams in the order written, each to its own stream; --tail N; -t
    puts an RFC 3339 time with nanoseconds before each line."""
    script = "echo o1; sleep 0.3; echo e1 >&2; sleep 0.3; echo o2; sleep 0.3; echo e2 >&2"
    res = {}
    for who, e in engines.items():
        name = uname()
        p = e("run", "-d", "--name", name, *net(who), IMAGE, "sh", "-c", script)
        assert p.returncode == 0, p.stderr
        w = e("wait", name)
        lg = e("logs", name)
        t = e("logs", "-t", name)
        shape = [re.sub(TS, "TIME", ln) for ln in (t.stdout + t.stderr).splitlines()]
        res[who] = (w.stdout, merged(e, "logs", name), lg.stdout, lg.stderr,
                    merged(e, "logs", "--tail", "2", name), e("logs", "--tail", "0", name).stdout,
                    sorted(shape))
        e("rm", name)
    disagree(res, "logs")
    assert res["docker"][1] == "o1\ne1\no2\ne2\n"


# go-units' HumanDuration as `ps` prints it
DURATION = (r"(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|hours?)"
            r"|1 second)")


def ps_table(text):
    """Docker's ps table: cells cut at the header's column starts."""
    lines = text.splitlines()
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?<!\S)\S+( \S+)*", header)]
    names = [header[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
    rows = []
    for ln in lines[1:]:
        rows.append(dict(zip(names, (ln[a:b].strip() for a, b in
                                     zip(starts, starts[1:] + [None])))))
    return names, rows


def test_ps_columns_status_and_quiet(engines):
    res = {}
    for who, e in engines.items():
        n1, n2, n3 = uname(), uname(), uname()
        assert e("create", "--name", n1, *net(who), IMAGE, "true").returncode == 0
        assert e("run", "-d", "--name", n2, *net(who), IMAGE, "sleep", "100").returncode == 0
        assert e("run", "-d", "--name", n3, *net(who), IMAGE, "sh", "-c",
                 "exit 3").returncode == 0
        e("wait", n3)
        ids = {n: json.loads(e("inspect", n).stdout)[0]["Id"] for n in (n1, n2, n3)}
        cols, rows = ps_table(e("ps").stdout)
        running = [r["NAMES"] for r in rows]
        cols_a, rows_a = ps_table(e("ps", "-a").stdout)
        by_name = {r["NAMES"]: r for r in rows_a}
        status = {n: re.sub(DURATION, "D", by_name[n]["STATUS"]) for n in (n1, n2, n3)}
        short = [by_name[n]["CONTAINER ID"] == ids[n][:12] for n in (n1, n2, n3)]
        q = e("ps", "-q").stdout.split()
        qa = e("ps", "-a", "-q").stdout.split()
        res[who] = (cols, cols_a, running == [n2], [status[n] for n in (n1, n2, n3)],
                    short, by_name[n2]["COMMAND"], by_name[n2]["IMAGE"], q == [ids[n2][:12]],
                    sorted(qa) == sorted(i[:12] for i in ids.values()))
        e("rm", "-f", n1, n2, n3)
    disagree(res, "ps")
    assert res["docker"][3] == ["Created", "Up D", "Exited (3) D ago"]


def json_type(v):
    return {dict: "object", list: "array", str: "string", bool: "bool", int: "number",
            float: "number", type(None): "null"}[type(v)]


# the fields docs/engine.md says isola's inspect has with Docker's names
COMMON = ["Id", "Name", "Created", "Path", "Args", "State", "State.Status", "State.Running",
          "State.Paused", "State.Restarting", "State.OOMKilled", "State.Dead", "State.Pid",
          "State.ExitCode", "State.StartedAt", "State.FinishedAt", "RestartCount", "LogPath",
          "Config", "Config.Image", "Config.Cmd", "Config.Env", "Config.WorkingDir",
          "Config.Hostname", "Config.Labels", "Config.Tty", "HostConfig",
          "HostConfig.RestartPolicy", "HostConfig.RestartPolicy.Name",
          "HostConfig.RestartPolicy.MaximumRetryCount", "HostConfig.AutoRemove",
          "HostConfig.Memory", "Mounts"]


def get(obj, path):
    for k in path.split("."):
        if not isinstance(obj, dict) or k not in obj:
            return KeyError
        obj = obj[k]
    return obj


def test_inspect_common_fields(engines):
    res = {}
    for who, e in engines.items():
        name = uname()
        p = e("run", "-d", "--name", name, "--label", "k=v", "-e", "A=1", "-w", "/tmp",
              *net(who), IMAGE, "sleep", "100")
        assert p.returncode == 0, p.stderr
        o = json.loads(e("inspect", name).stdout)[0]
        e("rm", "-f", name)
        vals = {k: get(o, k) for k in COMMON}
        res[who] = {k: ("missing" if v is KeyError else json_type(v)) for k, v in vals.items()}
        res[who]["values"] = (o["Name"] == "/" + name, o["Path"], o["Args"],
                              o["State"]["Status"], o["State"]["Running"],
                              o["Config"]["Labels"].get("k"), "A=1" in o["Config"]["Env"],
                              o["Config"]["WorkingDir"], o["Config"]["Cmd"])
    for k in COMMON + ["values"]:
        disagree({who: r[k] for who, r in res.items()}, f"inspect {k}")


def test_rm_running_and_name_taken(engines):
    res = {}
    for who, e in engines.items():
        name = uname()
        p = e("run", "-d", "--name", name, *net(who), IMAGE, "sleep", "100")
        assert p.returncode == 0, p.stderr
        cid = p.stdout.strip()
        rm = e("rm", name)
        still = e("inspect", name).returncode
        dup = e("run", "-d", "--name", name, *net(who), IMAGE, "true")
        line = [ln for ln in dup.stderr.splitlines() if "Conflict" in ln or "already" in ln]
        line = [re.sub(r"^docker: ", "", ln.replace(cid, "ID").replace(name, "NAME"))
                for ln in line]
        dup2 = e("create", "--name", name, *net(who), IMAGE, "true")
        rmf = e("rm", "-f", name)
        res[who] = ((rm.returncode, rm.stderr.startswith("Error response from daemon: "),
                     rm.stderr.rstrip().endswith("force remove")), still,
                    (dup.returncode, line, dup.stdout), dup2.returncode,
                    (rmf.returncode, rmf.stdout == name + "\n"))
    disagree(res, "rm of a running container; a taken name")
    assert res["docker"][0] == (1, True, True)


def test_unknown_and_stopped_containers(engines):
    """What each command does with a name that does not exist, and kill, stop,
    start, wait and rm of a container that has exited."""
    res = {}
    for who, e in engines.items():
        missing = uname()
        r = {}
        for cmd in (["kill"], ["stop"], ["rm"], ["rm", "-f"], ["wait"], ["logs"], ["inspect"],
                    ["start"], ["restart"], ["exec"]):
            args = [*cmd, missing] + (["true"] if cmd == ["exec"] else [])
            p = e(*args)
            r[" ".join(cmd)] = (p.returncode, p.stdout, missing in p.stderr)
        name = uname()
        p = e("run", "-d", "--name", name, *net(who), IMAGE, "sh", "-c", "exit 2")
        assert p.returncode == 0, p.stderr
        r["wait exit 2"] = e("wait", name).stdout
        p = e("kill", name)
        r["kill exited"] = (p.returncode, p.stdout)
        p = e("stop", name)
        r["stop exited"] = (p.returncode, p.stdout == name + "\n")
        p = e("wait", name)
        r["wait exited"] = (p.returncode, p.stdout)
        p = e("start", name)
        r["start"] = (p.returncode, p.stdout == name + "\n")
        r["wait again"] = e("wait", name).stdout
        p = e("rm", name)
        r["rm exited"] = (p.returncode, p.stdout == name + "\n")
        res[who] = r
    disagree(res, "unknown and exited containers")


def test_exec_exit_codes_and_kill_signal_names(engines):
    """exec: the command's code, 126/127 when it cannot run; `kill -s` takes
    a signal as SIGUSR1, USR1 or 10."""
    script = "trap 'echo usr1' USR1; echo ready; while :; do sleep 0.1; done"
    res = {}
    for who, e in engines.items():
        name = uname()
        p = e("run", "-d", "--name", name, *net(who), IMAGE, "sh", "-c", script)
        assert p.returncode == 0, p.stderr
        r = {}
        r["exec own"] = e("exec", name, "sh", "-c", "exit 5").returncode
        r["exec output"] = e("exec", name, "sh", "-c", "echo o; echo e >&2").stdout
        r["exec not found"] = e("exec", name, "nosuchcmd").returncode
        r["exec not executable"] = e("exec", name, "/etc/passwd").returncode
        r["exec bad flag"] = e("exec", "--nosuchflag", name, "true").returncode
        for i, sig in enumerate(("SIGUSR1", "USR1", "10")):
            p = e("kill", "-s", sig, name)
            r["kill " + sig] = (p.returncode, p.stdout == name + "\n")
            wait_until(lambda: e("logs", name).stdout.count("usr1") == i + 1, f"{who}: {sig}")
        p = e("kill", "-s", "NOSUCHSIG", name)
        r["kill bad signal"] = (p.returncode, p.stdout)
        r["still running"] = json.loads(e("inspect", name).stdout)[0]["State"]["Running"]
        e("rm", "-f", name)
        res[who] = r
    # Docker 20.10's exec of a command not found is 126 (any exec that cannot
    # start); Podman's is 127 as a shell's and as `run` in all three: isola
    # keeps 127 (docs/engine.md, "Compared with Docker and Podman")
    assert res["docker"]["exec not found"] in (126, 127)
    res["docker"]["exec not found"] = 127
    disagree(res, "exec and kill -s")


def test_pause_restart_wait_many_and_templates(engines):
    """ps status of a paused container, restart, wait of several containers,
    inspect -f and ps --filter/--format templates."""
    res = {}
    for who, e in engines.items():
        n1, n2 = uname(), uname()
        for n in (n1, n2):
            p = e("run", "-d", "--name", n, *net(who), IMAGE, "sleep", "100")
            assert p.returncode == 0, p.stderr
        r = {}
        p = e("pause", n1)
        r["pause"] = (p.returncode, p.stdout == n1 + "\n")
        r["pause again"] = e("pause", n1).returncode
        # podman's ps leaves a paused container out; docker's lists it
        r["paused listed"] = n1 in e("ps").stdout
        st = {row["NAMES"]: row["STATUS"] for row in ps_table(e("ps", "-a").stdout)[1]}
        r["paused status"] = re.sub(DURATION, "D", st[n1])
        r["paused state"] = e("inspect", "-f", "{{.State.Status}} {{.State.Paused}}",
                              n1).stdout
        p = e("unpause", n1)
        r["unpause"] = (p.returncode, p.stdout == n1 + "\n")
        r["unpause again"] = e("unpause", n1).returncode
        p = e("restart", "-t", "0", n2)
        r["restart"] = (p.returncode, p.stdout == n2 + "\n")
        r["restarted"] = e("inspect", "-f", "{{.State.Running}} {{.RestartCount}}",
                           n2).stdout
        p = e("start", n2)
        r["start running"] = (p.returncode, p.stdout == n2 + "\n")
        e("kill", n1)
        e("kill", "-s", "TERM", n2)  # ignored by PID 1 without a handler
        e("kill", n2)
        p = e("wait", n1, n2)
        r["wait two"] = (p.returncode, p.stdout)
        fmt = e("ps", "-a", "--filter", f"name={n1}", "--format", "{{.Names}}|{{.State}}")
        r["ps template"] = fmt.stdout.replace(n1, "N1")
        exited = e("ps", "-a", "-q", "--filter", "status=exited").stdout.split()
        r["ps exited filter"] = sorted(exited) == sorted(
            json.loads(e("inspect", n).stdout)[0]["Id"][:12] for n in (n1, n2))
        r["inspect -f"] = e("inspect", "-f", "{{.State.ExitCode}} {{.Name}}", n1).stdout \
            .replace(n1, "N1")
        e("rm", "-f", n1, n2)
        res[who] = r
    disagree(res, "pause, restart, wait, templates")


def test_stop_signal_timeout_and_failed_start_with_rm(engines):
    """--stop-signal and --stop-timeout as stop uses them; a --rm container
    whose command cannot start is removed, one without --rm stays created."""
    script = "trap 'echo usr1' USR1; echo ready; while :; do sleep 0.1; done"
    res = {}
    for who, e in engines.items():
        name = uname()
        p = e("run", "-d", "--name", name, "--stop-signal", "USR1", "--stop-timeout", "1",
              *net(who), IMAGE, "sh", "-c", script)
        assert p.returncode == 0, p.stderr
        wait_until(lambda: e("logs", name).stdout == "ready\n", f"{who}: ready")
        r = {}
        r["inspect"] = e("inspect", "-f", "{{.Config.StopSignal}}", name).stdout
        p = e("stop", name)
        r["stop"] = (p.returncode, p.stdout == name + "\n")
        r["after"] = (e("wait", name).stdout, e("logs", name).stdout)
        e("rm", "-f", name)
        for rm in ([], ["--rm"]):
            n2 = uname()
            p = e("run", "-d", *rm, "--name", n2, *net(who), IMAGE, "nosuchcmd")
            # Docker removes the --rm one asynchronously
            if rm:
                wait_until(lambda: e("inspect", n2).returncode != 0, f"{who}: --rm removal",
                           timeout=20)
            st = e("inspect", "-f", "{{.State.Status}}", n2)
            r["failed start " + " ".join(rm)] = (p.returncode, st.returncode,
                                                 st.stdout.strip())
            e("rm", "-f", n2)
        res[who] = r
    disagree(res, "stop signal and timeout; a failed start")


def test_several_containers_with_one_failing(engines):
    """A command given several containers acts on each and prints the names
    it acted on; one failure makes the exit status 1."""
    res = {}
    for who, e in engines.items():
        up, done, missing = uname(), uname(), uname()
        assert e("run", "-d", "--name", up, *net(who), IMAGE, "sleep", "100").returncode == 0
        assert e("run", "-d", "--name", done, *net(who), IMAGE, "true").returncode == 0
        e("wait", done)
        names = {up: "UP", done: "DONE", missing: "MISSING"}

        def norm(p):
            out = p.stdout
            for n, k in names.items():
                out = out.replace(n, k)
            return (p.returncode, out)

        r = {}
        r["kill"] = norm(e("kill", "-s", "USR2", missing, up))
        r["stop"] = norm(e("stop", "-t", "1", missing, done))
        r["start"] = norm(e("start", missing, done))
        e("wait", done)
        r["rm"] = norm(e("rm", up, done, missing))
        r["left"] = sorted(names[n] for n in (up, done) if e("inspect", n).returncode == 0)
        e("rm", "-f", up, done)
        res[who] = r
    disagree(res, "several containers")
