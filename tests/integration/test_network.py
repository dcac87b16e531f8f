"""Networks (docs/networks.md): `isola network create|ls|inspect|rm|prune`, and
the net library's veth, nftables and port-mapping calls driven by
build/tests/net-helper (what `run --network` and `-p` will call).

Every test builds its own world of network namespaces and never touches the
real host's interfaces, routes or nftables: a namespace "host" (where isola
runs: its bridges and its nftables table), an "outside" namespace joined to the
host by a veth (another machine: 198.51.100.2, the host being 198.51.100.1,
TEST-NET-2), and namespaces standing in for containers. Traffic goes only to
addresses inside those namespaces. Every command is bounded in time; the
namespaces (and with them every link and rule) are deleted in every outcome.
"""
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import BUILD, run

HELPER = os.path.join(BUILD, "tests", "net-helper")
HOST_IP, OUTSIDE_IP = "198.51.100.1", "198.51.100.2"

# A TCP server that answers every connection with the peer's address (what the
# server sees), for at most `secs` seconds.
PEER_SERVER = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
s.settimeout(1)
end = time.time() + float(sys.argv[3])
print("ready", flush=True)
while time.time() < end:
    try:
        c, a = s.accept()
    except socket.timeout:
        continue
    c.sendall((a[0] + "\n").encode())
    c.close()
