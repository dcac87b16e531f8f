"""`isola network connect|disconnect`, `--network-alias`, `--network
container:NAME`, `--add-host`, `--dns`, `--dns-search` (docs/networks.md,
"Connect and disconnect").

Every test runs isola inside a network namespace it creates (NetEngine of
test_network_run.py: it plays the host); traffic goes only to addresses in
it. Every command is bounded in time; containers and the namespace are
removed in every outcome (NetEngine.close).
"""
import os
import signal
import subprocess
import time

from conftest import run
from test_network_run import IMAGE, ne  # noqa: F401 (fixture)

GET = "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {} 80"
WEB = ["sh", "-c", "echo hi-web > /tmp/index.html; exec httpd -f -p 80 -h /tmp"]


def addrs(ne, ctr):
    """{ifname: address} of ctr's IPv4 interfaces but lo."""
    out = {}
    for line in ne.ok("exec", ctr, "ip", "-4", "-o", "addr").splitlines():
        w = line.split()
        if w[1] != "lo":
            out[w[1]] = w[3].split("/")[0]
    return out


def veths(ne):
    return {link for link in ne.links() if link.startswith("iv")}


def test_connect_and_disconnect_a_running_container(ne):
    ne.ok("network", "create", "--subnet", "10.83.0.0/24", "cn1")
    ne.ok("network", "create", "--subnet", "10.84.0.0/24", "cn2")
    ne.ok("run", "-d", "--name", "web", "--network", "cn1", "--network-alias", "webalias",
          IMAGE, *WEB)
    ne.ok("run", "-d", "--name", "cli", "--network", "cn2", IMAGE, "sleep", "300")
    assert "hi-web" not in ne("exec", "cli", "sh", "-c", GET.format("webalias")).stdout
    ne.ok("network", "connect", "--alias", "clial", "--ip", "10.83.0.40", "cn1", "cli")
    assert addrs(ne, "cli") == {"eth0": "10.84.0.2", "eth1": "10.83.0.40"}
    # the first network's gateway stays the default route
    assert "default via 10.84.0.1 dev eth0" in ne.ok("exec", "cli", "ip", "route")
    # names and aliases resolve both ways
    p = ne("exec", "cli", "sh", "-c", GET.format("webalias"))
    assert "hi-web" in p.stdout, (p.stdout, p.stderr)
    assert "hi-web" in ne.ok("exec", "cli", "sh", "-c", GET.format("web"))
    assert "10.83.0.40\tcli clial " in ne.ok("exec", "web", "cat", "/etc/hosts")
    nets = ne.inspect("cli")["NetworkSettings"]["Networks"]
    assert sorted(nets) == ["cn1", "cn2"], nets
    assert (nets["cn1"]["IPAddress"], nets["cn1"]["Aliases"]) == ("10.83.0.40", ["clial"])
    assert ne.inspect("web")["NetworkSettings"]["Networks"]["cn1"]["Aliases"] == ["webalias"]
    # bad input: already connected, an address taken, unknown network or container
    ne.ok("run", "-d", "--name", "third", "--network", "cn2", IMAGE, "sleep", "300")
    links = ne.links()
    for args, want in ((["cn1", "cli"], "already exists in network cn1"),
                       (["--ip", "10.83.0.40", "cn1", "third"], "10.83.0.40 is already in use"),
                       (["nosuchnet", "cli"], "network nosuchnet not found"),
                       (["cn1", "nosuchctr"], "No such container: nosuchctr"),
                       (["--alias", "x", "bridge", "third"], "user defined networks")):
        p = ne("network", "connect", *args)
        assert p.returncode == 1 and want in p.stderr, (args, p.stderr)
    assert ne.links() == links
    assert sorted(ne.inspect("third")["NetworkSettings"]["Networks"]) == ["cn2"]
    # disconnect: the interface, the address and the names go
    ne.ok("network", "disconnect", "cn1", "cli")
    assert addrs(ne, "cli") == {"eth0": "10.84.0.2"}
    assert "cli" not in ne.ok("exec", "web", "cat", "/etc/hosts")
    assert sorted(ne.inspect("cli")["NetworkSettings"]["Networks"]) == ["cn2"]
    p = ne("network", "disconnect", "cn1", "cli")
    assert p.returncode == 1 and "is not connected to network cn1" in p.stderr, p.stderr
    ne.ok("network", "disconnect", "-f", "cn1", "cli")
    # the address is free again
    ne.ok("network", "connect", "--ip", "10.83.0.40", "cn1", "third")
    # its first network too (Docker allows it): lo only then
    ne.ok("network", "disconnect", "cn2", "cli")
    assert addrs(ne, "cli") == {}
    assert ne.inspect("cli")["NetworkSettings"]["Networks"] == {}
    ne.ok("rm", "-f", "web", "cli", "third")
    assert veths(ne) == set() and ne.netns_files() == []
    ne.ok("network", "rm", "cn1", "cn2")


def test_connect_a_stopped_container_kept_by_restart_and_system_boot(ne):
    ne.ok("network", "create", "--subnet", "10.85.0.0/24", "sn1")
    ne.ok("network", "create", "--subnet", "10.86.0.0/24", "sn2")
    ne.ok("create", "--name", "st", "--network", "sn1", IMAGE, "sleep", "300")
    ne.ok("network", "connect", "--alias", "stal", "sn2", "st")
    ne.ok("start", "st")
    assert addrs(ne, "st") == {"eth0": "10.85.0.2", "eth1": "10.86.0.2"}
    ne.ok("restart", "-t", "0", "st")
    assert addrs(ne, "st") == {"eth0": "10.85.0.2", "eth1": "10.86.0.2"}
    ne.ok("run", "-d", "--name", "peer", "--network", "sn2", IMAGE, "sleep", "300")
    assert "10.86.0.2\tst stal " in ne.ok("exec", "peer", "cat", "/etc/hosts")
    # a reboot: monitors killed, the run dir (a tmpfs) emptied, and with the
    # pinned namespaces their veths go
    ne.ok("stop", "-t", "0", "st", "peer")
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
    ne.ok("start", "st", "peer")
    assert addrs(ne, "st") == {"eth0": "10.85.0.2", "eth1": "10.86.0.2"}
    assert "10.86.0.2\tst stal " in ne.ok("exec", "peer", "cat", "/etc/hosts")
    ne.ok("rm", "-f", "st", "peer")
    assert veths(ne) == set()
    ne.ok("network", "rm", "sn1", "sn2")


