"""VM snapshot and restore (docs/vm.md, "Snapshot and restore") with the tiny
guest of tests/guests/ counting in its memory: `snapshot DIR` on the monitor's
control socket, the monitor killed, `isola vm run --restore DIR` continues the
guest; snapshots that are truncated, corrupt, from another format version,
whose disk changed, restored with less memory, or cut short by kill -9 are
refused with a clear error, leaving nothing behind.

No peer runs here: Firecracker (whose snapshots these follow) is not on this
host, and QEMU's savevm needs a QEMU VM, not this monitor's guest.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from vmhost import GUEST, ISOLA, local_kvm

COUNT = re.compile(r"^isola-guest: count (\d+)$", re.M)

pytestmark = pytest.mark.skipif(
    not local_kvm(),
    reason="SKIPPED LOUDLY: no usable /dev/kvm on this host for the tiny guests "
           "(the snapshot tests run the monitor locally)")


def request(ctl, req, timeout=60):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    try:
        s.connect(ctl)
        s.send(req.encode())
        return s.recv(4096).decode()
    finally:
        s.close()


def wait_for(cond, timeout=30, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def counts(path):
    try:
        with open(path) as f:
            return [int(n) for n in COUNT.findall(f.read())]
    except FileNotFoundError:
        return []


class Monitor:
    """An `isola vm run` of the counting guest with a console file and a
    control socket, killed (SIGKILL) at the end whatever happens."""

    def __init__(self, tmp, tag, args, console=None):
        self.ctl = str(tmp / f"ctl-{tag}")
        self.con = console or str(tmp / f"con-{tag}")
        self.proc = subprocess.Popen(
            [ISOLA, "vm", "run", *args, "--console", f"file={self.con}",
             "--control", self.ctl],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: os.path.exists(self.ctl) or self.proc.poll() is not None,
                 what="the control socket")
        assert self.proc.poll() is None, self.proc.communicate()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        out, err = self.proc.communicate(timeout=30)
        return err


def counting(tmp, tag, *extra, memory="64M"):
    return Monitor(tmp, tag, ["--kernel", GUEST, "--cmdline", "mode=count ticks=20000000",
                              "--memory", memory, *extra])


def restore(snap, tmp, tag, *extra, timeout=60):
    ctl = tmp / f"ctl-{tag}"
    con = tmp / f"con-{tag}"
    p = subprocess.run([ISOLA, "vm", "run", "--restore", str(snap), *extra,
                        "--console", f"file={con}", "--control", str(ctl)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return p, ctl, con


@pytest.fixture
def snapshot(tmp_path):
    """A counting guest snapshotted (left paused) and its monitor killed:
    (snapshot dir, the last count it printed)."""
    m = counting(tmp_path, "orig")
    try:
        wait_for(lambda: len(counts(m.con)) >= 3, what="the guest counting")
        snap = tmp_path / "snap"
        r = request(m.ctl, f"snapshot --leave-paused {snap}")
        assert r == "ok paused", r
        last = counts(m.con)[-1]
    finally:
        m.kill()
    return snap, last


def test_counter_continues_after_restore(snapshot, tmp_path):
    snap, last = snapshot
    assert sorted(os.listdir(snap)) == ["config.json", "header.json", "memory", "state.json"]
    m = Monitor(tmp_path, "restored", ["--restore", str(snap)])
    try:
        wait_for(lambda: len(counts(m.con)) >= 3, what="the restored guest counting")
        assert request(m.ctl, "state") == "ok running"
    finally:
        m.kill()
    with open(m.con) as f:
        lines = f.read().splitlines()
    # the first line may finish one the guest was printing when paused
    after = [int(x) for x in COUNT.findall("\n".join(lines[1:]))]
    assert after, lines
    # it goes on from where it was, not from 1
    assert last < after[0] <= last + 2, (last, lines[:5])
    assert after == list(range(after[0], after[0] + len(after))), after


def test_snapshot_keeps_running_unless_asked(tmp_path):
    m = counting(tmp_path, "run")
    try:
        wait_for(lambda: counts(m.con), what="the guest counting")
        assert request(m.ctl, f"snapshot {tmp_path / 's1'}") == "ok running"
        n = counts(m.con)[-1]
        wait_for(lambda: counts(m.con)[-1] > n, what="the guest counting on")
        assert request(m.ctl, "pause") == "ok paused"
        # a paused VM stays paused
        assert request(m.ctl, f"snapshot {tmp_path / 's2'}") == "ok paused"
        r = request(m.ctl, "snapshot ")
        assert r.startswith("error ") and "directory" in r, r
    finally:
        m.kill()


def break_truncate(snap):
    os.truncate(snap / "memory", os.path.getsize(snap / "memory") // 2)
    return "memory is"


def break_corrupt_state(snap):
    data = bytearray((snap / "state.json").read_bytes())
    i = data.index(b'"regs":"') + 20
    data[i] = ord("0") if data[i] != ord("0") else ord("1")
    (snap / "state.json").write_bytes(bytes(data))
    return "state.json is corrupt"


def break_corrupt_memory(snap):
    with open(snap / "memory", "r+b") as f:
        f.seek(0x9000)
        b = f.read(1)
        f.seek(0x9000)
        f.write(bytes([b[0] ^ 0xff]))
    return "memory is corrupt"


def break_header(snap):
    h = json.loads((snap / "header.json").read_text())
    h["vcpus"] = 2
    (snap / "header.json").write_text(json.dumps(h))
    return "header.json is corrupt"


def break_version(snap):
    h = json.loads((snap / "header.json").read_text())
    h["format_version"] = 99
    (snap / "header.json").write_text(json.dumps(h))
    return "format version 99"


def break_not_json(snap):
    (snap / "header.json").write_text("{garbage")
    return "header.json is corrupt"


@pytest.mark.parametrize("breaker", [break_truncate, break_corrupt_state, break_corrupt_memory,
                                     break_header, break_version, break_not_json])
def test_broken_snapshot_refused(snapshot, tmp_path, breaker):
    snap, _ = snapshot
    expect = breaker(snap)
    p, ctl, con = restore(snap, tmp_path, "bad")
    assert p.returncode == 1, p
    assert expect in p.stderr, p.stderr
    assert str(snap) in p.stderr, p.stderr
    # nothing left behind: no socket, no console file, no monitor
    assert not ctl.exists() and not con.exists()


def test_restore_with_less_memory_refused(snapshot, tmp_path):
    snap, _ = snapshot
    p, ctl, con = restore(snap, tmp_path, "small", "--memory", "32M")
    assert p.returncode == 1, p
    assert "64 MiB" in p.stderr and "32 MiB" in p.stderr, p.stderr
    assert not ctl.exists() and not con.exists()


def test_restore_refused_when_disk_changed(tmp_path):
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\0" * (1 << 20))
    m = counting(tmp_path, "disk", "--disk", str(disk))
    try:
        wait_for(lambda: counts(m.con), what="the guest counting")
        assert request(m.ctl, f"snapshot --leave-paused {tmp_path / 'snap'}") == "ok paused"
    finally:
        m.kill()
    # same file, unchanged: accepted (then stopped)
    ok = subprocess.Popen([ISOLA, "vm", "run", "--restore", str(tmp_path / "snap"),
                           "--console", f"file={tmp_path / 'con-ok'}", "--control",
                           str(tmp_path / "ctl-ok")], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(counts(tmp_path / "con-ok")) >= 2 or ok.poll() is not None,
                 what="the restored guest with its disk")
        assert ok.poll() is None, ok.communicate()
    finally:
        ok.kill()
        ok.communicate(timeout=30)
    with open(disk, "ab") as f:
        f.write(b"x" * 4096)
    p, ctl, con = restore(tmp_path / "snap", tmp_path, "changed")
    assert p.returncode == 1, p
    assert f"disk `{disk}` is not the file the snapshot was taken with" in p.stderr, p.stderr
    assert "size changed" in p.stderr, p.stderr
    assert not ctl.exists() and not con.exists()


def test_kill_during_snapshot_leaves_no_accepted_snapshot(tmp_path):
    # a large guest, so that writing it takes a while; an older snapshot in
    # the same directory must not be resurrected either
    snap = tmp_path / "snap"
    m = counting(tmp_path, "big", memory="1G")
    try:
        wait_for(lambda: counts(m.con), what="the guest counting")
        assert request(m.ctl, f"snapshot {snap}") == "ok running"
        stop = threading.Event()

        def watch():
            # kill -9 as soon as the snapshot's files are being written
            while not stop.is_set() and m.proc.poll() is None:
                if any(n.endswith(".tmp") for n in os.listdir(snap)):
                    m.proc.send_signal(signal.SIGKILL)
                    return
        t = threading.Thread(target=watch)
        t.start()
        try:
            request(m.ctl, f"snapshot {snap}")
        except (OSError, socket.timeout):
            pass  # the monitor died mid-request
        stop.set()
        t.join(timeout=30)
    finally:
        m.kill()
    if (snap / "header.json").exists():
        pytest.skip("the snapshot finished before the kill could land (no assertion possible)")
    p, ctl, con = restore(snap, tmp_path, "cut")
    assert p.returncode == 1, p
    assert "no header.json" in p.stderr, p.stderr
    assert not ctl.exists() and not con.exists()


def test_managed_snapshot_and_restore(tmp_path):
    # a short state root: socket paths under it must fit in sun_path
    short = tempfile.mkdtemp(prefix="ivs-", dir="/tmp")
    env = dict(os.environ, ISOLA_ROOT=f"{short}/root", ISOLA_RUN_DIR=f"{short}/run")

    def isola(*args, timeout=60):
        return subprocess.run([ISOLA, *args], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)

    def logged(name):
        return [int(n) for n in COUNT.findall(isola("vm", "logs", name).stdout)]

    name, again = f"snap{os.getpid()}", f"rest{os.getpid()}"
    snap = tmp_path / "msnap"
    try:
        r = isola("vm", "run", "-d", "--name", name, "--kernel", GUEST, "--cmdline",
                  "mode=count ticks=20000000", "--memory", "64M")
        assert r.returncode == 0, r
        wait_for(lambda: len(logged(name)) >= 3, what="the managed guest counting")
        r = isola("vm", "snapshot", "--leave-paused", name, str(snap))
        assert r.returncode == 0, r
        assert "Paused" in isola("vm", "ls").stdout
        last = logged(name)[-1]
        assert isola("vm", "rm", "-f", name).returncode == 0
        r = isola("vm", "restore", "--name", again, str(snap))
        assert r.returncode == 0, r
        wait_for(lambda: len(logged(again)) >= 3, what="the restored managed guest counting")
        got = logged(again)
        assert 1 not in got and min(got) > last - 1, (last, got)
        # the same snapshot with a bad name of VM: refused, nothing made
        r = isola("vm", "snapshot", "no-such-vm", str(tmp_path / "x"))
        assert r.returncode == 1 and "no-such-vm" in r.stderr, r
        assert not (tmp_path / "x").exists()
    finally:
        for v in isola("vm", "ls", "-aq").stdout.split():
            isola("vm", "rm", "-f", v)
        shutil.rmtree(short, ignore_errors=True)