"""


def need(*tools):
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"{t} is not installed (scripts/install-deps.sh)")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")


class World:
    """Network namespaces made for one test, deleted by close()."""

    def __init__(self, isola, tmp_root):
        self.isola, self.state = isola, os.path.join(tmp_root, "state")
        # the run dir (DNS servers' pid files, ...) is the test's, not /run/isola
        self.run_dir = os.path.join(tmp_root, "run")
        self.env = dict(os.environ, ISOLA_RUN_DIR=self.run_dir)
        self.tag = uuid.uuid4().hex[:8]
        self.namespaces, self.procs = [], []
        self.host = self.netns("h")
        self.outside = self.netns("o")
        self.sh(f"ip link add vo{self.tag} type veth peer name eth0 netns {self.outside}")
        self.sh(f"ip addr add {HOST_IP}/24 dev vo{self.tag} && ip link set vo{self.tag} up")
        self.sh(f"ip addr add {OUTSIDE_IP}/24 dev eth0 && ip link set eth0 up", ns=self.outside)

    def netns(self, kind):
        name = f"isola-t{kind}{len(self.namespaces)}-{self.tag}"
        run(["ip", "netns", "add", name], timeout=10, check=True)
        self.namespaces.append(name)
        run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], timeout=10, check=True)
        return name

    def sh(self, cmd, ns=None, timeout=20, check=True):
        return run(["ip", "netns", "exec", ns or self.host, "sh", "-c", cmd], timeout=timeout,
                   check=check)

    def isola_net(self, *args, timeout=60, input=None):
        """`isola network --root STATE ARGS` in the host namespace."""
        return run(["ip", "netns", "exec", self.host, self.isola, "network", "--root",
                    self.state, *args], timeout=timeout, input=input, env=self.env)

    def helper(self, *args, ns=None):
        if not os.access(HELPER, os.X_OK):
            pytest.fail(f"{HELPER} is not built (ninja -C build)")
        return run(["ip", "netns", "exec", ns or self.host, HELPER, *args], timeout=30)

    def container(self, network, name, ip=None):
        """A namespace attached to `network` as container `name`; (ns, address)."""
        ns = self.netns("c")
        p = self.helper("attach", self.state, network, name, f"/run/netns/{ns}",
                        *([ip] if ip else []))
        assert p.returncode == 0, p.stderr
        return ns, p.stdout.strip()

    def server(self, ns, addr, port, secs=30):
        """PEER_SERVER in ns, listening on addr:port; killed by close()."""
        p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", PEER_SERVER, addr,
                              str(port), str(secs)], stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        assert p.stdout.readline().strip() == "ready"
        return p

    def connect(self, ns, addr, port, timeout=5):
        """What the server at addr:port answers to a client in ns ('' when none)."""
        p = run(["ip", "netns", "exec", ns, "busybox", "nc", "-w", "3", addr, str(port)],
                timeout=timeout + 5, input="")
        return p.stdout.strip()

    def ping(self, ns, addr):
        return run(["ip", "netns", "exec", ns, "busybox", "ping", "-c", "1", "-W", "2", addr],
                   timeout=10).returncode == 0

    def nft(self, *args):
        return run(["ip", "netns", "exec", self.host, "nft", *args], timeout=10)

    def links(self):
        p = run(["ip", "netns", "exec", self.host, "ip", "-j", "link", "show"], timeout=10,
                check=True)
        return {link["ifname"]: link for link in json.loads(p.stdout)}

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait(timeout=10)
        # the networks' DNS servers that this test's commands started
        for pidfile in glob.glob(os.path.join(self.run_dir, "dns", "*", "dnsmasq.pid")):
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip())
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f"--pid-file={pidfile}".encode() in f.read():
                        os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
        for ns in self.namespaces:
            run(["ip", "netns", "del", ns], timeout=10)


@pytest.fixture
def world(isola, tmp_root):
    need("ip", "nft", "busybox", "python3")
    w = World(isola, tmp_root)
    try:
        yield w
    finally:
        w.close()


def create(world, *args):
    p = world.isola_net("create", *args)
    assert p.returncode == 0, p.stderr
    assert re.fullmatch(r"[0-9a-f]{64}", p.stdout.strip()), p.stdout
    return p.stdout.strip()


def inspect(world, name):
    p = world.isola_net("inspect", name)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)[0]


def bridge_addrs(world, bridge):
    p = world.sh(f"ip -j addr show dev {bridge}")
    return [f"{a['local']}/{a['prefixlen']}" for a in json.loads(p.stdout)[0]["addr_info"]
            if a["family"] == "inet"]


FOREIGN = ("add table inet other; add chain inet other c1 { type filter hook forward priority 10; }; "
           "add rule inet other c1 counter")


def test_create_bridge_nft_and_inspect(world):
    """The bridge exists with the gateway address; only isola's table changes."""
    world.sh(f"nft '{FOREIGN}'")  # another program's table
    foreign = world.nft("list", "table", "inet", "other").stdout
    nid = create(world, "--label", "team=a", "net1")
    n = inspect(world, "net1")
    assert n["Id"] == nid and n["Name"] == "net1" and n["Driver"] == "bridge"
    assert n["IPAM"]["Config"] == [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]
    assert n["Internal"] is False and n["Labels"] == {"team": "a"} and n["Containers"] == {}
    br = n["Options"]["com.docker.network.bridge.name"]
    assert br == "isola-" + nid[:9]
    assert bridge_addrs(world, br) == ["172.18.0.1/16"]
    assert "UP" in world.links()[br]["flags"]
    # the default network takes 172.17.0.0/16 on first use (network ls)
    ls = world.isola_net("ls", "--format", "{{.Name}} {{.Subnet}} {{.Internal}}")
    assert ls.returncode == 0, ls.stderr
    assert ls.stdout.split("\n")[:2] == ["bridge 172.17.0.0/16 false", "net1 172.18.0.0/16 false"]
    assert bridge_addrs(world, "isola0") == ["172.17.0.1/16"]
    assert world.isola_net("ls", "-q", "--filter", "label=team=a").stdout == nid[:12] + "\n"
    table = world.nft("list", "table", "ip", "isola").stdout
    assert f'oifname != "{br}" ip saddr 172.18.0.0/16 masquerade' in table
    # nothing else in the ruleset but isola's table and the untouched foreign one
    tables = re.findall(r"^table (\S+ \S+)", world.nft("list", "ruleset").stdout, re.M)
    assert sorted(tables) == ["inet other", "ip isola"]
    assert world.nft("list", "table", "inet", "other").stdout == foreign
    p = world.isola_net("rm", "net1")
    assert p.returncode == 0 and p.stdout == "net1\n", p.stderr
    assert br not in world.links()
    assert br not in world.nft("list", "table", "ip", "isola").stdout
    assert world.nft("list", "table", "inet", "other").stdout == foreign


