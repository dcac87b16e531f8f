"""Issue 12's fault test: `kill -9` of the CLI at 100 random points of
`isola run -d` and of `isola rm -f` (random delays between 0 and the time a
normal run takes). Afterwards every leftover is reachable: each monitor, run
dir, bundle and runtime state belongs to a row that `ps -a` shows; and
`isola rm -f` of those rows with `isola system prune -f` leaves no mount,
cgroup, monitor process, socket, file or row behind (docs/engine.md,
"Crash safety")."""
import glob
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

from test_engine_cli import IMAGE, eng, wait_until  # noqa: F401 (fixture)

POINTS = 100
RUN = ["run", "-d", "--network", "none", IMAGE, "sleep", "1000"]


def timed(eng, *args):
    t = time.monotonic()
    p = eng(*args)
    assert p.returncode == 0, p.stderr
    return time.monotonic() - t, p.stdout.strip()


def kill_at(eng, args, delay):
    """Start `isola ARGS`, SIGKILL it after delay seconds (if it still runs)."""
    p = subprocess.Popen([*eng.ns, eng.isola, *args], env=eng.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=60)


def monitor_pids(eng):
    """isola-monitor processes working in this test's run dir."""
    out = []
    rd = eng.env["ISOLA_RUN_DIR"]
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"isola-monitor") and any(rd.encode() in a for a in argv):
            out.append(int(d[6:]))
    return out


def leftovers(eng, ids):
    """What of the containers `ids` (and any other in our dirs) is still there."""
    store, rd = eng.env["ISOLA_ROOT"], eng.env["ISOLA_RUN_DIR"]
    found = []
    with open("/proc/self/mountinfo") as f:
        found += [ln.split()[4] for ln in f if eng.tmp in ln]
    for cid in ids:
        found += glob.glob(f"/sys/fs/cgroup/*/isola/{cid}") + \
            glob.glob(f"/sys/fs/cgroup/isola/{cid}")
    found += [f"monitor {pid}" for pid in monitor_pids(eng)]
    for d in (os.path.join(store, "containers"), os.path.join(rd, "c"),
              os.path.join(rd, "containers-oci")):
        if os.path.isdir(d):
            # not the runtime's caches (.seccomp-cache)
            found += [os.path.join(d, n) for n in os.listdir(d) if not n.startswith(".")]
    found += [f"socket {p}" for p in glob.glob(os.path.join(rd, "**", "*.sock"), recursive=True)]
    rows = eng.ok("ps", "-a", "-q", "--no-trunc").split()
    found += [f"row {r}" for r in rows]
    return found


def monitored_ids(eng):
    """{monitor pid: container id} of the monitors that run now."""
    out = {}
    for pid in monitor_pids(eng):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode().split("\0")
            out[pid] = argv[argv.index("--id") + 1]
        except (OSError, ValueError):
            pass  # gone meanwhile
    return out


def settled(eng):
    """Every monitor process is one that runs a workload (its status names
    it): no `isola-monitor start` of a killed CLI is still on its way."""
    for pid in monitor_pids(eng):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode().split("\0")
            with open(os.path.join(argv[argv.index("--dir") + 1], "status")) as f:
                if json.load(f)["monitorPid"] != pid:
                    return False
        except (OSError, ValueError, KeyError):
            return False
    return True


def known_ids(eng):
    """Every id a row, run dir, bundle or runtime state names; each of them
    must be a row (reachable by `ps -a`, so by rm -f)."""
    store, rd = eng.env["ISOLA_ROOT"], eng.env["ISOLA_RUN_DIR"]
    wait_until(lambda: settled(eng), "monitors started by killed CLIs to settle", timeout=120)
    rows = set(eng.ok("ps", "-a", "-q", "--no-trunc").split())
    on_disk = set()
    for d in (os.path.join(store, "containers"), os.path.join(rd, "c"),
              os.path.join(rd, "containers-oci")):
        if os.path.isdir(d):
            on_disk |= {n for n in os.listdir(d) if len(n) == 64}
    before = monitored_ids(eng)
    on_disk |= set(before.values())
    assert on_disk <= rows, f"not reachable from ps -a: {on_disk - rows}"
    # no half row: a container whose monitor runs is shown running (the
    # start that a killed CLI did not record), never "created"; only the
    # monitors alive before and after ps count (one may end meanwhile: a
    # killed `rm -f` had asked it to stop)
    states = dict(ln.split() for ln in eng.ok("ps", "-a", "--no-trunc", "--format",
                                               "{{.ID}} {{.State}}").splitlines())
    after = monitored_ids(eng)
    alive = {i for pid, i in before.items() if after.get(pid) == i}
    wrong = {i: states.get(i) for i in alive if states.get(i) not in ("running", "restarting")}
    assert not wrong, f"monitor running, row says: {wrong}"
    return rows | on_disk


def check_clean(eng, ids):
    eng.ok("system", "prune", "-f", timeout=600)
    rows = eng.ok("ps", "-a", "-q", "--no-trunc").split()
    if rows:
        eng.ok("rm", "-f", *rows, timeout=600)
    eng.ok("system", "prune", "-f", timeout=600)
    left = leftovers(eng, ids)
    assert left == [], left
    db = sqlite3.connect(os.path.join(eng.env["ISOLA_ROOT"], "isola.db"))
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM containers").fetchone()[0] == 0
    finally:
        db.close()


def test_kill_cli_during_run_d_and_rm_f(eng):
    rnd = random.Random(int(os.environ.get("ISOLA_FAULT_SEED", time.time_ns())))
    # N: a normal run -d and rm -f (the second of each: the first one warms
    # the caches)
    timed(eng, "rm", "-f", timed(eng, *RUN)[1])
    t_run, cid = timed(eng, *RUN)
    t_rm, _ = timed(eng, "rm", "-f", cid)
    ids = {cid}
    for _ in range(POINTS):
        kill_at(eng, RUN, rnd.uniform(0, t_run))
    # whatever each kill left is reachable from a row (so rm -f can reach it)
    ids |= known_ids(eng)
    check_clean(eng, ids)
    for _ in range(POINTS):
        _, cid = timed(eng, *RUN)
        ids.add(cid)
        kill_at(eng, ["rm", "-f", cid], rnd.uniform(0, t_rm))
    ids |= known_ids(eng)
    check_clean(eng, ids)
