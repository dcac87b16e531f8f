"""DNS by name on user networks (docs/networks.md, "DNS"): one dnsmasq per
network, in the namespace of its bridge, listening on the gateway, started
with the network's first member and stopped with its last.

Every test runs isola inside a network namespace it creates (NetEngine of
test_network_run.py); the only queries go to the gateway address inside it.
Every command is bounded in time; containers, servers and the namespace go
in every outcome.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import run
from test_network_run import IMAGE, NetEngine


@pytest.fixture
def ne(isola, tmp_root, rootfs_template):
    if shutil.which("dnsmasq") is None:
        pytest.skip("dnsmasq is not installed (dnsmasq-base, scripts/install-deps.sh)")
    e = NetEngine(isola, tmp_root, rootfs_template)
    try:
        yield e
    finally:
        try:
            e.close()
        finally:
            for pid in dns_pids(e):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def dns_dir(ne):
    return os.path.join(ne.env["ISOLA_RUN_DIR"], "dns")


def dns_pids(ne):
    """The dnsmasq processes whose pid file is in this test's run dir."""
    needle = b"--pid-file=" + dns_dir(ne).encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(needle) for a in args):
            pids.append(int(d))
    return pids


def wait_gone(pid, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            return True
        time.sleep(0.05)
    return False


def nslookup(ne, ctr, name):
    """The addresses the container's DNS server gives for name (busybox
    nslookup asks the server of /etc/resolv.conf and never reads
    /etc/hosts)."""
    p = ne("exec", ctr, "nslookup", name, timeout=60)
    addrs = []
    after_server = False
    for line in p.stdout.splitlines():
        if line.startswith("Name:"):
            after_server = True
        elif after_server and line.startswith("Address"):
            addrs.append(line.split()[-1])
    return p, addrs


def test_containers_resolve_each_other_through_the_networks_server(ne):
    ne.ok("network", "create", "--subnet", "10.78.0.0/24", "dnsnet")
    net_id = ne.ok("network", "inspect", "-f", "{{.Id}}", "dnsnet").strip()
    first = ne.ok("run", "-d", "--name", "dns1", "--network", "dnsnet", IMAGE,
                  "sleep", "300").strip()
    # the container asks the network's server, on the gateway, and nothing else
    resolv = ne.ok("exec", "dns1", "cat", "/etc/resolv.conf").splitlines()
    assert [x for x in resolv if x.startswith("nameserver")] == ["nameserver 10.78.0.1"], resolv
    pids = dns_pids(ne)
    assert len(pids) == 1, pids
    # in the namespace of the bridge, not in the host's
    ns = os.stat(f"/proc/{pids[0]}/ns/net").st_ino
    assert ns == os.stat(f"/run/netns/{ne.ns}").st_ino
    assert ns != os.stat("/proc/self/ns/net").st_ino
    with open(f"/proc/{pids[0]}/cmdline", "rb") as f:
        args = f.read().decode().split("\0")
    assert "--listen-address=10.78.0.1" in args and "--no-resolv" in args, args
    # a resolver of the host on loopback is not handed on
    assert not [a for a in args if a.startswith("--server=127.")], args

    # a container started later is found by the first one through DNS
    second = ne.ok("run", "-d", "--name", "dns2", "--network", "dnsnet", IMAGE,
                   "sleep", "300").strip()
    p, addrs = nslookup(ne, "dns1", "dns2")
    assert addrs == ["10.78.0.3"], (p.stdout, p.stderr)
    p, addrs = nslookup(ne, "dns2", "dns1")
    assert addrs == ["10.78.0.2"], (p.stdout, p.stderr)
    p, addrs = nslookup(ne, "dns1", second[:12])
    assert addrs == ["10.78.0.3"], (p.stdout, p.stderr)
    assert dns_pids(ne) == pids  # one server per network

    # renamed: the new name resolves at once although no /etc/hosts has it
    ne.ok("rename", "dns2", "dns2new")
    assert "dns2new" not in ne.ok("exec", "dns1", "cat", "/etc/hosts")
    p = ne("exec", "dns1", "ping", "-c", "1", "-W", "3", "dns2new", timeout=60)
    assert p.returncode == 0 and "10.78.0.3" in p.stdout, (p.stdout, p.stderr)
    p, addrs = nslookup(ne, "dns1", "dns2")
    assert addrs == [], p.stdout
    # a name nobody has: not found, and not forwarded (plain name)
    p, addrs = nslookup(ne, "dns1", "nosuchname")
    assert p.returncode != 0 and addrs == [], p.stdout

    # gone with its last member, and its files too
    ne.ok("rm", "-f", first)
    assert dns_pids(ne) == pids
    p, addrs = nslookup(ne, "dns2new", "dns1")
    assert addrs == [], p.stdout
    ne.ok("rm", "-f", second)
    assert wait_gone(pids[0]), "dnsmasq still runs after the last container went"
    assert not os.path.exists(os.path.join(dns_dir(ne), net_id))
    ne.ok("network", "rm", "dnsnet")


def test_default_network_has_no_dns_server(ne):
    """Docker gives no DNS by name on its default network: neither does isola."""
    ne.ok("run", "-d", "--name", "plain1", IMAGE, "sleep", "300")
    resolv = ne.ok("exec", "plain1", "cat", "/etc/resolv.conf")
    gw = ne.inspect("plain1")["NetworkSettings"]["Gateway"]
    assert gw and f"nameserver {gw}" not in resolv, resolv
    assert dns_pids(ne) == []


def test_dns_option_and_internal_network(ne):
    """--dns replaces the network's server in resolv.conf; an --internal network
    still resolves its members (the gateway is on the bridge)."""
    ne.ok("network", "create", "--internal", "--subnet", "10.79.0.0/24", "innet")
    ne.ok("run", "-d", "--name", "in1", "--network", "innet", IMAGE, "sleep", "300")
    ne.ok("run", "-d", "--name", "in2", "--network", "innet", "--dns", "10.79.0.77", IMAGE,
          "sleep", "300")
    assert ne.ok("exec", "in2", "cat", "/etc/resolv.conf").strip() == "nameserver 10.79.0.77"
    p, addrs = nslookup(ne, "in1", "in2")
    assert addrs == ["10.79.0.3"], (p.stdout, p.stderr)


def test_prune_collects_a_leftover_server_by_identity(ne, tmp_root):
    """What a crash left: a server of a network that is gone is stopped by
    `network prune`, and a pid file naming another process (a reused pid)
    never gets that process killed."""
    d = dns_dir(ne)
    gone = os.path.join(d, "f" * 64)
    reused = os.path.join(d, "e" * 64)
    os.makedirs(gone)
    os.makedirs(reused)
    pidfile = os.path.join(gone, "dnsmasq.pid")
    # a dnsmasq as isola starts it, listening on loopback of the test namespace
    p = ne.sh(f"dnsmasq --conf-file=/dev/null --pid-file={pidfile} --bind-interfaces "
              f"--listen-address=127.0.0.53 --port=5353 --no-resolv --no-hosts --user=root")
    assert p.returncode == 0, p.stderr
    with open(pidfile) as f:
        leftover = int(f.read())
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        with open(os.path.join(reused, "dnsmasq.pid"), "w") as f:
            f.write(f"{bystander.pid}\n")
        p = ne("network", "prune", "-f")
        assert p.returncode == 0, p.stderr
        assert wait_gone(leftover), "the leftover dnsmasq still runs"
        assert bystander.poll() is None, "a process that is not isola's server was killed"
        assert not os.path.exists(gone) and not os.path.exists(reused)
    finally:
        bystander.kill()
        bystander.wait(timeout=10)
        try:
            os.kill(leftover, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_compared_with_podman_aardvark(ne, rootfs_template, tmp_path_factory):
    """Podman (netavark + aardvark-dns, Debian's) on a user network of its own
    namespace: the same name resolves to the other container in both, and both
    point resolv.conf at the gateway."""
    for t in ("podman", "runc", "/usr/lib/podman/netavark", "/usr/lib/podman/aardvark-dns"):
        if shutil.which(t) is None:
            pytest.skip(f"{t} is not installed (scripts/install-deps.sh)")
    from peers import Podman

    root = str(tmp_path_factory.mktemp("podman-dns"))
    pm = Podman(root, "runc", tag=(os.getpid() + 53) % 10000)
    conf = os.path.join(root, "containers.conf")
    with open(conf) as f:
        text = f.read()
    os.makedirs(os.path.join(root, "netavark"))
    text = text.replace('network_backend = "cni"', 'network_backend = "netavark"')
    text = text.replace(f'network_config_dir = "{root}/cni"',
                        f'network_config_dir = "{root}/netavark"')
    text = text.replace('default_network = "isolatest"\n', "")
    with open(conf, "w") as f:
        f.write(text)
    try:
        pm.import_rootfs(rootfs_template, IMAGE)
        p = pm("network", "create", "--subnet", "10.81.0.0/24", "pdns")
        assert p.returncode == 0, p.stderr
        p = pm("run", "-d", "--name", "pdns1", "--network", "pdns", IMAGE, "sleep", "300")
        assert p.returncode == 0, p.stderr
        p = pm("run", "-d", "--name", "pdns2", "--network", "pdns", IMAGE, "sleep", "300")
        assert p.returncode == 0, p.stderr
        p = pm("exec", "pdns2", "ip", "-4", "-o", "addr", "show", "eth0")
        paddr = p.stdout.split("inet ")[1].split("/")[0]
        p = pm("exec", "pdns1", "nslookup", "pdns2", timeout=60)
        assert paddr in p.stdout, (p.stdout, p.stderr)
        presolv = pm("exec", "pdns1", "cat", "/etc/resolv.conf").stdout
        assert "nameserver 10.81.0.1" in presolv, presolv

        ne.ok("network", "create", "--subnet", "10.81.0.0/24", "idns")
        ne.ok("run", "-d", "--name", "pdns1", "--network", "idns", IMAGE, "sleep", "300")
        ne.ok("run", "-d", "--name", "pdns2", "--network", "idns", IMAGE, "sleep", "300")
        p, addrs = nslookup(ne, "pdns1", "pdns2")
        assert addrs == ["10.81.0.3"], (p.stdout, p.stderr)
        assert "nameserver 10.81.0.1" in ne.ok("exec", "pdns1", "cat", "/etc/resolv.conf")
    finally:
        pm.close()


FAKE_VMM = r"""#!/bin/sh
# Stands in for isola-vmm: records what `isola vm run` gave it, then plays
# the guest's DHCP client on a veth of the bridge with the VM's MAC.
out={out}
echo "$@" > $out/args
tap=$(echo "$@" | sed -n 's/.*--net tap=\([^,]*\),mac=\([^ ]*\).*/\1/p')
mac=$(echo "$@" | sed -n 's/.*--net tap=\([^,]*\),mac=\([^ ]*\).*/\2/p')
ip -j link show "$tap" > $out/tap.json
cat {run}/dns/*/dhcp/* > $out/lease 2>&1
ip netns add {guestns}
ip link add vmg0 type veth peer name vmg1
ip link set vmg0 master "$(ip -j link show "$tap" | sed 's/.*"master":"\([^"]*\)".*/\1/')" up
ip link set vmg1 netns {guestns}
ip -n {guestns} link set vmg1 address "$mac" up
printf '#!/bin/sh\n[ "$1" = bound ] && echo "$ip $router $dns" > {out}/dhcp\nexit 0\n' > $out/udhcpc.sh
chmod +x $out/udhcpc.sh
timeout 20 ip netns exec {guestns} busybox udhcpc -i vmg1 -n -q -f -t 5 -T 1 -s $out/udhcpc.sh \
    > $out/udhcpc.log 2>&1
busybox nslookup {name} {gw} > $out/nslookup 2>&1
ip link del vmg0
ip netns del {guestns}
exit 7
"""


def test_vm_on_a_network_gets_its_address_by_dhcp_and_a_name(ne, tmp_root):
    """`isola vm run --net network=NAME`: a tap on the bridge, the IPAM's next
    address leased by the network's dnsmasq to the VM's MAC (a DHCP client on
    the bridge with that MAC gets exactly it), the VM's name in DNS; all gone
    when the VM ends (here: a stand-in monitor that exits 7). The real guest
    runs in the test host (test_vm_network.py)."""
    out = os.path.join(tmp_root, "fakevmm")
    os.makedirs(out)
    guestns = f"isola-ng-{os.getpid()}"
    vmm = os.path.join(tmp_root, "isola-vmm")
    with open(vmm, "w") as f:
        f.write(FAKE_VMM.format(out=out, run=ne.env["ISOLA_RUN_DIR"], guestns=guestns,
                                name="vmguest", gw="10.82.0.1"))
    os.chmod(vmm, 0o755)
    ne.ok("network", "create", "--subnet", "10.82.0.0/24", "vmnet")
    ne.ok("run", "-d", "--name", "box1", "--network", "vmnet", IMAGE, "sleep", "300")
    links = ne.links()
    env = ne.env
    try:
        ne.env = dict(env, ISOLA_VMM=vmm)
        p = ne("vm", "run", "--kernel", "/nonexistent", "--console", "none", "--name", "vmguest",
               "--net", "network=vmnet", timeout=120)
    finally:
        ne.env = env
        run(["ip", "netns", "del", guestns], timeout=10)
    assert p.returncode == 7, (p.stdout, p.stderr)

    def read(name):
        with open(os.path.join(out, name)) as f:
            return f.read()
    args = read("args")
    assert "--name" not in args and "network=" not in args, args
    assert "--net tap=it" in args and ",mac=02:42:0a:52:00:03" in args, args
    tap = json.loads(read("tap.json"))[0]
    assert tap["master"].startswith("isola-"), tap
    assert read("lease").strip() == "02:42:0a:52:00:03,10.82.0.3,vmguest"
    # the DHCP client with the VM's MAC got the IPAM's address, the gateway
    # as router and DNS server
    assert read("dhcp").split() == ["10.82.0.3", "10.82.0.1", "10.82.0.1"], \
        read("udhcpc.log")
    assert "10.82.0.3" in read("nslookup"), read("nslookup")
    # afterwards: no tap, no lease, no name, the address free again
    assert ne.links() == links
    assert not [f for f in os.listdir(os.path.join(dns_dir(ne)))
                if os.path.isdir(os.path.join(dns_dir(ne), f, "dhcp"))
                and os.listdir(os.path.join(dns_dir(ne), f, "dhcp"))]
    _, addrs = nslookup(ne, "box1", "vmguest")
    assert addrs == []
    assert "vmguest" not in ne.ok("ps", "-a", "--format", "{{.Names}}")
    ne.ok("run", "-d", "--name", "box2", "--network", "vmnet", IMAGE, "sleep", "300")
    assert ne.inspect("box2")["NetworkSettings"]["Networks"]["vmnet"]["IPAddress"] == "10.82.0.3"


def test_vm_on_a_network_undone_when_the_monitor_fails(ne):
    """A VM that cannot start (no such kernel, the real monitor) leaves no
    tap, lease or row behind, and the network can be removed."""
    ne.ok("network", "create", "--subnet", "10.83.0.0/24", "vmnet2")
    links = ne.links()
    p = ne("vm", "run", "--kernel", "/nonexistent", "--console", "none",
           "--net", "network=vmnet2", timeout=120)
    assert p.returncode != 0 and "nonexistent" in p.stderr, p.stderr
    assert ne.links() == links
    assert dns_pids(ne) == []
    assert ne.ok("ps", "-a", "-q") == ""
    ne.ok("network", "rm", "vmnet2")
    links = ne.links()
    p = ne("vm", "run", "--kernel", "/nonexistent", "--net", "network=nosuchnet")
    assert p.returncode != 0 and "nosuchnet" in p.stderr, p.stderr
    assert ne.links() == links and ne.ok("ps", "-a", "-q") == ""


def test_aliases_and_connected_containers_resolve(ne):
    """--network-alias names and a container joined later with `network connect
    --alias` are answered by the server; `network disconnect` and rm take
    them away."""
    ne.ok("network", "create", "--subnet", "10.85.0.0/24", "alnet")
    ne.ok("network", "create", "--subnet", "10.86.0.0/24", "alother")
    ne.ok("run", "-d", "--name", "al1", "--network", "alnet", "--network-alias", "db",
          IMAGE, "sleep", "300")
    ne.ok("run", "-d", "--name", "al2", "--network", "alnet", IMAGE, "sleep", "300")
    p, addrs = nslookup(ne, "al2", "db")
    assert addrs == ["10.85.0.2"], (p.stdout, p.stderr)
    ne.ok("run", "-d", "--name", "al3", "--network", "alother", IMAGE, "sleep", "300")
    ne.ok("network", "connect", "--alias", "cache", "alnet", "al3")
    for name in ("al3", "cache"):
        p, addrs = nslookup(ne, "al2", name)
        assert addrs == ["10.85.0.4"], (name, p.stdout, p.stderr)
    ne.ok("network", "disconnect", "alnet", "al3")
    for name in ("al3", "cache"):
        p, addrs = nslookup(ne, "al2", name)
        assert addrs == [], (name, p.stdout)
    ne.ok("rm", "-f", "al1")
    p, addrs = nslookup(ne, "al2", "db")
    assert addrs == [], p.stdout


SLEEPY_VMM = """#!/bin/sh
echo $$ > {out}/vmm.pid
exec sleep 300
"""


def test_vm_run_killed_is_collected_by_network_prune(ne, tmp_root):
    """`kill -9` of `isola vm run` leaves its row, address and persistent tap;
    `network prune` undoes them (and can then remove the network)."""
    out = os.path.join(tmp_root, "sleepy")
    os.makedirs(out)
    vmm = os.path.join(tmp_root, "isola-vmm-sleepy")
    with open(vmm, "w") as f:
        f.write(SLEEPY_VMM.format(out=out))
    os.chmod(vmm, 0o755)
    ne.ok("network", "create", "--subnet", "10.87.0.0/24", "gcnet")
    links = ne.links()
    p = subprocess.Popen(["nsenter", f"--net=/run/netns/{ne.ns}", ne.isola, "vm", "run",
                          "--kernel", "/nonexistent", "--console", "none", "--name", "gcvm",
                          "--net", "network=gcnet"], env=dict(ne.env, ISOLA_VMM=vmm),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    vpid = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not os.path.exists(os.path.join(out, "vmm.pid")):
            time.sleep(0.1)
        with open(os.path.join(out, "vmm.pid")) as f:
            vpid = int(f.read())
        taps = ne.links() - links
        assert len(taps) == 1 and next(iter(taps)).startswith("it"), taps
        p.kill()
        p.wait(timeout=10)
        assert ne.links() - links == taps  # left behind
        assert "gcvm" in ne.ok("ps", "-a", "--format", "{{.Names}}")
        r = ne("network", "prune", "-f")
        assert r.returncode == 0 and "gcnet" in r.stdout, (r.stdout, r.stderr)
        assert ne.links() == links - {b for b in links if b.startswith("isola-")}
        assert "gcvm" not in ne.ok("ps", "-a", "--format", "{{.Names}}")
        assert dns_pids(ne) == []
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        if vpid:
            try:
                os.kill(vpid, signal.SIGKILL)
            except ProcessLookupError:
                pass