def test_bad_input(world):
    create(world, "--subnet", "10.20.0.0/16", "net1")
    cases = [
        (["--subnet", "10.20.5.0/24", "net2"], 'subnet 10.20.5.0/24 overlaps with network "net1"'),
        (["--subnet", "10.30.0.0/33", "net2"], 'invalid CIDR "10.30.0.0/33"'),
        (["--subnet", "10.30.0.1/16", "net2"], 'host bits set (the subnet is 10.30.0.0/16)'),
        (["--subnet", "10.30.0.0/16", "--gateway", "10.31.0.1", "net2"],
         "--gateway 10.31.0.1: not a host address of subnet 10.30.0.0/16"),
        (["--subnet", "10.30.0.0/16", "--ip-range", "10.31.0.0/24", "net2"],
         "--ip-range 10.31.0.0/24: not inside subnet 10.30.0.0/16"),
        (["net1"], "network with name net1 already exists"),
        (["bridge"], "network with name bridge already exists"),
        (["bad/name"], "bad/name"),
    ]
    for args, msg in cases:
        p = world.isola_net("create", *args)
        assert p.returncode == 1 and msg in p.stderr, (args, p.stderr)
    p = world.isola_net("rm", "nope")
    assert p.returncode == 1 and "network nope not found" in p.stderr
    assert world.isola_net("rm", "-f", "nope").returncode == 0
    names = world.isola_net("ls", "--format", "{{.Name}}").stdout.split()
    assert names == ["bridge", "net1"]
    assert [link for link in world.links() if link.startswith("isola-")] == [
        "isola-" + inspect(world, "net1")["Id"][:9]]


def test_containers_reach_gateway_and_each_other(world):
    create(world, "--subnet", "10.40.0.0/24", "--ip-range", "10.40.0.128/25", "net1")
    c1, ip1 = world.container("net1", "c1")
    c2, ip2 = world.container("net1", "c2")
    assert (ip1, ip2) == ("10.40.0.128", "10.40.0.129")
    _, ip3 = world.container("net1", "c3", "10.40.0.7")
    assert ip3 == "10.40.0.7"
    assert world.ping(c1, "10.40.0.1") and world.ping(c1, ip2) and world.ping(c2, ip1)
    world.server(c2, "0.0.0.0", 7000)
    assert world.connect(c1, ip2, 7000) == ip1
    ctrs = inspect(world, "net1")["Containers"]
    assert sorted((c["Name"], c["IPv4Address"]) for c in ctrs.values()) == [
        ("c1", "10.40.0.128/24"), ("c2", "10.40.0.129/24"), ("c3", "10.40.0.7/24")]
    # an address is never given twice
    ns = world.netns("c")
    p = world.helper("attach", world.state, "net1", "c4", f"/run/netns/{ns}", "10.40.0.7")
    assert p.returncode == 1 and "address 10.40.0.7 is already in use" in p.stderr
    # in use: refused, naming a container; after detaching everyone: removed
    p = world.isola_net("rm", "net1")
    assert p.returncode == 1 and "network net1 is in use by container" in p.stderr
    for c in ("c1", "c2", "c3"):
        assert world.helper("detach", world.state, "net1", c).returncode == 0
    assert world.isola_net("rm", "net1").returncode == 0
    assert not any(link.startswith("isola-") or link.startswith("iv") for link in world.links())


def test_masquerade_and_internal(world):
    create(world, "net1")
    create(world, "--internal", "--subnet", "10.50.0.0/24", "int1")
    c1, ip1 = world.container("net1", "c1")
    ci, ipi = world.container("int1", "ci")
    world.server(world.outside, OUTSIDE_IP, 7000)
    # the outside has no route to 172.18/16: only masquerade brings the reply back
    assert world.connect(c1, OUTSIDE_IP, 7000) == HOST_IP
    assert world.connect(ci, OUTSIDE_IP, 7000) == ""
    table = world.nft("list", "table", "ip", "isola").stdout
    int_br = inspect(world, "int1")["Options"]["com.docker.network.bridge.name"]
    post = re.search(r"chain post-%s \{(.*?)\}" % re.escape(int_br), table, re.S)
    assert post is not None and "masquerade" not in post.group(1)
    # containers of the internal network still reach each other and the gateway
    ci2, ipi2 = world.container("int1", "ci2")
    assert world.ping(ci, ipi2) and world.ping(ci, "10.50.0.1")


