"""`isola ps` as Docker users script against it: COMMAND of a foreground
run's row, `-l/--latest`, `-n/--last N`, `-s/--size` (docs/engine.md).

Engine (test_engine_cli.py) runs isola in a network namespace of the
test's, with a private store and run dir; every command is bounded in time
and every container is removed in every outcome (Engine.close).
"""
import re
import subprocess
import time

from test_engine_cli import IMAGE, eng, wait_until  # noqa: F401 (fixture)
from test_engine_docker import IMAGE as DIMAGE
from test_engine_docker import disagree, docker, engines, net, podman, uname  # noqa: F401


def test_ps_command_of_a_foreground_run(eng):
    eng.ok("run", "-d", "--name", "bg", IMAGE, "sleep", "100")
    # a foreground run with /etc files of its own has a row
    cli = subprocess.Popen([*eng.ns, eng.isola, "run", "--name", "fg", "--add-host",
                            "db.example:10.0.0.9", IMAGE, "sleep", "100"],
                           env=eng.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: "fg" in eng.ok("ps", "--format", "{{.Names}}").split(),
                   "the foreground run's row")
        rows = dict(line.split("|", 1) for line in
                    eng.ok("ps", "--format", "{{.Names}}|{{.Command}}").splitlines())
        assert rows["fg"] == rows["bg"] == '"sleep 100"', rows
        table = eng.ok("ps")
        fg_line = [line for line in table.splitlines() if line.endswith(" fg")]
        assert fg_line and '"sleep 100"' in fg_line[0], table
        eng.ok("kill", "fg")  # reaches the foreground run's workload
        cli.wait(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(timeout=30)
            # collects the killed run's bundle
            eng("run", "--rm", "--network", "none", IMAGE, "true")


def test_ps_latest_last_and_size(engines):
    """-l, -n N and -s against a private dockerd (test_engine_docker.py)."""
    size_re = re.compile(r"^\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?[kMG]?B\)$")
    res = {}
    for who, e in engines.items():
        if who == "podman":
            continue  # Docker is the reference here
        names = [uname() for _ in range(3)]
        for i, n in enumerate(names):
            if i == 1:
                p = e("run", "-d", "--name", n, *net(who), DIMAGE, "sleep", "100")
            else:
                p = e("create", "--name", n, *net(who), DIMAGE, "sleep", "100")
            assert p.returncode == 0, p.stderr
            time.sleep(1.1)  # distinct creation seconds, for Docker's order

        def idx(out):
            return [names.index(x) if x in names else x for x in out.split()]

        r = {"latest": idx(e("ps", "-l", "--format", "{{.Names}}").stdout),
             "latest-long": idx(e("ps", "--latest", "--format", "{{.Names}}").stdout),
             "last2": idx(e("ps", "-n", "2", "--format", "{{.Names}}").stdout),
             "last5": idx(e("ps", "--last", "5", "--format", "{{.Names}}").stdout),
             "last-filtered": idx(e("ps", "-n", "1", "--filter", "status=running",
                                    "--format", "{{.Names}}").stdout)}
        table = e("ps", "-s", "-a", "--filter", f"name={names[1]}").stdout.splitlines()
        r["size-header"] = re.split(r"\s{2,}", table[0].strip())
        cells = re.split(r"\s{2,}", table[1].strip())
        r["size-cell"] = bool(size_re.match(cells[-1])) or cells[-1]
        e("rm", "-f", *names)
        res[who] = r
    for k in res["isola"]:
        disagree({who: r[k] for who, r in res.items()}, f"ps {k}")
    assert res["isola"]["latest"] == [2] and res["isola"]["last2"] == [2, 1]
    assert res["isola"]["size-header"][-1] == "SIZE"
