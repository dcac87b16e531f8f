"""Containers attached to networks (docs/networks.md, "Containers"): `isola
run -d`/`create` with --network none|host|bridge|NAME, --ip, /etc/hosts,
/etc/hostname, /etc/resolv.conf, and what rm leaves (nothing).

Every test runs isola inside a network namespace it creates (it plays the
host: bridges, veths and nftables rules are made there, never on the real
host); traffic goes only to addresses inside it. Every command is bounded in
time; containers, monitors and the namespace are removed in every outcome.
"""
import json
import os
import shutil
import signal
import time
import uuid

import pytest

from conftest import mounts_below, run

IMAGE = "netbb"


class NetEngine:
    def __init__(self, isola, tmp_root, rootfs_template):
        for t in ("ip", "nsenter", "nft", "busybox"):
            if shutil.which(t) is None:
                pytest.skip(f"{t} is not installed (scripts/install-deps.sh)")
        if os.geteuid() != 0:
            pytest.skip("network namespaces need root")
        self.isola, self.tmp = isola, tmp_root
        self.ns = f"isola-nr-{uuid.uuid4().hex[:8]}"
        run(["ip", "netns", "add", self.ns], timeout=10, check=True)
        self.sh("ip link set lo up")
        self.env = dict(os.environ, ISOLA_ROOT=os.path.join(tmp_root, "store"),
                        ISOLA_RUN_DIR=os.path.join(tmp_root, "run"))
        self.env.pop("ISOLA_DEFAULT_NETWORK", None)  # the default: bridge
        self.ok("import", rootfs_template, IMAGE, "/bin/sh", "-c", "echo default")

    def sh(self, cmd, check=True):
        return run(["nsenter", f"--net=/run/netns/{self.ns}", "sh", "-c", cmd], timeout=20,
                   check=check)

    def __call__(self, *args, timeout=120):
        return run(["nsenter", f"--net=/run/netns/{self.ns}", self.isola, *args], env=self.env,
                   timeout=timeout)

    def ok(self, *args, timeout=120):
        p = self(*args, timeout=timeout)
        assert p.returncode == 0, f"isola {args}: {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p.stdout

    def inspect(self, ref):
        return json.loads(self.ok("inspect", ref))[0]

    def links(self):
        p = self.sh("ip -j link show")
        return {link["ifname"] for link in json.loads(p.stdout)}

    def monitors(self):
        pids = []
        d = os.path.join(self.env["ISOLA_RUN_DIR"], "c")
        for cid in os.listdir(d) if os.path.isdir(d) else []:
            try:
                with open(os.path.join(d, cid, "status")) as f:
                    pids.append(json.load(f)["monitorPid"])
            except (OSError, ValueError, KeyError):
                pass
        return pids

    def netns_files(self):
        d = os.path.join(self.env["ISOLA_RUN_DIR"], "netns")
        return os.listdir(d) if os.path.isdir(d) else []

    def close(self):
        try:
            ids = self("ps", "-a", "-q", "--no-trunc").stdout.split()
            if ids:
                self("rm", "-f", *ids, timeout=300)
            for pid in self.monitors():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for f in self.netns_files():
                run(["umount", "-l", os.path.join(self.env["ISOLA_RUN_DIR"], "netns", f)],
                    timeout=10)
        finally:
            run(["ip", "netns", "del", self.ns], timeout=10)


@pytest.fixture
def ne(isola, tmp_root, rootfs_template):
    e = NetEngine(isola, tmp_root, rootfs_template)
    try:
        yield e
    finally:
        e.close()


