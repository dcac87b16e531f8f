"""exec processes that outlive their client (docs/engine.md, "Containers" and
"Monitor"): `exec -d` returns once the process started and the monitor records
its exit; Ctrl-P Ctrl-Q (or --detach-keys) detaches from `exec -it` and the
process runs on, as Docker's; `run -it`'s detach still works."""
import json
import os

from test_engine_cli import IMAGE, eng, podman, wait_until  # noqa: F401 (fixtures)
from test_terminal import PtyProc

SLEEP = ["sleep", "1000"]
# waits for /tmp/go before it ends: exec -d can only return early
GATED = ["sh", "-c", "touch /tmp/started; while [ ! -e /tmp/go ]; do sleep 0.05; done; "
         "echo done > /tmp/marker; exit 3"]


def exists(cmd, ctr, path):
    return cmd("exec", ctr, "test", "-e", path).returncode == 0


def execs(eng, cid):
    path = os.path.join(eng.env["ISOLA_RUN_DIR"], "c", cid, "execs")
    try:
        with open(path) as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


def test_exec_detach_returns_at_once_like_podman(eng, podman):
    seen = {}
    for who, cmd in (("isola", eng), ("podman", podman)):
        p = cmd("run", "-d", "--network", "none", "--name", "xd", IMAGE, *SLEEP)
        assert p.returncode == 0, p.stderr
        # the process cannot end before /tmp/go exists: returning at all
        # (within the timeout) means exec -d did not wait for its end
        p = cmd("exec", "-d", "xd", *GATED, timeout=30)
        rc = p.returncode
        wait_until(lambda: exists(cmd, "xd", "/tmp/started"), "the detached process started")
        running = not exists(cmd, "xd", "/tmp/marker")
        assert cmd("exec", "xd", "touch", "/tmp/go").returncode == 0
        wait_until(lambda: exists(cmd, "xd", "/tmp/marker"), "the detached process ended")
        marker = cmd("exec", "xd", "cat", "/tmp/marker").stdout
        seen[who] = (rc, running, marker)
        if who == "isola":
            cid = eng.inspect("xd")["Id"]
            wait_until(lambda: execs(eng, cid), "the exit recorded")
            rec = execs(eng, cid)[-1]
            assert rec["exitCode"] == 3 and rec["signal"] == 0
            assert rec["command"].startswith("sh -c touch /tmp/started")
        cmd("rm", "-f", "xd")
    assert seen["isola"] == seen["podman"] == (0, True, "done\n")


def test_exec_detach_killed_with_the_container(eng):
    cid = eng.ok("run", "-d", "--network", "none", "--name", "xk", IMAGE, *SLEEP).strip()
    eng.ok("exec", "-d", "xk", "sleep", "1000")
    eng.ok("stop", "-t", "1", "xk")
    recs = execs(eng, cid)
    assert [r["command"] for r in recs] == ["sleep 1000"]
    assert recs[0]["exitCode"] == 137 and recs[0]["signal"] == 9
    # an exec -d into a stopped container: Docker's error
    p = eng("exec", "-d", "xk", "true")
    assert p.returncode == 1 and "is not running" in p.stderr


def test_exec_it_detach_keys_keep_the_process(eng):
    cid = eng.ok("run", "-d", "--network", "none", "--name", "xit", IMAGE, *SLEEP).strip()
    p = PtyProc([*eng.ns, eng.isola, "exec", "-it", "xit", "sh"], env=eng.env)
    try:
        p.type("echo $$ > /tmp/shpid; echo up$((1+1))\n")
        p.read_until("up2")
        p.type("\x10\x11")  # Ctrl-P Ctrl-Q
        assert p.wait() == 0, p.text()
    finally:
        p.close()
    shpid = eng.ok("exec", "xit", "cat", "/tmp/shpid").strip()
    # the shell runs on after its client went (Docker's), and keeps working:
    # a loop it is given later would need its stdin; here it is alive
    assert eng("exec", "xit", "kill", "-0", shpid).returncode == 0
    # --detach-keys: another sequence; the default one is plain input then
    p = PtyProc([*eng.ns, eng.isola, "exec", "-it", "--detach-keys", "ctrl-x,x", "xit", "sh"],
                env=eng.env)
    try:
        p.type("echo $$ > /tmp/shpid2; echo ok$((2+1))\n")
        p.read_until("ok3")
        p.type("\x18x")
        assert p.wait() == 0, p.text()
    finally:
        p.close()
    shpid2 = eng.ok("exec", "xit", "cat", "/tmp/shpid2").strip()
    assert eng("exec", "xit", "kill", "-0", shpid2).returncode == 0
    # the detached shell ends by a signal: its exit is recorded
    eng.ok("exec", "xit", "kill", "-9", shpid)
    wait_until(lambda: any(r["exitCode"] == 137 for r in execs(eng, cid)), "the exit recorded")
    assert eng.inspect("xit")["State"]["Running"] is True


def test_run_it_detach_still_works(eng):
    p = PtyProc([*eng.ns, eng.isola, "run", "-it", "--network", "none", "--name", "rit", IMAGE,
                 "sh"], env=eng.env)
    try:
        p.type("echo up$((1+1))\n")
        p.read_until("up2")
        p.type("\x10\x11")
        assert p.wait() == 0, p.text()
    finally:
        p.close()
    assert eng.inspect("rit")["State"]["Running"] is True