def test_published_port(world):
    create(world, "--subnet", "10.60.0.0/24", "net1")
    c1, ip1 = world.container("net1", "c1")
    c2, ip2 = world.container("net1", "c2")
    world.server(c1, "0.0.0.0", 80)
    assert world.connect(world.outside, HOST_IP, 8080) == ""
    p = world.helper("port-add", "tcp", "0.0.0.0", "8080", ip1, "80")
    assert p.returncode == 0, p.stderr
    # another machine: prerouting DNAT; the server sees the client's own address
    assert world.connect(world.outside, HOST_IP, 8080) == OUTSIDE_IP
    # the host itself, on 127.0.0.1 (output DNAT, route_localnet, masquerade)
    # and on its own address
    assert world.connect(world.host, "127.0.0.1", 8080) == "10.60.0.1"
    assert world.connect(world.host, HOST_IP, 8080) == HOST_IP
    # hairpin: a container of the same bridge, and the container itself
    assert world.connect(c2, HOST_IP, 8080) == "10.60.0.1"
    assert world.connect(c1, HOST_IP, 8080) == "10.60.0.1"
    # a mapping on one host address only
    p = world.helper("port-add", "tcp", HOST_IP, "8081", ip1, "80")
    assert p.returncode == 0, p.stderr
    assert world.connect(world.outside, HOST_IP, 8081) == OUTSIDE_IP
    assert world.connect(world.host, "127.0.0.1", 8081) == ""
    for port in ("8080", "8081"):
        host = "0.0.0.0" if port == "8080" else HOST_IP
        assert world.helper("port-rm", "tcp", host, port, ip1, "80").returncode == 0
    assert world.connect(world.outside, HOST_IP, 8080) == ""
    p = world.helper("port-rm", "tcp", "0.0.0.0", "8080", ip1, "80")
    assert p.returncode == 1 and "unpublish 0.0.0.0:8080/tcp" in p.stderr


