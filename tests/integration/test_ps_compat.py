"""`isola ps`'s COMMAND of a foreground run's row (docs/engine.md); `-l`,
`-n`, `-s` against Docker are in test_docker_compat.py.

Engine (test_engine_cli.py) runs isola in a network namespace of the
test's, with a private store and run dir; every command is bounded in time
and every container is removed in every outcome (Engine.close).
"""
import subprocess
import time

from test_engine_cli import IMAGE, eng, wait_until  # noqa: F401 (fixture)


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

