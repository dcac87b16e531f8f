"""kill -9 of the CLI at 100 random points of `isola run -d --network NAME -p
...` and of `isola rm -f` (docs/networks.md, "State and crash safety"):
afterwards no veth (bridge port), published port's nftables element, address
lease or netns file is left that the state does not own, and `network
prune` / `system prune -f` remove what the crashes left.

isola runs inside a network namespace the test creates (NetEngine of
test_network_run.py); every command is bounded in time; the monitors the
killed CLIs may have started are killed by pid (NetEngine.close), and the
namespace goes with the test.
"""
import os
import random
import re
import signal
import sqlite3
import subprocess
import time

from test_network_run import IMAGE, ne  # noqa: F401 (fixture)

SUBNET = "10.89.0"


def state(ne):
    """The database's view, read-only: container ids, and the ip and port
    claims (kind, key, owner)."""
    db = sqlite3.connect(f"file:{ne.env['ISOLA_ROOT']}/isola.db?mode=ro", uri=True, timeout=30)
    try:
        ids = {r[0] for r in db.execute("SELECT id FROM containers")}
        claims = list(db.execute("SELECT kind, key, owner_id FROM claims"))
        nets = {r[1]: r[0] for r in db.execute("SELECT id, name FROM networks")}
    finally:
        db.close()
    return ids, claims, nets


def ports_elements(ne):
    """The published ports isola's table maps: {(proto, port)}."""
    out = ne.sh("nft list map ip isola ports 2>/dev/null", check=False).stdout
    return set(re.findall(r"(tcp|udp) \. (\d+) :", out))


def owned_ok(ne):
    """Every veth, port element, lease and netns file has its owner."""
    ids, claims, nets = state(ne)
    veths = {link for link in ne.links() if link.startswith("iv")}
    want = {"iv" + owner[:6] + key[:6] for kind, key, owner in claims if kind == "ip"}
    assert veths <= want, (veths - want, claims)
    port_claims = {(key.split("/")[0], key.split("/")[2]) for kind, key, _ in claims
                   if kind == "port"}
    assert ports_elements(ne) <= port_claims, (ports_elements(ne), port_claims)
    assert all(owner in ids for _, _, owner in claims)
    assert set(ne.netns_files()) <= ids, (ne.netns_files(), ids)


def nothing_left(ne):
    ids, claims, _ = state(ne)
    assert claims == [], claims
    assert not any(link.startswith("iv") for link in ne.links())
    assert ports_elements(ne) == set()
    assert ne.netns_files() == []


def test_kill9_of_run_d_and_rm_f_at_random_points(ne):
    ne.ok("network", "create", "--subnet", f"{SUBNET}.0/24", "fnet")
    # how long each takes, to kill them anywhere in their run
    t0 = time.monotonic()
    ne.ok("run", "-d", "--name", "probe", "--network", "fnet", "-p", "18999:80", IMAGE,
          "sleep", "300")
    span_run = time.monotonic() - t0
    t0 = time.monotonic()
    ne.ok("rm", "-f", "probe")
    span_rm = time.monotonic() - t0
    rng = random.Random(os.getpid())
    for i in range(100):
        if i % 2 == 0:
            argv = ["run", "-d", "--name", f"fk{i}", "--network", "fnet", "-p",
                    f"{19000 + i}:80", IMAGE, "sleep", "300"]
            span = span_run
        else:
            # one that runs: rm -f of it is killed
            victim = f"fk{i}"
            p = ne("run", "-d", "--name", victim, "--network", "fnet", "-p", f"{19000 + i}:80",
                   IMAGE, "sleep", "300")
            assert p.returncode == 0, p.stderr
            argv = ["rm", "-f", victim]
            span = span_rm
        p = subprocess.Popen(["nsenter", f"--net=/run/netns/{ne.ns}", ne.isola, *argv],
                             env=ne.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, span * 1.1))
        # nsenter execs isola in place: p.pid is isola's
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        if i % 10 == 9:
            owned_ok(ne)
    owned_ok(ne)
    # system prune -f: the stopped and half-made containers go, with what
    # they held; network prune then finds nothing of theirs
    p = ne("system", "prune", "-f", timeout=600)
    assert p.returncode == 0, p.stderr
    owned_ok(ne)
    ne.ok("network", "prune", "-f")
    owned_ok(ne)
    # what still runs is whole: rm -f takes it all, and the network can go
    ids = ne.ok("ps", "-a", "-q", "--no-trunc").split()
    if ids:
        ne.ok("rm", "-f", *ids, timeout=600)
    nothing_left(ne)
    ne.ok("network", "rm", "fnet")


def test_prune_removes_what_nothing_owns(ne):
    """Leftovers made by hand where a crash would leave them (a veth, a
    published port, a netns file with no row): network prune removes them,
    and leaves a running container's alone."""
    ne.ok("network", "create", "--subnet", "10.90.1.0/24", "gnet")
    cid = ne.ok("run", "-d", "--name", "keeper", "--network", "gnet", "-p", "18080:80", IMAGE,
                "sleep", "300").strip()
    _, _, nets = state(ne)
    stray = "iv" + "ab" * 3 + nets["gnet"][:6]
    ne.sh(f"ip link add {stray} type veth peer name isolagcpeer0")
    ne.sh("nft add element ip isola ports '{ tcp . 18181 : 10.90.1.77 . 80 }'")
    ghost = os.path.join(ne.env["ISOLA_RUN_DIR"], "netns", "ab" * 32)
    open(ghost, "w").close()
    ne.ok("network", "prune", "-f")
    assert stray not in ne.links()
    assert ports_elements(ne) == {("tcp", "18080")}
    assert ne.netns_files() == [cid]
    owned_ok(ne)
    ne.ok("rm", "-f", "keeper")
    nothing_left(ne)


def test_kill9_of_foreground_runs_at_random_points(ne):
    """The foreground run (docs/networks.md, "The foreground run") killed
    anywhere, from its setup to its teardown: the same invariants, and the
    next run collects everything (its row, network, bundle and overlay)."""
    ne.ok("network", "create", "--subnet", "10.89.8.0/24", "fgnet")
    t0 = time.monotonic()
    ne.ok("run", "--network", "fgnet", "-p", "18998:80", IMAGE, "true")
    span = time.monotonic() - t0
    rng = random.Random(os.getpid() + 1)
    for i in range(30):
        p = subprocess.Popen(["nsenter", f"--net=/run/netns/{ne.ns}", ne.isola, "run", "--name",
                              f"fgk{i}", "--network", "fgnet", "-p", f"{18000 + i}:80", IMAGE,
                              "true"], env=ne.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, span * 1.1))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        if i % 10 == 9:
            owned_ok(ne)
    # the next networked run collects every killed one's row and network
    ne.ok("run", "--rm", "--network", "fgnet", IMAGE, "true")
    owned_ok(ne)
    assert ne.ok("ps", "-a", "-q") == ""
    nothing_left(ne)
    ne.ok("network", "rm", "fgnet")
