"""The command lines of isola-oci and isola as scripts use them: --help on every
verb, --version, list's runc fields and layout, crun's --regex for kill and
delete. Where runc or crun runs here, the same command runs with the peer and
the results are compared."""
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import binary, run


def verbs(exe):
    """The verbs that `EXE --help` lists under "Commands:"."""
    p = run([exe, "--help"])
    assert p.returncode == 0, p.stderr
    out, seen = [], False
    for line in p.stdout.splitlines():
        if line.startswith("Commands:"):
            seen = True
        elif seen and line.startswith("  ") and line.split():
            out.append(line.split()[0])
    assert out, p.stdout
    return out


def test_every_isola_oci_verb_answers_help():
    exe = binary("isola-oci")
    names = verbs(exe)
    assert {"create", "start", "kill", "delete", "list", "exec", "update"} <= set(names)
    bad = []
    for verb in names:
        for flag in ("--help", "-h", "-help"):
            p = run([exe, "--root", "/nonexistent-isola-help", verb, flag], timeout=20)
            if p.returncode != 0 or not p.stdout.startswith(f"Usage: isola-oci {verb}"):
                bad.append((verb, flag, p.returncode, p.stdout[:80], p.stderr[:200]))
    assert not bad, bad
    # the options are listed
    p = run([exe, "exec", "--help"])
    assert "--console-socket" in p.stdout and "--process" in p.stdout
    p = run([exe, "kill", "--help"])
    assert "--all" in p.stdout and "--regex" in p.stdout


def test_every_isola_command_answers_help(tmp_root):
    exe = binary("isola")
    names = verbs(exe)
    assert {"run", "pull", "images", "vm", "image"} <= set(names)
    cmds = [[n] for n in names]
    cmds += [["vm", "run"], ["vm", "extract-kernel"]]
    cmds += [["image", s] for s in ("prune", "check", "ls", "inspect", "rm")]
    bad = []
    env = dict(os.environ, HOME=tmp_root, XDG_DATA_HOME=tmp_root)
    for cmd in cmds:
        for flag in ("--help", "-h"):
            p = run([exe, *cmd, flag], timeout=20, env=env)
            if p.returncode != 0 or "Usage: isola" not in p.stdout:
                bad.append((cmd, flag, p.returncode, p.stdout[:80], p.stderr[:200]))
    assert not bad, bad
    # --help does nothing else: no image store appeared under the test's HOME
    assert os.listdir(tmp_root) == [], os.listdir(tmp_root)


def test_version_has_the_peers_lines():
    p = run([binary("isola-oci"), "--version"])
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert re.fullmatch(r"isola-oci version \d+\.\d+\.\d+\S*", lines[0]), lines
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", fields["commit"]), fields
    assert re.fullmatch(r"1\.\d+\.\d+", fields["spec"]), fields
    assert fields["spec"] == json.loads(run([binary("isola-oci"), "features"]).stdout)[
        "ociVersionMax"]
    assert any(line.startswith("+") for line in lines), lines  # crun's feature line
    for peer in ("runc", "crun"):
        if shutil.which(peer) is None:
            continue
        q = run([peer, "--version"])
        assert q.returncode == 0, q.stderr
        peer_keys = {line.split(":", 1)[0] for line in q.stdout.splitlines()[1:] if ":" in line}
        # what tools read from either peer, isola-oci prints too
        assert {"commit", "spec"} <= peer_keys
        assert {"commit", "spec"} <= set(fields)
        assert q.stdout.splitlines()[0].startswith(f"{peer} version ")


# -- runc side by side --------------------------------------------------------


