"""Health checks as Docker's (docs/engine.md, "Health checks"): --health-* flags,
the image's HEALTHCHECK from `isola build`, the monitor's probes (interval, timeout,
retries, start period), ps's status and --filter health=, inspect's State.Health,
`isola healthcheck run` (Podman's command), compared with podman where it runs."""
import json
import os

from conftest import run
from test_engine_cli import IMAGE, Engine, eng, podman, wait_until  # noqa: F401 (fixtures)

SLEEP = ["sleep", "1000"]


def health(eng, ref):
    return eng.inspect(ref)["State"].get("Health")


def status(eng, ref):
    p = eng("ps", "-a", "--filter", f"name={ref}", "--format", "{{.Names}} {{.Status}}")
    for line in p.stdout.splitlines():
        name, _, st = line.partition(" ")
        if name == ref:
            return st
    raise AssertionError(f"{ref} not in ps: {p.stdout} {p.stderr}")


def filtered(eng, word):
    return eng.ok("ps", "-q", "--no-trunc", "--filter", f"health={word}").split()


def test_healthcheck_run_like_podman(eng, podman):
    """The same check driven by `healthcheck run` (no scheduled probe: a long
    interval here, `disable` for podman): exit codes, output, the status words
    and the failing streak after each step are podman's."""
    seq = {}
    for who, cmd in (("isola", eng), ("podman", podman)):
        interval = "1h" if who == "isola" else "disable"
        p = cmd("run", "-d", "--network", "none", "--name", "hc", "--health-cmd",
                "test -e /tmp/ok", "--health-interval", interval, "--health-retries", "2",
                IMAGE, *SLEEP)
        assert p.returncode == 0, p.stderr
        steps = []

        def step():
            r = cmd("healthcheck", "run", "hc")
            h = json.loads(cmd("inspect", "--format", "{{json .State.Health}}", "hc").stdout) \
                if who == "podman" else health(eng, "hc")
            steps.append((r.returncode, r.stdout, h["Status"], h["FailingStreak"],
                          [x["ExitCode"] for x in h["Log"]]))

        step()  # fails: still starting (streak 1 of 2)
        step()  # fails again: unhealthy
        assert cmd("exec", "hc", "touch", "/tmp/ok").returncode == 0
        step()  # passes: healthy
        none = cmd("run", "-d", "--network", "none", "--name", "plain", IMAGE, *SLEEP)
        assert none.returncode == 0, none.stderr
        r = cmd("healthcheck", "run", "plain")
        steps.append((r.returncode, "has no defined healthcheck" in r.stderr))
        seq[who] = steps
        cmd("rm", "-f", "hc", "plain")
    assert seq["isola"] == seq["podman"]
    assert seq["isola"][:3] == [(1, "unhealthy\n", "starting", 1, [1]),
                                (1, "unhealthy\n", "unhealthy", 2, [1, 1]),
                                (0, "", "healthy", 0, [1, 1, 0])]


def test_health_scheduled_probes_ps_and_filters(eng):
    cid = eng.ok("run", "-d", "--network", "none", "--name", "web", "--health-cmd",
                 "echo probe-out; echo probe-err >&2; test -e /tmp/ok",
                 "--health-interval", "200ms", "--health-retries", "3", IMAGE, *SLEEP).strip()
    # Docker's words while no probe has decided yet
    h = health(eng, "web")
    if h["Status"] == "starting":
        st = status(eng, "web")
        assert st.startswith("Up ") and st.endswith("(health: starting)"), st
    wait_until(lambda: health(eng, "web")["Status"] == "unhealthy", "unhealthy after 3 failures")
    h = health(eng, "web")
    assert h["FailingStreak"] >= 3
    st = status(eng, "web")
    assert st.startswith("Up ") and st.endswith(" (unhealthy)"), st
    assert cid in filtered(eng, "unhealthy") and cid not in filtered(eng, "healthy")
    # only the last 5 results are kept
    wait_until(lambda: health(eng, "web")["FailingStreak"] >= 7, "more failures")
    log = health(eng, "web")["Log"]
    assert len(log) == 5
    for e in log:
        assert e["ExitCode"] == 1
        assert e["Output"] == "probe-out\nprobe-err\n"
        assert e["Start"] <= e["End"]
    eng.ok("exec", "web", "touch", "/tmp/ok")
    wait_until(lambda: health(eng, "web")["Status"] == "healthy", "healthy")
    assert health(eng, "web")["FailingStreak"] == 0
    assert health(eng, "web")["Log"][-1]["ExitCode"] == 0
    assert status(eng, "web").endswith(" (healthy)")
    assert cid in filtered(eng, "healthy") and cid not in filtered(eng, "unhealthy")
    # the container without a check is `none`
    other = eng.ok("run", "-d", "--network", "none", IMAGE, *SLEEP).strip()
    assert other in filtered(eng, "none") and cid not in filtered(eng, "none")
    assert "Health" not in eng.inspect(other)["State"]
    # the config as Docker shows it
    assert eng.inspect("web")["Config"]["Healthcheck"] == {
        "Test": ["CMD-SHELL", "echo probe-out; echo probe-err >&2; test -e /tmp/ok"],
        "Interval": 200_000_000, "Retries": 3}
    # the row keeps the status: a stopped container still shows its last one
    eng.ok("stop", "-t", "1", "web")
    assert eng.inspect("web")["State"]["Health"]["Status"] == "healthy"
    assert status(eng, "web").startswith("Exited")


