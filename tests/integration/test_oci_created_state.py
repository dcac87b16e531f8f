"""The created state (issue 11, "Blocking").

`create` returns only once the container is created: `state` says "created"
and `start` works, every time. Hooks get the status runc gives them for their
kind (same bundle, compared). `delete --force` in every state leaves no process,
no cgroup directory and no state directory.
"""
import copy
import json
import os
import signal
import subprocess
import time

import pytest

from oci_peer_run import PeerRuntime

KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]


def test_create_then_state_is_created_every_time(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sh", "-c", "true"]
    # a hook that reads its stdin slowly: create must still return only when created
    cfg["hooks"] = {"createRuntime": [{"path": "/bin/sh",
                                       "args": ["sh", "-c", "sleep 0.05; cat >/dev/null"]}]}
    oci.write(cfg)
    for i in range(50):
        cid = oci.new_id()
        p = oci.detached("create", "--bundle", oci.bundle, cid)
        assert p.returncode == 0, p.stderr
        st = oci.state(cid)
        assert st["status"] == "created", f"round {i}: {st}"
        assert st["pid"] > 0
        p = oci.cmd("start", cid)
        assert p.returncode == 0, f"round {i}: {p.stderr}"
        p = oci.cmd("delete", "--force", cid)
        assert p.returncode == 0, p.stderr
        assert not oci.leftovers(cid)


def hook_config(oci, outdir, rootfs):
    cfg = copy.deepcopy(oci.config)
    cfg["ociVersion"] = "1.0.2"
    cfg["root"]["path"] = rootfs
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]
    cfg["process"]["args"] = ["sh", "-c", "true"]
    hooks = {}
    for kind in KINDS:
        # startContainer runs in the container (its path resolved there): write
        # below the rootfs's / then; the others see the host's paths (createContainer
        # runs in the container's mount namespace before pivot_root).
        dest = f"/{kind}.json" if kind == "startContainer" else os.path.join(outdir, f"{kind}.json")
        hooks[kind] = [{"path": "/bin/sh", "args": ["sh", "-c", f"cat > {dest}"]}]
    cfg["hooks"] = hooks
    return cfg


def read_statuses(outdir, rootfs):
    got = {}
    for kind in KINDS:
        path = (os.path.join(rootfs, f"{kind}.json") if kind == "startContainer"
                else os.path.join(outdir, f"{kind}.json"))
        try:
            with open(path) as f:
                got[kind] = json.load(f)["status"]
            os.unlink(path)
        except FileNotFoundError:
            got[kind] = None
    return got


def test_hooks_get_the_peers_status_for_each_kind(oci, tmp_root):
    """Where runc and crun agree, isola-oci gives the same status; where they
    differ, one of theirs. Seen here: prestart, createRuntime, createContainer:
    runc "creating" (they run as part of create: state.md "creating"), crun
    "created"; startContainer: runc "created", crun "starting" (not a spec
    state); poststart: runc "created", crun "running". isola-oci: creating,
    created, running."""
    rootfs = os.path.realpath(os.path.join(oci.bundle, "rootfs"))
    seen = {}
    for name in ("isola-oci", "runc", "crun"):
        outdir = os.path.join(tmp_root, f"hooks-{name}")
        os.makedirs(outdir)
        oci.write(hook_config(oci, outdir, rootfs))
        cid = f"{oci.prefix}-{name}"
        if name == "isola-oci":
            oci.ids.append(cid)
            p = oci.detached("create", "--bundle", oci.bundle, cid)
            assert p.returncode == 0, p.stderr
            p = oci.cmd("start", cid)
            assert p.returncode == 0, p.stderr
            oci.cmd("delete", "--force", cid)
        else:
            peer = PeerRuntime(name, os.path.join(tmp_root, name))
            try:
                peer.ids.append(cid)
                p = peer.detached("create", "--bundle", oci.bundle, cid)
                assert p.returncode == 0, p.stderr
                p = peer.cmd("start", cid)
                assert p.returncode == 0, p.stderr
            finally:
                peer.cleanup()
        seen[name] = read_statuses(outdir, rootfs)
    for kind in KINDS:
        peers = {seen["runc"][kind], seen["crun"][kind]}
        assert None not in peers, (kind, seen)
        assert seen["isola-oci"][kind] in peers, (kind, seen)
    assert seen["isola-oci"]["startContainer"] == "created"