class Runc:
    """runc on a private --root; deletes every container it made."""

    def __init__(self, tmp_root):
        self.root = os.path.join(tmp_root, "runc-state")
        self.ids = []

    def cmd(self, *args, timeout=60):
        return run(["runc", "--root", self.root, *args], timeout=timeout)

    def detached(self, *args, timeout=60):
        with tempfile.TemporaryFile("w+") as out:
            p = subprocess.run(["runc", "--root", self.root, *args], stdout=out, stderr=out,
                               stdin=subprocess.DEVNULL, timeout=timeout)
            out.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, out.read(), "")

    def cleanup(self):
        for cid in self.ids:
            subprocess.run(["runc", "--root", self.root, "delete", "--force", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


@pytest.fixture
def runc(tmp_root):
    if shutil.which("runc") is None:
        pytest.skip("runc is not installed: no peer to compare with")
    r = Runc(tmp_root)
    try:
        yield r
    finally:
        r.cleanup()


def sleeping(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    # runc refuses a rootfs that is a symlink (the fixture's bundle/rootfs is one)
    cfg["root"]["path"] = os.path.realpath(os.path.join(oci.bundle, "rootfs"))
    oci.write(cfg)


def test_list_json_and_table_as_runc(oci, runc):
    sleeping(oci)
    cid = oci.new_id()
    p = oci.detached("create", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    rid = cid[:-1] + "r"  # same length: the same table widths
    runc.ids.append(rid)
    p = runc.detached("create", "--bundle", oci.bundle, rid)
    assert p.returncode == 0, p.stdout

    mine = json.loads(oci.cmd("list", "--format", "json").stdout)
    theirs = json.loads(runc.cmd("list", "-f", "json").stdout)
    assert len(mine) == 1 and len(theirs) == 1, (mine, theirs)
    m, t = mine[0], theirs[0]
    assert list(m) == list(t), (m, t)  # the same fields in the same order
    for k in t:
        assert type(m[k]) is type(t[k]), (k, m[k], t[k])
    assert m["owner"] == t["owner"] == "root"
    assert (m["status"], m["bundle"], m["rootfs"]) == (t["status"], t["bundle"], t["rootfs"])
    assert m["id"] == cid and m["pid"] > 0

    # the table: runc's header and the same columns
    mt = oci.cmd("list").stdout.splitlines()
    tt = runc.cmd("list").stdout.splitlines()
    assert mt[0].split() == tt[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED",
                                              "OWNER"]
    starts = [mt[0].index(h) for h in ("PID", "STATUS", "BUNDLE", "CREATED")]
    assert starts == [tt[0].index(h) for h in ("PID", "STATUS", "BUNDLE", "CREATED")], (mt, tt)
    row = mt[1].split()
    assert row[0] == cid and row[2] == "created" and row[3] == oci.bundle and row[5] == "root"
    assert [mt[1].index(v) for v in row[2:4]] == starts[1:3], mt
    # -q: ids only, as runc
    assert oci.cmd("list", "-q").stdout.split() == [cid]


CRUN_WRAP = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"'


def crun_cmd(root, *args, timeout=60):
    """crun 1.8 refuses this host's v1/v2 hybrid: run it in a private mount
    namespace without the v2 tree, as bench/oci-run.sh does."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.run(["unshare", "-m", "sh", "-c", CRUN_WRAP, "crun", "--root", root,
                            *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                           timeout=timeout)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())


def regex_scenario(cmd, bundle, prefix):
    """kill --regex / delete --regex on three containers; what a user sees."""
    seen = []

    def ids():
        return sorted(cmd("list", "-q").stdout.split())

    def status(cid):
        p = cmd("state", cid)
        return json.loads(p.stdout)["status"] if p.returncode == 0 else None

    names = {n: f"{prefix}-{n}" for n in ("web1", "web2", "db1")}
    for cid in names.values():
        p = cmd("create", "--bundle", bundle, cid)
        assert p.returncode == 0, p.stderr
    # the argument is an unanchored extended regex over every id
    p = cmd("kill", "--regex", "web[0-9]+$", "KILL")
    seen.append(("kill web", p.returncode))
    for _ in range(100):
        if status(names["web1"]) == status(names["web2"]) == "stopped":
            break
        time.sleep(0.05)
    seen.append(("after kill", [status(names[n]) for n in ("web1", "web2", "db1")]))
    p = cmd("delete", "-r", "web")
    seen.append(("delete web", p.returncode, ids()))
    p = cmd("start", names["db1"])
    assert p.returncode == 0, p.stderr
    # a running container needs --force, with --regex as without; as crun, the
    # failure is printed and the exit status stays 0
    p = cmd("delete", "--regex", "db")
    seen.append(("delete running", p.returncode, bool(p.stderr), ids()))
    p = cmd("delete", "--force", "--regex", "db")
    seen.append(("delete --force", p.returncode, ids()))
    # no match is no error
    seen.append(("no match", cmd("delete", "--regex", "nothing-matches").returncode))
    return seen


def test_kill_and_delete_regex_as_crun(oci, tmp_root):
    sleeping(oci)
    for name in ("web1", "web2", "db1"):
        oci.ids.append(f"{oci.prefix}-{name}")

    def mine(*args):
        if args[0] == "create":
            return oci.detached(*args)
        return oci.cmd(*args)

    got = regex_scenario(mine, oci.bundle, oci.prefix)
    ids = [f"{oci.prefix}-{n}" for n in ("web1", "web2", "db1")]
    assert got == [("kill web", 0), ("after kill", ["stopped", "stopped", "created"]),
                   ("delete web", 0, [ids[2]]), ("delete running", 0, True, [ids[2]]),
                   ("delete --force", 0, []), ("no match", 0)], got
    # a bad regex is an error that names it
    p = oci.cmd("kill", "--regex", "web(")
    assert p.returncode != 0 and "web(" in p.stderr, p.stderr
    # --force on a missing container succeeds, as runc and crun
    assert oci.cmd("delete", "--force", "missing-" + oci.prefix).returncode == 0

    if shutil.which("crun") is None or shutil.which("unshare") is None:
        pytest.skip("crun is not installed: isola-oci checked alone, no peer to compare with")
    root = os.path.join(tmp_root, "crun-state")
    with open(os.path.join(oci.bundle, "config.json")) as f:
        cfg = json.load(f)
    cfg["ociVersion"] = "1.0.2"  # crun 1.8 knows no later one
    oci.write(cfg)
    try:
        theirs = regex_scenario(lambda *a: crun_cmd(root, *a), oci.bundle, oci.prefix)
    finally:
        for cid in ids:
            crun_cmd(root, "delete", "--force", cid)
    assert got == theirs, (got, theirs)