def test_two_containers_on_a_user_network_talk_by_name(ne):
    ne.ok("network", "create", "--subnet", "10.77.0.0/24", "appnet")
    web = ne.ok("run", "-d", "--name", "web1", "--network", "appnet", IMAGE,
                "sh", "-c", "echo hi-from-web > /tmp/index.html; httpd -f -p 80 -h /tmp").strip()
    cli = ne.ok("run", "-d", "--name", "cli1", "--network", "appnet", "--ip", "10.77.0.9",
                IMAGE, "sleep", "100").strip()
    p = ne("exec", "cli1", "sh", "-c",
           "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web1 80")
    assert p.returncode == 0 and "hi-from-web" in p.stdout, (p.stdout, p.stderr)
    hosts = ne.ok("exec", "cli1", "cat", "/etc/hosts").splitlines()
    assert hosts[0] == "127.0.0.1\tlocalhost"
    # the hostname is the short id (Docker's default), then the name
    assert "10.77.0.9\t" + cli[:12] + " cli1 " + cli[:12] in hosts
    assert "10.77.0.2\tweb1 " + web[:12] in hosts
    # the first one learnt about the second one (its file updated in place)
    assert "10.77.0.9\tcli1 " + cli[:12] in ne.ok("exec", "web1", "cat", "/etc/hosts")
    assert ne.ok("exec", "cli1", "cat", "/etc/hostname") == cli[:12] + "\n"
    st = ne.inspect("cli1")
    n = st["NetworkSettings"]["Networks"]["appnet"]
    assert (n["IPAddress"], n["Gateway"]) == ("10.77.0.9", "10.77.0.1")
    # an address already held: a clear error, nothing left behind
    links = ne.links()
    p = ne("run", "-d", "--name", "cli2", "--network", "appnet", "--ip", "10.77.0.9", IMAGE,
           "true")
    assert p.returncode == 125 and "10.77.0.9" in p.stderr, p.stderr
    assert ne.links() == links
    assert ne("inspect", "cli2").returncode != 0
    assert len(ne.netns_files()) == 2


def test_stop_start_keeps_the_namespace_and_address(ne):
    ne.ok("network", "create", "--subnet", "10.79.0.0/24", "keepnet")
    ne.ok("run", "-d", "--name", "keep1", "--network", "keepnet", IMAGE, "sleep", "100")
    ns_files = ne.netns_files()
    ne.ok("stop", "-t", "1", "keep1")
    assert ne.netns_files() == ns_files
    ne.ok("start", "keep1")
    assert "inet 10.79.0.2/24" in ne.ok("exec", "keep1", "ip", "addr", "show", "eth0")
    ne.ok("restart", "-t", "1", "keep1")
    assert "inet 10.79.0.2/24" in ne.ok("exec", "keep1", "ip", "addr", "show", "eth0")
    assert ne.inspect("keep1")["NetworkSettings"]["Networks"]["keepnet"]["IPAddress"] == \
        "10.79.0.2"


def test_network_none_and_host(ne):
    ne.sh("ip link add isolatestd0 type veth peer name isolatestd1")
    out = ne.ok("run", "-d", "--name", "nonet", "--network", "none", IMAGE, "sleep", "100")
    assert out.strip()
    links = ne.ok("exec", "nonet", "ls", "/sys/class/net").split()
    assert links == ["lo"]
    ne.ok("run", "-d", "--name", "hostnet", "--network", "host", IMAGE, "sleep", "100")
    assert "isolatestd0" in ne.ok("exec", "hostnet", "ls", "/sys/class/net").split()
    with open("/etc/hosts") as f:
        assert ne.ok("exec", "hostnet", "cat", "/etc/hosts").startswith(f.read().rstrip("\n"))
    assert ne.netns_files() == []
    assert ne.inspect("nonet")["NetworkSettings"]["Networks"]["none"]["IPAddress"] == ""


def test_rm_leaves_no_veth_no_claim_no_netns(ne):
    before = ne.links()
    ne.ok("network", "create", "--subnet", "10.78.0.0/24", "rmnet")
    bridge_links = ne.links()
    ne.ok("run", "-d", "--name", "gone1", "--network", "rmnet", IMAGE, "sleep", "100")
    assert len(ne.links() - bridge_links) == 1  # the veth's host end
    p = ne("network", "rm", "rmnet")
    assert p.returncode != 0 and "in use" in p.stderr, p.stderr
    ne.ok("rm", "-f", "gone1")
    assert ne.links() == bridge_links
    assert ne.netns_files() == []
    # no address claim left: the network can go
    ne.ok("network", "rm", "rmnet")
    assert ne.links() == before


