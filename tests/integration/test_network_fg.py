"""The foreground `isola run` on networks (docs/networks.md, "The foreground
run"): the default network `bridge`, --network NAME, --ip, -p, and nothing
left once it ends, however it ends (exit, a signal to the CLI, kill -9 of the
CLI: then the next run or `network prune` collects what it left).

Every test runs isola inside a network namespace it creates (NetEngine of
test_network_run.py: it plays the host); traffic goes only to addresses in
it. Every command is bounded in time; what a test starts is killed by pid.
"""
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import mounts_below, run
from test_network_run import HTTP_GET, IMAGE, ne  # noqa: F401 (fixture)


def fg(ne, *args):
    """A foreground `isola run` in the test's namespace, in the background
    of the test (a process of its own: signals go to it alone)."""
    return subprocess.Popen(["nsenter", f"--net=/run/netns/{ne.ns}", ne.isola, "run", *args],
                            env=ne.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_until(cond, what, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def descendants(pid):
    """pid's children, grandchildren, ... (/proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(k) for k in f.read().split()]
                out += kids
                todo += kids
        except OSError:
            pass
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def veths(ne):
    return {link for link in ne.links() if link.startswith("iv")}


def ps_names(ne):
    return ne.ok("ps", "-a", "--format", "{{.Names}}").split()


def stop(ne, p):
    """Kill our CLI if it still runs; the next foreground run collects what
    a killed one left (its bundle and overlay, its row and network)."""
    if p.poll() is None:
        p.kill()
        p.communicate(timeout=30)
        ne("run", "--rm", "--network", "none", IMAGE, "true")


def assert_nothing_left(ne, tmp_root, port=None, bundles=True):
    assert veths(ne) == set()
    assert ne.netns_files() == []
    assert ps_names(ne) == []
    rund = os.path.join(ne.env["ISOLA_RUN_DIR"], "c")
    assert not os.path.isdir(rund) or os.listdir(rund) == []
    if port:
        assert str(port) not in ne.sh("nft list ruleset").stdout
    if bundles:  # its overlay: the next foreground run collects it (rundir.c)
        assert mounts_below(os.path.join(tmp_root, "run")) == []


def test_default_network_is_bridge_and_nothing_stays(ne, tmp_root):
    p = ne("run", "--name", "fg1", IMAGE, "sh", "-c",
           "ls /sys/class/net; ip -4 -o addr show eth0; ip route; cat /etc/hosts")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:2] == ["eth0", "lo"], lines
    addr = lines[2].split("inet ")[1].split("/")[0]
    assert addr.startswith("172.17."), lines
    assert "default via 172.17.0.1 dev eth0" in p.stdout
    # its name and hostname (isola run's default: isola) in its /etc/hosts
    assert f"{addr}\tisola fg1" in p.stdout, p.stdout
    assert "isola0" in ne.links()
    assert_nothing_left(ne, tmp_root)


def test_user_network_ip_publish_and_sigterm_to_the_cli(ne, tmp_root):
    ne.ok("network", "create", "--subnet", "10.81.0.0/24", "fgnet")
    srv = fg(ne, "--name", "fgweb", "--network", "fgnet", "--ip", "10.81.0.5", "-p", "8085:80",
             IMAGE, "sh", "-c", "echo hi-fg > /tmp/index.html; httpd -p 80 -h /tmp; "
             "trap 'exit 7' TERM; while :; do sleep 0.2; done")
    try:
        wait_until(lambda: "hi-fg" in ne.sh(HTTP_GET.format("127.0.0.1", 8085),
                                             check=False).stdout, "the published port")
        row = [r for r in ne.ok("ps", "--format", "{{.Names}} {{.Ports}}").splitlines()]
        assert row == ["fgweb 0.0.0.0:8085->80/tcp"], row
        # a container of the engine's on the same network reaches it by name
        ne.ok("run", "-d", "--name", "peer", "--network", "fgnet", IMAGE, "sleep", "100")
        p = ne("exec", "peer", "sh", "-c",
               "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 fgweb 80")
        assert "hi-fg" in p.stdout, (p.stdout, p.stderr)
        assert "10.81.0.5\tfgweb" in ne.ok("exec", "peer", "cat", "/etc/hosts")
        # SIGTERM to the CLI goes to the container; then everything goes
        srv.send_signal(signal.SIGTERM)
        srv.communicate(timeout=30)
        assert srv.returncode == 7, srv.returncode
    finally:
        stop(ne, srv)
    assert ps_names(ne) == ["peer"]
    assert len(veths(ne)) == 1  # the peer's
    assert "8085" not in ne.sh("nft list ruleset").stdout
    assert "fgweb" not in ne.ok("exec", "peer", "cat", "/etc/hosts")
    # its address and host port are free again
    ne.ok("rm", "-f", "peer")
    ne.ok("run", "-d", "--name", "again", "--network", "fgnet", "--ip", "10.81.0.5", "-p",
          "8085:80", IMAGE, "sleep", "100")
    ne.ok("rm", "-f", "again")
    ne.ok("network", "rm", "fgnet")
    assert_nothing_left(ne, tmp_root, 8085)


def test_kill9_of_the_cli_is_collected_by_prune_and_by_the_next_run(ne, tmp_root):
    for collector in ("prune", "run"):
        cli = fg(ne, "--name", f"fgk{collector}", "-p", "8086:80", IMAGE, "sleep", "100")
        try:
            wait_until(lambda: f"fgk{collector}" in ps_names(ne), "the row")
            wait_until(lambda: any(p for p in descendants(cli.pid) if alive(p)), "the workload")
            kids = descendants(cli.pid)
            assert len(veths(ne)) == 1
            cli.send_signal(signal.SIGKILL)
            cli.communicate(timeout=30)
        finally:
            stop(ne, cli)
        # the container dies with its CLI
        wait_until(lambda: not any(alive(k) for k in kids), "the container's processes")
        # what the CLI made stays until a command collects it
        assert len(veths(ne)) == 1 and len(ne.netns_files()) == 1
        if collector == "prune":
            ne.ok("network", "prune", "-f")
        else:
            p = ne("run", "--rm", IMAGE, "true")
            assert p.returncode == 0, p.stderr
        assert_nothing_left(ne, tmp_root, 8086, bundles=collector == "run")


def test_none_host_and_bad_input(ne, tmp_root):
    p = ne("run", "--network", "none", IMAGE, "ls", "/sys/class/net")
    assert (p.returncode, p.stdout) == (0, "lo\n"), p.stderr
    assert "isola0" not in ne.links()  # none needs no network of the engine's
    ne.sh("ip link add isolafgt0 type veth peer name isolafgt1")
    p = ne("run", "--network", "host", IMAGE, "ls", "/sys/class/net")
    assert p.returncode == 0 and "isolafgt0" in p.stdout.split(), (p.stdout, p.stderr)
    # an unknown network, an address taken, -p without a network: 125, nothing left
    p = ne("run", "--network", "nosuchnet", IMAGE, "true")
    assert p.returncode == 125 and "nosuchnet" in p.stderr, p.stderr
    assert_nothing_left(ne, tmp_root)
    ne.ok("network", "create", "--subnet", "10.82.0.0/24", "fgbad")
    ne.ok("run", "-d", "--name", "holder", "--network", "fgbad", "--ip", "10.82.0.7", IMAGE,
          "sleep", "100")
    links = ne.links()
    p = ne("run", "--network", "fgbad", "--ip", "10.82.0.7", IMAGE, "true")
    assert p.returncode == 125 and "10.82.0.7" in p.stderr, p.stderr
    assert ne.links() == links and ps_names(ne) == ["holder"]
    p = ne("run", "--network", "none", "-p", "80", IMAGE, "true")
    assert p.returncode == 125 and "needs a network" in p.stderr, p.stderr


def test_compared_with_podman(ne, rootfs_template, tmp_path_factory):
    """podman's foreground run (private config, its own test namespace,
    peers.py) on the same image: the same links on the default network and
    on none, 125 for an unknown network."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        pytest.skip("podman or runc is not installed (scripts/install-deps.sh)")
    from peers import Podman

    root = str(tmp_path_factory.mktemp("podman-netfg"))
    pm = Podman(root, "runc", tag=(os.getpid() + 41) % 10000)
    try:
        pm.import_rootfs(rootfs_template, IMAGE)
        for net in ([], ["--network", "none"]):
            p = pm("run", "--rm", *net, IMAGE, "ls", "/sys/class/net")
            assert p.returncode == 0, p.stderr
            i = ne("run", *net, IMAGE, "ls", "/sys/class/net")
            assert i.returncode == 0, i.stderr
            assert i.stdout.split() == p.stdout.split(), (net, i.stdout, p.stdout)
        assert pm("run", "--rm", "--network", "nosuchnet", IMAGE, "true").returncode == 125
        assert ne("run", "--network", "nosuchnet", IMAGE, "true").returncode == 125
    finally:
        pm.close()
