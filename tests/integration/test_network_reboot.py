"""What `isola system boot` keeps of a container's network after a host
reboot: --dns, --dns-search and --add-host (its /etc/resolv.conf and
/etc/hosts), and a `network disconnect` from its first network.

Every test runs isola inside a network namespace it creates (NetEngine of
test_network_run.py); traffic goes only to addresses in it. Every command
is bounded in time; containers and the namespace are removed in every
outcome (NetEngine.close).
"""
import os
import time

from conftest import run
from test_network_connect import addrs, veths
from test_network_run import IMAGE, ne  # noqa: F401 (fixture)


def simulate_reboot(ne, *ctrs):
    """Monitors gone, the run dir (a tmpfs) emptied, the veths with it."""
    ne.ok("stop", "-t", "0", *ctrs)
    run_dir = ne.env["ISOLA_RUN_DIR"]
    for f in ne.netns_files():
        run(["umount", "-l", os.path.join(run_dir, "netns", f)], timeout=10, check=True)
    run(["rm", "-rf", os.path.join(run_dir, "c"), os.path.join(run_dir, "netns")], timeout=30,
        check=True)
    end = time.monotonic() + 20
    while veths(ne) and time.monotonic() < end:
        time.sleep(0.1)
    assert veths(ne) == set()
    ne.ok("system", "boot", timeout=120)


def test_dns_and_add_host_survive_system_boot(ne):
    ne.ok("network", "create", "--subnet", "10.91.0.0/24", "rbn")
    ne.ok("create", "--name", "rb1", "--network", "rbn", "--dns", "10.91.0.53",
          "--dns-search", "corp.example", "--add-host", "db.example:10.91.0.99",
          IMAGE, "sleep", "300")
    ne.ok("start", "rb1")
    resolv = ne.ok("exec", "rb1", "cat", "/etc/resolv.conf")
    hosts = ne.ok("exec", "rb1", "cat", "/etc/hosts")
    assert "nameserver 10.91.0.53" in resolv and "corp.example" in resolv, resolv
    assert "10.91.0.99\tdb.example" in hosts, hosts
    simulate_reboot(ne, "rb1")
    ne.ok("start", "rb1")
    after = ne.ok("exec", "rb1", "cat", "/etc/resolv.conf")
    assert after == resolv, (resolv, after)
    assert "10.91.0.99\tdb.example" in ne.ok("exec", "rb1", "cat", "/etc/hosts")
    ne.ok("rm", "-f", "rb1")
    ne.ok("network", "rm", "rbn")


def test_disconnect_from_first_network_survives_system_boot(ne):
    ne.ok("network", "create", "--subnet", "10.92.0.0/24", "rd1")
    ne.ok("network", "create", "--subnet", "10.93.0.0/24", "rd2")
    ne.ok("create", "--name", "rd", "--network", "rd1", IMAGE, "sleep", "300")
    ne.ok("network", "connect", "rd2", "rd")
    ne.ok("network", "disconnect", "rd1", "rd")
    ne.ok("start", "rd")
    before = addrs(ne, "rd")
    assert list(before.values()) == ["10.93.0.2"], before
    simulate_reboot(ne, "rd")
    ne.ok("start", "rd")
    assert addrs(ne, "rd") == before
    assert sorted(ne.inspect("rd")["NetworkSettings"]["Networks"]) == ["rd2"]
    assert "default via 10.93.0.1" in ne.ok("exec", "rd", "ip", "route")
    ne.ok("rm", "-f", "rd")
    assert veths(ne) == set()
    ne.ok("network", "rm", "rd1", "rd2")