def pids_in(oci, cid):
    """Every pid of the container's cgroups (v1 hierarchies of this host)."""
    pids = set()
    for h in ("pids", "memory", "cpu", "freezer", "devices", "systemd"):
        p = os.path.join("/sys/fs/cgroup", h, "isola", cid, "cgroup.procs")
        try:
            with open(p) as f:
                pids |= {int(x) for x in f.read().split()}
        except FileNotFoundError:
            pass
    return pids


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def make_in_state(oci, state):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sh", "-c", "true" if state == "stopped" else "sleep 600"]
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.detached("create", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    if state != "created":
        assert oci.cmd("start", cid).returncode == 0
    if state == "paused":
        p = oci.cmd("pause", cid)
        assert p.returncode == 0, p.stderr
    if state == "stopped":
        end = time.monotonic() + 30
        while oci.state(cid)["status"] != "stopped" and time.monotonic() < end:
            time.sleep(0.05)
    assert oci.state(cid)["status"] == state
    return cid


@pytest.mark.parametrize("state", ["created", "running", "paused", "stopped"])
def test_delete_force_leaves_nothing(oci, state):
    cid = make_in_state(oci, state)
    pid = oci.state(cid)["pid"]
    procs = pids_in(oci, cid) | ({pid} if pid else set())
    p = oci.cmd("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    assert [x for x in procs if alive(x)] == []
    assert oci.leftovers(cid) == []
    assert oci.cmd("state", cid).returncode != 0


def test_delete_force_while_creating(oci, tmp_root):
    """A create stopped in a createRuntime hook: `state` says creating, and
    `delete --force` ends the create (runtime, init, hook) and leaves nothing."""
    cfg = copy.deepcopy(oci.config)
    marker = os.path.join(tmp_root, "in-hook")
    cfg["hooks"] = {"createRuntime": [{"path": "/bin/sh",
                                       "args": ["sh", "-c", f"echo $$ > {marker}.tmp; "
                                                f"mv {marker}.tmp {marker}; exec sleep 600"]}]}
    oci.write(cfg)
    cid = oci.new_id()
    creator = subprocess.Popen([oci.exe, "--root", oci.root, "create", "--bundle", oci.bundle,
                                cid], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        end = time.monotonic() + 30
        while not os.path.exists(marker) and time.monotonic() < end:
            time.sleep(0.05)
        assert os.path.exists(marker), "the createRuntime hook never ran"
        st = oci.state(cid)
        assert st["status"] == "creating"
        with open(marker) as f:
            hook_pid = int(f.read())
        procs = pids_in(oci, cid) | {st["pid"], hook_pid}
        p = oci.cmd("delete", "--force", cid)
        assert p.returncode == 0, p.stderr
        creator.wait(timeout=30)
        assert creator.returncode != 0
        assert [x for x in procs if alive(x)] == []
        assert oci.leftovers(cid) == []
    finally:
        if creator.poll() is None:
            os.killpg(creator.pid, signal.SIGKILL)
            creator.wait()


def test_killed_create_is_stopped_and_deletable(oci, tmp_root):
    """A create killed in a createRuntime hook never finishes: `state` says
    stopped (not a "creating" nothing can act on), and a plain delete removes
    it; the init and the hook died with the create."""
    cfg = copy.deepcopy(oci.config)
    marker = os.path.join(tmp_root, "in-hook")
    cfg["hooks"] = {"createRuntime": [{"path": "/bin/sh",
                                       "args": ["sh", "-c", f"echo $$ > {marker}.tmp; "
                                                f"mv {marker}.tmp {marker}; exec sleep 600"]}]}
    oci.write(cfg)
    cid = oci.new_id()
    creator = subprocess.Popen([oci.exe, "--root", oci.root, "create", "--bundle", oci.bundle,
                                cid], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        end = time.monotonic() + 30
        while not os.path.exists(marker) and time.monotonic() < end:
            time.sleep(0.05)
        assert os.path.exists(marker), "the createRuntime hook never ran"
        st = oci.state(cid)
        assert st["status"] == "creating"
        with open(marker) as f:
            hook_pid = int(f.read())
        procs = pids_in(oci, cid) | {st["pid"], hook_pid}
        creator.kill()
        creator.wait(timeout=30)
        end = time.monotonic() + 30
        while any(alive(x) for x in procs) and time.monotonic() < end:
            time.sleep(0.05)
        assert [x for x in procs if alive(x)] == []
        assert oci.state(cid)["status"] == "stopped"
        p = oci.cmd("delete", cid)
        assert p.returncode == 0, p.stderr
        assert oci.leftovers(cid) == []
    finally:
        if creator.poll() is None:
            os.killpg(creator.pid, signal.SIGKILL)
            creator.wait()