def test_default_network_is_bridge_and_killed_monitor_then_rm_f(ne, tmp_root):
    ne.ok("run", "-d", "--name", "km1", IMAGE, "sleep", "100")
    st = ne.inspect("km1")
    addr = st["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    assert addr.startswith("172.17."), st["NetworkSettings"]
    assert "isola0" in ne.links()
    ne.sh(f"busybox ping -c 1 -W 2 {addr}")
    links = ne.links()
    (mpid,) = ne.monitors()
    os.kill(mpid, signal.SIGKILL)
    end = time.monotonic() + 30
    while time.monotonic() < end and os.path.exists(f"/proc/{mpid}"):
        time.sleep(0.1)
    ne.ok("rm", "-f", "km1")
    assert ne.links() == links - {link for link in links if link.startswith("iv")}
    assert not any(link.startswith("iv") for link in ne.links())
    assert ne.netns_files() == []
    assert mounts_below(tmp_root) == []


HOST_IP, OUTSIDE_IP = "198.51.100.1", "198.51.100.2"
HTTP_GET = "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 {} {}"


def test_published_port_answers_from_outside_loopback_and_host_address(ne):
    out = f"isola-nro-{uuid.uuid4().hex[:8]}"
    run(["ip", "netns", "add", out], timeout=10, check=True)
    try:
        tag = out[-8:]
        ne.sh(f"ip link add vo{tag} type veth peer name eth0 netns {out} && "
              f"ip addr add {HOST_IP}/24 dev vo{tag} && ip link set vo{tag} up")
        run(["ip", "netns", "exec", out, "sh", "-c",
             f"ip addr add {OUTSIDE_IP}/24 dev eth0 && ip link set eth0 up && ip link set lo up"],
            timeout=10, check=True)
        cid = ne.ok("run", "-d", "--name", "pub1", "-p", "8080:80", "-p", "90/udp", IMAGE, "sh",
                    "-c", "echo hi-published > /tmp/index.html; httpd -f -p 80 -h /tmp").strip()
        ports = ne.inspect("pub1")["NetworkSettings"]["Ports"]
        assert ports["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "8080"}], ports
        assert int(ports["90/udp"][0]["HostPort"]) > 0, ports
        udp = ports["90/udp"][0]["HostPort"]
        assert ne.ok("port", "pub1") == f"80/tcp -> 0.0.0.0:8080\n90/udp -> 0.0.0.0:{udp}\n"
        assert ne.ok("port", "pub1", "80") == "0.0.0.0:8080\n"
        row = json.loads(ne.ok("ps", "--format", "json").splitlines()[0])
        assert row["Ports"] == f"0.0.0.0:8080->80/tcp, 0.0.0.0:{udp}->90/udp", row
        for addr in ("127.0.0.1", HOST_IP):
            p = ne.sh(HTTP_GET.format(addr, 8080), check=False)
            assert "hi-published" in p.stdout, (addr, p.stdout, p.stderr)
        p = run(["ip", "netns", "exec", out, "sh", "-c", HTTP_GET.format(HOST_IP, 8080)],
                timeout=20)
        assert "hi-published" in p.stdout, (p.stdout, p.stderr)
        assert "8080" in ne.sh("nft list ruleset").stdout
        ne.ok("rm", "-f", cid)
        rules = ne.sh("nft list ruleset").stdout
        assert "8080" not in rules and "172.17.0.2" not in rules
        # its claims went with it: the same host port can be published again
        ne.ok("run", "-d", "--name", "pub2", "-p", "8080:80", IMAGE, "sleep", "100")
    finally:
        run(["ip", "netns", "del", out], timeout=10)


def test_publish_all_and_port_ranges(ne, tmp_root):
    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {IMAGE}\nEXPOSE 80 90/udp\n")
    ne.ok("build", "-t", "netbbx", ctx, timeout=300)
    ne.ok("run", "-d", "--name", "pall", "-P", "netbbx", "sh", "-c",
          "echo hi-published > /tmp/index.html; httpd -f -p 80 -h /tmp")
    ne.ok("run", "-d", "--name", "prange", "-p", "127.0.0.1:9100-9101:80-81", IMAGE, "sleep",
          "100")
    assert ne.ok("port", "prange") == "80/tcp -> 127.0.0.1:9100\n81/tcp -> 127.0.0.1:9101\n"
    p = ne("run", "-d", "--name", "pbad", "-p", "9200-9202:80-81", IMAGE, "true")
    assert p.returncode == 125 and "ranges differ" in p.stderr, p.stderr
    ports = ne.inspect("pall")["NetworkSettings"]["Ports"]
    assert sorted(ports) == ["80/tcp", "90/udp"], ports
    hp = ports["80/tcp"][0]["HostPort"]
    assert int(hp) > 0 and int(ports["90/udp"][0]["HostPort"]) > 0
    assert "hi-published" in ne.sh(HTTP_GET.format("127.0.0.1", hp), check=False).stdout
    ne.ok("rm", "-f", "pall")
    assert hp not in ne.sh("nft list ruleset").stdout


def test_host_port_in_use_is_a_clear_error_and_leaves_nothing(ne):
    import subprocess
    srv = subprocess.Popen(["nsenter", f"--net=/run/netns/{ne.ns}", "busybox", "nc", "-l", "-p",
                            "8181"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end and ":1FF5 " not in ne.sh("cat /proc/net/tcp").stdout:
            time.sleep(0.1)
        links = ne.links()
        p = ne("run", "-d", "--name", "busy1", "-p", "8181:80", IMAGE, "sleep", "100")
        assert p.returncode == 125, p
        assert "8181" in p.stderr and "Address already in use" in p.stderr, p.stderr
        assert ne("inspect", "busy1").returncode != 0
        assert not any(link.startswith("iv") for link in ne.links() - links)
        assert ne.netns_files() == []
        rund = os.path.join(ne.env["ISOLA_RUN_DIR"], "c")
        assert not os.path.isdir(rund) or os.listdir(rund) == []
        assert "8181" not in ne.sh("nft list ruleset 2>/dev/null", check=False).stdout
    finally:
        srv.kill()
        srv.wait(timeout=10)


def test_compared_with_podman(ne, rootfs_template, tmp_path_factory):
    """podman (private config, its own test namespace, peers.py) on the same
    image: the same exit codes, the same links for none, and an /etc/hosts of
    the same shape (localhost, then the container's address and name)."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        pytest.skip("podman or runc is not installed (scripts/install-deps.sh)")
    from peers import Podman

    root = str(tmp_path_factory.mktemp("podman-netrun"))
    pm = Podman(root, "runc", tag=(os.getpid() + 37) % 10000)
    try:
        pm.import_rootfs(rootfs_template, IMAGE)
        # --network none: lo only, in both
        p = pm("run", "--rm", "--network", "none", IMAGE, "ls", "/sys/class/net")
        assert p.returncode == 0, p.stderr
        ne.ok("run", "-d", "--name", "cmpnone", "--network", "none", IMAGE, "sleep", "100")
        assert ne.ok("exec", "cmpnone", "ls", "/sys/class/net").split() == p.stdout.split()
        # an unknown network: 125 in both
        assert pm("run", "--rm", "--network", "nosuchnet", IMAGE, "true").returncode == 125
        assert ne("run", "-d", "--network", "nosuchnet", IMAGE, "true").returncode == 125
        # /etc/hosts: localhost first, the container's address with its name
        p = pm("run", "--rm", "--name", "cmphosts", IMAGE, "sh", "-c",
               "cat /etc/hosts; ip -4 -o addr show eth0")
        assert p.returncode == 0, p.stderr
        paddr = p.stdout.split("inet ")[1].split("/")[0]
        plines = [line.split() for line in p.stdout.splitlines() if line and line[0] != "#"]
        ne.ok("run", "-d", "--name", "cmphosts", IMAGE, "sleep", "100")
        iaddr = ne.inspect("cmphosts")["NetworkSettings"]["IPAddress"]
        ilines = [line.split() for line in ne.ok("exec", "cmphosts", "cat",
                                                 "/etc/hosts").splitlines()]
        for lines, addr in ((plines, paddr), (ilines, iaddr)):
            assert any(w[0] == "127.0.0.1" and "localhost" in w[1:] for w in lines), lines
            assert any(w[0] == addr and "cmphosts" in w[1:] for w in lines), (addr, lines)
    finally:
        pm.close()