def test_network_container_joins_a_running_one(ne):
    ne.ok("network", "create", "--subnet", "10.87.0.0/24", "jn")
    ne.ok("run", "-d", "--name", "owner", "--network", "jn", IMAGE, *WEB)
    ne.ok("run", "-d", "--name", "joiner", "--network", "container:owner", IMAGE, "sleep", "300")
    # one namespace: the same address, and the owner's server on its loopback
    assert addrs(ne, "joiner") == addrs(ne, "owner") == {"eth0": "10.87.0.2"}
    assert "hi-web" in ne.ok("exec", "joiner", "sh", "-c", GET.format("127.0.0.1"))
    assert ne.ok("exec", "joiner", "cat", "/etc/hosts") == \
        ne.ok("exec", "owner", "cat", "/etc/hosts")
    assert ne.inspect("joiner")["NetworkSettings"]["Networks"] == {}
    # refused: a container that does not run, an unknown one, options that
    # belong to the network's owner, connecting it elsewhere
    ne.ok("create", "--name", "idle", "--network", "jn", IMAGE, "true")
    links = ne.links()
    for args, want in ((["--network", "container:idle"], "non running container: idle"),
                       (["--network", "container:nosuchctr"], "No such container"),
                       (["--network", "container:owner", "-p", "80"], "conflicting options"),
                       (["--network", "container:owner", "--ip", "10.87.0.9"],
                        "conflicting options")):
        p = ne("run", "-d", *args, IMAGE, "true")
        assert p.returncode == 125 and want in p.stderr, (args, p.stderr)
    p = ne("network", "connect", "jn", "joiner")
    assert p.returncode == 1 and "sharing network namespace" in p.stderr, p.stderr
    assert ne.links() == links
    # removing the joiner leaves the owner's network alone
    ne.ok("rm", "-f", "joiner")
    assert addrs(ne, "owner") == {"eth0": "10.87.0.2"}
    ne.ok("rm", "-f", "owner", "idle")
    ne.ok("network", "rm", "jn")


def test_add_host_dns_and_dns_search(ne):
    ne.ok("run", "-d", "--name", "dn", "--add-host", "db.example:10.9.8.7", "--dns", "10.1.2.3",
          "--dns", "2001:db8::53", "--dns-search", "corp.example", IMAGE, "sleep", "300")
    assert "10.9.8.7\tdb.example" in ne.ok("exec", "dn", "cat", "/etc/hosts")
    assert ne.ok("exec", "dn", "cat", "/etc/resolv.conf") == \
        "search corp.example\nnameserver 10.1.2.3\nnameserver 2001:db8::53\n"
    # the foreground run takes them too
    p = ne("run", "--add-host", "fg.example:10.9.8.6", "--dns", "10.1.2.4", IMAGE, "sh", "-c",
           "cat /etc/hosts /etc/resolv.conf")
    assert "10.9.8.6\tfg.example" in p.stdout and "nameserver 10.1.2.4" in p.stdout, p.stderr
    links = ne.links()
    for args, want in ((["--add-host", "nocolon"], "--add-host"),
                       (["--add-host", "h:not-an-ip"], "--add-host"),
                       (["--dns", "8.8.8"], "is not an ip address"),
                       (["--dns-search", "-bad-.example"], "is not a valid domain")):
        p = ne("run", "-d", *args, IMAGE, "true")
        assert p.returncode == 125 and want in p.stderr, (args, p.stderr)
        p = ne("run", *args, IMAGE, "true")
        assert p.returncode == 125 and want in p.stderr, (args, p.stderr)
    assert ne.links() == links
    assert ne.ok("ps", "-a", "--format", "{{.Names}}").split() == ["dn"]


def test_fg_run_on_container_network(ne):
    """The foreground run joins a running container's network too; killing
    it leaves the owner alone."""
    ne.ok("run", "-d", "--name", "fgowner", IMAGE, *WEB)
    p = ne("run", "--network", "container:fgowner", IMAGE, "sh", "-c", GET.format("127.0.0.1"))
    assert "hi-web" in p.stdout, (p.stdout, p.stderr)
    cli = subprocess.Popen(["nsenter", f"--net=/run/netns/{ne.ns}", ne.isola, "run", "--name",
                            "fgjoin", "--network", "container:fgowner", IMAGE, "sleep", "100"],
                           env=ne.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 30
        while "fgjoin" not in ne.ok("ps", "--format", "{{.Names}}") and time.monotonic() < end:
            time.sleep(0.1)
        cli.send_signal(signal.SIGKILL)
        cli.wait(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(timeout=30)
    ne.ok("network", "prune", "-f")
    assert ne.ok("ps", "-a", "--format", "{{.Names}}").split() == ["fgowner"]
    assert "hi-web" in ne.ok("exec", "fgowner", "sh", "-c", GET.format("127.0.0.1"))
    ne("run", "--rm", "--network", "none", IMAGE, "true")  # collects the killed run's bundle
