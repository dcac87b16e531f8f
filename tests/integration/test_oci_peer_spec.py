"""The peers' own default configs run with isola-oci (issue 11, "Blocking").

`runc spec` and `crun spec` put CAP_AUDIT_WRITE, CAP_KILL and
CAP_NET_BIND_SERVICE in the ambient set but not in the inheritable set, which
the kernel requires for an ambient capability (capabilities(7)). runc and crun
raise what the kernel allows and go on; so must isola-oci, with the same
capability sets in the container.
"""
import json
import os
import subprocess

import pytest

from oci_peer_run import PeerRuntime

PROBE = ["sh", "-c", "grep ^Cap /proc/self/status"]


def peer_spec(generator, bundle):
    """config.json as `GENERATOR spec` writes it, adjusted to run PROBE without a tty."""
    p = subprocess.run([generator, "spec"], cwd=bundle, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = PROBE
    # runc refuses a rootfs that is a symlink (the fixture's bundle/rootfs is one)
    cfg["root"]["path"] = os.path.realpath(os.path.join(bundle, "rootfs"))
    # crun needs the v2 tree for a cgroup namespace; runc spec has none either
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]
    with open(path, "w") as f:
        json.dump(cfg, f)
    return cfg


def cap_lines(out):
    return sorted(line for line in out.splitlines() if line.startswith("Cap"))


@pytest.mark.parametrize("generator", ["runc", "crun"])
def test_peer_default_spec_runs_with_the_peers_capabilities(oci, tmp_root, generator):
    cfg = peer_spec(generator, oci.bundle)
    assert cfg["process"]["capabilities"]["ambient"], "the generated spec has no ambient set"
    assert not cfg["process"]["capabilities"].get("inheritable")

    cid = oci.new_id()
    p = oci.cmd("run", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, f"isola-oci refused `{generator} spec`: {p.stderr}"
    mine = cap_lines(p.stdout)
    assert len(mine) == 5, p.stdout

    for peer_name in ("runc", "crun"):
        peer = PeerRuntime(peer_name, os.path.join(tmp_root, f"state-{peer_name}"))
        try:
            q = peer.run(oci.bundle, f"{cid}-{peer_name}")
            assert q.returncode == 0, f"{peer_name}: {q.stderr}"
            assert mine == cap_lines(q.stdout), f"isola-oci vs {peer_name}"
        finally:
            peer.cleanup()