def test_health_timeout_and_output_limit(eng):
    eng.ok("run", "-d", "--network", "none", "--name", "slow", "--health-cmd", "sleep 30",
           "--health-timeout", "300ms", "--health-interval", "100ms", "--health-retries", "1",
           IMAGE, *SLEEP)
    wait_until(lambda: health(eng, "slow")["Status"] == "unhealthy", "unhealthy by timeout")
    e = health(eng, "slow")["Log"][-1]
    assert e["ExitCode"] == -1
    assert e["Output"] == "Health check exceeded timeout (300ms)"
    assert eng.inspect("slow")["State"]["Running"]
    # the container's processes: no probe left behind by the killed ones
    # beyond the one that may run now (sleep 30 of sh -c is its child)
    eng.ok("run", "-d", "--network", "none", "--name", "chatty", "--health-cmd",
           "head -c 5000 /dev/zero | tr '\\0' a", "--health-interval", "100ms", IMAGE, *SLEEP)
    wait_until(lambda: health(eng, "chatty")["Status"] == "healthy", "healthy")
    out = health(eng, "chatty")["Log"][-1]["Output"]
    assert out == "a" * 4096 + "..."


def test_health_start_period(eng):
    """Failures within the start period do not count until the first
    success; after it they do."""
    eng.ok("run", "-d", "--network", "none", "--name", "sp", "--health-cmd", "test -e /tmp/ok",
           "--health-interval", "100ms", "--health-retries", "1", "--health-start-period", "1h",
           IMAGE, *SLEEP)
    wait_until(lambda: len(health(eng, "sp")["Log"]) >= 3, "three probes")
    h = health(eng, "sp")
    assert h["Status"] == "starting" and h["FailingStreak"] == 0, h
    assert all(e["ExitCode"] == 1 for e in h["Log"])
    assert status(eng, "sp").endswith("(health: starting)")
    eng.ok("exec", "sp", "touch", "/tmp/ok")
    wait_until(lambda: health(eng, "sp")["Status"] == "healthy", "healthy")
    eng.ok("exec", "sp", "rm", "/tmp/ok")
    wait_until(lambda: health(eng, "sp")["Status"] == "unhealthy", "unhealthy within the period")
    assert health(eng, "sp")["FailingStreak"] >= 1


def test_health_image_healthcheck_from_build(eng, tmp_root):
    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {IMAGE}\n"
                "HEALTHCHECK --interval=100ms --timeout=5s --retries=1 "
                "CMD [\"test\", \"-e\", \"/tmp/ok\"]\n")
    p = eng("build", "-t", "withhc", ctx, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "ignored" not in p.stderr
    cfg = json.loads(eng.ok("inspect", "withhc"))[0]["Config"]["config"]
    # as Docker writes it: durations in ns, zero fields left out
    assert cfg["Healthcheck"] == {"Test": ["CMD", "test", "-e", "/tmp/ok"],
                                  "Interval": 100_000_000, "Timeout": 5_000_000_000,
                                  "Retries": 1}
    eng.ok("run", "-d", "--network", "none", "--name", "img", "withhc", *SLEEP)
    wait_until(lambda: health(eng, "img")["Status"] == "unhealthy", "the image's check fails")
    # --health-cmd replaces the image's test, its interval stays
    eng.ok("run", "-d", "--network", "none", "--name", "over", "--health-cmd", "true", "withhc",
           *SLEEP)
    wait_until(lambda: health(eng, "over")["Status"] == "healthy", "the flag's check passes")
    assert eng.inspect("over")["Config"]["Healthcheck"]["Interval"] == 100_000_000
    # --no-healthcheck: no check at all
    eng.ok("run", "-d", "--network", "none", "--name", "nohc", "--no-healthcheck", "withhc",
           *SLEEP)
    d = eng.inspect("nohc")
    assert "Health" not in d["State"]
    assert d["Config"]["Healthcheck"] == {"Test": ["NONE"]}
    assert not status(eng, "nohc").endswith(")")
    r = eng("healthcheck", "run", "nohc")
    assert r.returncode == 125 and "has no defined healthcheck" in r.stderr
    # Docker's CLI refuses the mix
    r = eng("run", "-d", "--no-healthcheck", "--health-cmd", "true", "withhc", *SLEEP)
    assert r.returncode == 125
    assert "--no-healthcheck conflicts with --health-* options" in r.stderr
    # HEALTHCHECK NONE in a later image turns the base's off
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM withhc\nHEALTHCHECK NONE\n")
    assert eng("build", "-t", "nonehc", ctx, timeout=300).returncode == 0
    cfg = json.loads(eng.ok("inspect", "nonehc"))[0]["Config"]["config"]
    assert cfg["Healthcheck"] == {"Test": ["NONE"]}
    eng.ok("run", "-d", "--network", "none", "--name", "none2", "nonehc", *SLEEP)
    assert "Health" not in eng.inspect("none2")["State"]