def test_tap_on_bridge(world):
    """A VM's tap: on the bridge and up while its fd is open, gone after."""
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("no /dev/net/tun on this machine")
    create(world, "--subnet", "10.70.0.0/24", "net1")
    br = inspect(world, "net1")["Options"]["com.docker.network.bridge.name"]
    p = subprocess.Popen(["ip", "netns", "exec", world.host, HELPER, "tap", "tapt0", br],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    world.procs.append(p)
    assert p.stdout.readline().strip() == "ok"
    links = world.links()
    assert links["tapt0"]["master"] == br and "UP" in links["tapt0"]["flags"]
    p.stdin.close()
    p.wait(timeout=10)
    assert "tapt0" not in world.links()


def owned_ok(world):
    """No bridge or nft chain of a network the database does not hold."""
    p = world.isola_net("ls", "--no-trunc", "-q")
    assert p.returncode == 0, p.stderr
    # rows in any state (a killed create leaves one until prune)
    import sqlite3
    db = sqlite3.connect(os.path.join(world.state, "isola.db"))
    bridges = {r[0] for r in db.execute("SELECT bridge FROM networks")}
    db.close()
    for link in world.links():
        if link.startswith("isola"):
            assert link in bridges, f"bridge {link} not owned by the database"
    table = world.nft("list", "table", "ip", "isola").stdout
    for br in re.findall(r"chain (?:post|hairpin|fwd_in|fwd_out)-(\S+) \{", table):
        assert br in bridges, f"nft chain of {br} not owned by the database"


def test_kill9_create_rm(world):
    """kill -9 of `network create` and `rm` at 100 random points: nothing the
    database does not own; prune removes every half-made network."""
    create(world, "--subnet", "10.80.0.0/24", "keep")
    world.container("keep", "c1")  # in use: prune keeps it
    t0 = time.monotonic()
    create(world, "probe")
    assert world.isola_net("rm", "probe").returncode == 0
    span = max(time.monotonic() - t0, 0.02)
    rng = random.Random(os.getpid())
    for i in range(100):
        verb = ["create", f"k{i % 7}"] if i % 2 == 0 else ["rm", f"k{(i - 1) % 7}"]
        p = subprocess.Popen(["ip", "netns", "exec", world.host, world.isola, "network",
                              "--root", world.state, *verb],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=world.env)
        time.sleep(rng.uniform(0, span / 2))
        # ip netns exec execs isola in place: p.pid is isola's pid
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        if i % 10 == 9:
            owned_ok(world)
    owned_ok(world)
    p = world.isola_net("prune", "-f")
    assert p.returncode == 0, p.stderr
    owned_ok(world)
    names = world.isola_net("ls", "--format", "{{.Name}}").stdout.split()
    assert names == ["bridge", "keep"]
    bridges = sorted(link for link in world.links() if link.startswith("isola"))
    assert bridges == sorted(["isola0", "isola-" + inspect(world, "keep")["Id"][:9]])
    table = world.nft("list", "table", "ip", "isola").stdout
    assert sorted(set(re.findall(r"chain post-(\S+) \{", table))) == bridges


def test_concurrent_allocations(world):
    """Concurrent CLIs never get one subnet or one address twice."""
    procs = [subprocess.Popen(["ip", "netns", "exec", world.host, world.isola, "network",
                               "--root", world.state, "create", f"par{i}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=world.env)
             for i in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    subnets = [inspect(world, f"par{i}")["IPAM"]["Config"][0]["Subnet"] for i in range(8)]
    assert len(set(subnets)) == 8, subnets
    assert set(subnets) == {f"172.{18 + i}.0.0/16" for i in range(8)}
    nss = [world.netns("c") for _ in range(8)]
    procs = [subprocess.Popen(["ip", "netns", "exec", world.host, HELPER, "attach", world.state,
                               "par0", f"c{i}", f"/run/netns/{ns}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, ns in enumerate(nss)]
    addrs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        addrs.append(out.strip())
    base = subnets[0].rsplit(".", 2)[0]  # "172.N"
    assert sorted(addrs, key=lambda a: int(a.split(".")[-1])) == [
        f"{base}.0.{i}" for i in range(2, 10)]


def test_same_as_podman(world, tmp_root):
    """Podman (its own root and network config dir, in the test's host
    namespace; `network create` makes no kernel object) records the same
    subnet, gateway, internal flag and labels, and refuses the same bad input."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (scripts/install-deps.sh)")
    pod_dir = os.path.join(tmp_root, "podman")

    def podman(*args):
        return run(["ip", "netns", "exec", world.host, "podman", "--root", f"{pod_dir}/root",
                    "--runroot", f"{pod_dir}/run", "--network-config-dir", f"{pod_dir}/net",
                    "network", *args], timeout=60)
    args = ["--subnet", "10.20.0.0/16", "--gateway", "10.20.0.254", "--internal",
            "--label", "team=a", "net1"]
    p = podman("create", *args)
    assert p.returncode == 0, p.stderr
    create(world, *args)
    pod = json.loads(podman("inspect", "net1").stdout)[0]
    ours = inspect(world, "net1")
    assert [(s["subnet"], s["gateway"]) for s in pod["subnets"]] == [
        (c["Subnet"], c["Gateway"]) for c in ours["IPAM"]["Config"]]
    assert (pod["internal"], pod["labels"]) == (ours["Internal"], ours["Labels"])
    for bad in (["--subnet", "10.20.5.0/24", "net2"], ["net1"], ["--subnet", "10.30.0.0/33", "n3"]):
        theirs, mine = podman("create", *bad), world.isola_net("create", *bad)
        assert theirs.returncode != 0 and mine.returncode != 0, (bad, theirs.stderr, mine.stderr)


def test_libraries_opened_on_first_use(world):
    """libnl and libnftables (with libnftnl, libmnl, libxtables, libgmp) are
    loaded by the network commands only (docs/development.md, start-up cost)."""
    def loaded(*args):
        env = dict(world.env, LD_DEBUG="files")
        p = run(["ip", "netns", "exec", world.host, world.isola, *args], timeout=60, env=env)
        return p, set(re.findall(r"file=(\S+) \[\d+\];\s+(?:needed|dynamically loaded) by",
                                 p.stderr))
    p, libs = loaded("--version")
    assert p.returncode == 0
    assert not [lib for lib in libs if lib.startswith(("libnl", "libnftables", "libnftnl"))], libs
    p, libs = loaded("network", "--root", world.state, "ls")
    assert p.returncode == 0, p.stderr
    assert {"libnl-3.so.200", "libnl-route-3.so.200", "libnftables.so.1"} <= libs, libs


def test_pool_skips_host_routes(world):
    """A subnet from the pool never hides a network the host reaches."""
    world.sh(f"ip route add 172.18.4.0/24 via {OUTSIDE_IP}")
    create(world, "net1")
    assert inspect(world, "net1")["IPAM"]["Config"][0]["Subnet"] == "172.19.0.0/16"


def test_default_network_concurrent_first_use(world):
    """Several commands needing the default network at once: one creates it,
    the others wait for it; all succeed."""
    procs = [subprocess.Popen(["ip", "netns", "exec", world.host, world.isola, "network",
                               "--root", world.state, "ls", "-q", "--filter", "type=builtin"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=world.env)
             for _ in range(6)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        outs.append(out)
    assert len(set(outs)) == 1 and re.fullmatch(r"[0-9a-f]{12}\n", outs[0]), outs
    assert bridge_addrs(world, "isola0") == ["172.17.0.1/16"]
