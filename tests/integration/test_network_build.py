"""`isola build --network default|bridge|none|host|NAME` (docs/networks.md,
"Builds"): RUN steps run in a network namespace of their own, wired like a
container's, on the default network unless told otherwise (as `docker
build`); none: lo only; host: the host's.

Every test runs isola inside a network namespace it creates (NetEngine of
test_network_run.py: it plays the host); traffic goes only to addresses in
it. Every command is bounded in time; containers and the namespace are
removed in every outcome.
"""
import os
import shutil

import pytest

from test_network_run import IMAGE, ne  # noqa: F401 (fixture)

STEPS = ("RUN ls /sys/class/net > /links; "
         "(ip -4 -o addr show eth0 || true) > /addr; cat /etc/hosts > /hosts\n")


def build(ne, tmp_root, tag, *args, steps=STEPS):
    ctx = os.path.join(tmp_root, f"ctx-{tag}")
    os.makedirs(ctx, exist_ok=True)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {IMAGE}\n{steps}")
    return ne("build", "--no-cache", "-t", tag, *args, ctx, timeout=300)


def cat(ne, tag, path):
    return ne.ok("run", "--rm", "--network", "none", tag, "cat", path)


def nothing_left(ne):
    assert not any(link.startswith("iv") for link in ne.links())
    assert ne.netns_files() == []
    assert ne.ok("ps", "-a", "--format", "{{.Names}}") == ""


def test_build_default_none_host_and_user_network(ne, tmp_root):
    ne.sh("ip link add isolabt0 type veth peer name isolabt1")
    # the default: the default network, eth0 and lo only
    p = build(ne, tmp_root, "b-default")
    assert p.returncode == 0, p.stderr
    assert cat(ne, "b-default", "/links").split() == ["eth0", "lo"]
    assert " 172.17.0." in cat(ne, "b-default", "/addr")
    assert "isola0" in ne.links()
    nothing_left(ne)
    assert build(ne, tmp_root, "b-default2", "--network", "default").returncode == 0
    assert cat(ne, "b-default2", "/links").split() == ["eth0", "lo"]
    # none: lo only
    p = build(ne, tmp_root, "b-none", "--network", "none")
    assert p.returncode == 0, p.stderr
    assert cat(ne, "b-none", "/links").split() == ["lo"]
    # host: the host's links
    p = build(ne, tmp_root, "b-host", "--network", "host")
    assert p.returncode == 0, p.stderr
    assert "isolabt0" in cat(ne, "b-host", "/links").split()
    # a user network: its subnet, and its members by name
    ne.ok("network", "create", "--subnet", "10.88.0.0/24", "bnet")
    ne.ok("run", "-d", "--name", "bweb", "--network", "bnet", IMAGE, "sh", "-c",
          "echo hi-build > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
    p = build(ne, tmp_root, "b-user", "--network", "bnet",
              steps="RUN ip -4 -o addr show eth0 > /addr; printf 'GET /index.html "
                    "HTTP/1.0\\r\\n\\r\\n' | nc -w 3 bweb 80 > /got\n")
    assert p.returncode == 0, p.stderr
    assert " 10.88.0." in cat(ne, "b-user", "/addr")
    assert "hi-build" in cat(ne, "b-user", "/got")
    ne.ok("rm", "-f", "bweb")
    nothing_left(ne)
    ne.ok("network", "rm", "bnet")


def test_build_on_an_unknown_network_fails_and_leaves_nothing(ne, tmp_root):
    links = ne.links()
    p = build(ne, tmp_root, "b-bad", "--network", "nosuchnet")
    assert p.returncode == 1 and "nosuchnet" in p.stderr, p.stderr
    assert ne.links() == links
    nothing_left(ne)
    assert ne("image", "inspect", "b-bad").returncode != 0


def test_build_none_compared_with_podman(ne, rootfs_template, tmp_root, tmp_path_factory):
    """podman build --network none (private config, its own namespace,
    peers.py) on the same Dockerfile: lo only in both."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        pytest.skip("podman or runc is not installed (scripts/install-deps.sh)")
    from peers import Podman

    root = str(tmp_path_factory.mktemp("podman-netbuild"))
    pm = Podman(root, "runc", tag=(os.getpid() + 43) % 10000)
    try:
        pm.import_rootfs(rootfs_template, IMAGE)
        ctx = os.path.join(tmp_root, "ctx-pm")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(f"FROM {IMAGE}\nRUN ls /sys/class/net > /links\n")
        p = pm("build", "--runtime", "runc", "--network", "none", "-t", "pm-none", ctx)
        assert p.returncode == 0, p.stderr
        p = pm("run", "--rm", "--network", "none", "pm-none", "cat", "/links")
        assert p.returncode == 0, p.stderr
        assert build(ne, tmp_root, "b-cmp", "--network", "none").returncode == 0
        assert cat(ne, "b-cmp", "/links").split() == p.stdout.split()
    finally:
        pm.close()
