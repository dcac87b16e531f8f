"""Seccomp user notification with a real agent (issue 11, "Blocking").

runtime-spec config-linux.md "Seccomp": with `listenerPath`, the runtime
connects to the agent's unix socket and sends the notify fd with SCM_RIGHTS and
the containerProcessState (runtime.md): {ociVersion, fds: ["seccompFd"], pid,
metadata, state}. The agent (seccomp_agent.py, its own process) answers `mkdir`
with an errno of its choice, and the container must see that answer, for
`run`, `run --detach` and `create` + `start`.
"""
import copy
import errno
import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = ("mkdir /nt-made 2>/mkdir.err && echo made > /result || echo failed > /result; "
          "cat /mkdir.err >> /result; test -d /nt-made && echo exists >> /result; "
          "echo done >> /result")


class Agent:
    def __init__(self, path, answer, timeout=60):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "seccomp_agent.py"), path,
                                   str(answer), str(timeout)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.p.stderr.readline().strip() == "ready"

    def finish(self, timeout=60):
        try:
            out, err = self.p.communicate(timeout=timeout)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
        lines = out.splitlines()
        assert lines, f"the agent got no message (stderr: {err})"
        return json.loads(lines[0]), lines[1:]

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def notify_config(oci, sock, nnp=True):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sh", "-c", SCRIPT]
    cfg["process"]["noNewPrivileges"] = nnp
    if not nnp:
        for s in ("bounding", "effective", "permitted"):
            cfg["process"]["capabilities"][s] = cfg["process"]["capabilities"][s] + ["CAP_SYS_ADMIN"]
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": sock,
        "listenerMetadata": "agent-meta",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
    return cfg


def wait_stopped(oci, cid, bound=60):
    end = time.monotonic() + bound
    while time.monotonic() < end:
        if oci.state(cid)["status"] == "stopped":
            return
        time.sleep(0.1)
    pytest.fail(f"container {cid} still not stopped after {bound}s")


def result(oci):
    with open(os.path.join(oci.bundle, "rootfs", "result")) as f:
        return f.read()


def check_message(msg, cid):
    m = msg["msg"]
    assert msg["nfds"] == 1
    assert m["fds"] == ["seccompFd"]
    assert m["metadata"] == "agent-meta"
    assert m["ociVersion"]
    assert m["state"]["id"] == cid
    assert m["pid"] > 0 and m["state"]["pid"] == m["pid"]
    assert m["state"]["status"] in ("creating", "created", "running")


@pytest.mark.parametrize("mode", ["run", "run-detach", "create-start"])
@pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])
def test_agent_answers_mkdir(oci, tmp_root, mode, nnp):
    sock = os.path.join(tmp_root, "agent.sock")
    agent = Agent(sock, errno.EXDEV)
    try:
        oci.write(notify_config(oci, sock, nnp))
        cid = oci.new_id()
        if mode == "run":
            p = oci.cmd("run", "--bundle", oci.bundle, cid, timeout=60)
        elif mode == "run-detach":
            p = oci.detached("run", "--detach", "--bundle", oci.bundle, cid, timeout=60)
        else:
            p = oci.detached("create", "--bundle", oci.bundle, cid, timeout=60)
            assert p.returncode == 0, p.stderr
            p = oci.cmd("start", cid, timeout=60)
        assert p.returncode == 0, p.stderr
        msg, answered = agent.finish()
        if mode != "run":
            wait_stopped(oci, cid)
    finally:
        agent.kill()
    check_message(msg, cid)
    out = result(oci)
    assert "failed" in out and os.strerror(errno.EXDEV) in out, out
    assert "exists" not in out and "done" in out
    assert any(a in ("nr=83", "nr=258") for a in answered), answered


def test_agent_success_answer(oci, tmp_root):
    """An answer of 0 makes mkdir succeed without the directory being made."""
    sock = os.path.join(tmp_root, "agent.sock")
    agent = Agent(sock, 0)
    try:
        oci.write(notify_config(oci, sock))
        p = oci.cmd("run", "--bundle", oci.bundle, oci.new_id(), timeout=60)
        assert p.returncode == 0, p.stderr
        agent.finish()
    finally:
        agent.kill()
    out = result(oci)
    assert "made" in out and "exists" not in out and "done" in out, out


def test_peers_send_the_same_message(oci, tmp_root):
    """runc and crun, same bundle and agent: the same message shape, status and answer."""
    from oci_peer_run import PeerRuntime

    cfg = notify_config(oci, os.path.join(tmp_root, "agent.sock"))
    cfg["ociVersion"] = "1.0.2"  # crun 1.8.1 refuses 1.2.0
    cfg["root"]["path"] = os.path.realpath(os.path.join(oci.bundle, "rootfs"))  # runc: no symlink
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]
    oci.write(cfg)
    seen = {}
    for name in ("isola-oci", "runc", "crun"):
        sock = os.path.join(tmp_root, f"agent-{name}.sock")
        cfg["linux"]["seccomp"]["listenerPath"] = sock
        oci.write(cfg)
        for f in ("result", "mkdir.err"):
            if os.path.exists(os.path.join(cfg["root"]["path"], f)):
                os.unlink(os.path.join(cfg["root"]["path"], f))
        agent = Agent(sock, errno.EXDEV)
        peer = None if name == "isola-oci" else PeerRuntime(name, os.path.join(tmp_root, name))
        try:
            cid = f"{oci.prefix}-{name}"
            if peer is None:
                oci.ids.append(cid)
                p = oci.cmd("run", "--bundle", oci.bundle, cid, timeout=60)
            else:
                p = peer.run(oci.bundle, cid, timeout=60)
            assert p.returncode == 0, f"{name}: {p.stderr}"
            msg, _ = agent.finish()
        finally:
            agent.kill()
            if peer is not None:
                peer.cleanup()
        m = msg["msg"]
        seen[name] = (sorted(m), m["fds"], m["metadata"], m["state"]["status"], m["state"]["id"] == cid,
                      m["pid"] == m["state"]["pid"], msg["nfds"],
                      "failed" in result(oci) and os.strerror(errno.EXDEV) in result(oci))
    assert seen["isola-oci"] == seen["runc"] == seen["crun"], seen
