"""Unknown properties in config.json are ignored (runtime-spec config.md: "MUST
ignore unknown properties"), as runc and crun do; known properties keep their type
and value checks, with the JSON path in the message."""
import copy
import os
import json
import shutil
import subprocess

import pytest

from conftest import run

SCRIPT = "hostname; echo $ISOLA_T; mkdir /tmp/d 2>/dev/null && echo made || echo denied; ls /mnt"


def with_unknown_fields(base):
    """base plus unknown keys at every level a newer spec or a peer may add to."""
    cfg = copy.deepcopy(base)
    cfg["futureTopLevel"] = {"anything": [1, 2]}
    cfg["process"]["args"] = ["sh", "-c", SCRIPT]
    cfg["process"]["env"].append("ISOLA_T=unknown-ok")
    cfg["process"]["futureProcess"] = True
    cfg["process"]["user"]["futureUser"] = "x"
    cfg["root"]["futureRoot"] = 1
    cfg["mounts"].append({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
                          "options": ["nosuid", "mode=755"], "futureMount": {"a": 1}})
    lx = cfg["linux"]
    lx["futureLinux"] = "x"
    lx["namespaces"][0]["futureNamespace"] = 0
    lx["resources"] = {"pids": {"limit": 64, "futurePids": 1}, "futureController": {"x": 1}}
    lx["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "futureSeccomp": [],
                     "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                                   "errnoRet": 1, "futureRule": "y"}]}
    cfg["hooks"] = {"futureHookKind": [{"path": "/bin/false"}],
                    "createRuntime": [{"path": "/bin/true", "futureHook": 1}]}
    return cfg


def test_unknown_fields_are_ignored_like_runc(oci, tmp_root):
    cfg = with_unknown_fields(oci.config)
    p, _ = oci.run(config=cfg)
    assert p.returncode == 0, p.stderr
    # The known fields next to the unknown ones still take effect.
    assert p.stdout.split() == ["isola-test", "unknown-ok", "denied"], p.stdout

    if shutil.which("runc") is None:
        pytest.skip("runc is not installed (scripts/install-deps.sh): no peer comparison")
    bundle = os.path.join(tmp_root, "runc-bundle")
    os.makedirs(bundle)
    cfg["root"]["path"] = os.path.realpath(os.path.join(oci.bundle, "rootfs"))  # runc: no symlink
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    state = os.path.join(tmp_root, "runc-state")
    cid = f"isola-unk-{os.getpid()}"
    try:
        r = run(["runc", "--root", state, "run", "-b", bundle, cid], timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout == p.stdout
    finally:
        subprocess.run(["runc", "--root", state, "delete", "-f", cid], capture_output=True,
                       timeout=30)


def test_debug_log_names_the_ignored_field(oci, tmp_root):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["futureProcess"] = True
    log = os.path.join(tmp_root, "oci.log")
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.cmd("run", "--bundle", oci.bundle, cid, glob=("--debug", "--log", log))
    assert p.returncode == 0, p.stderr
    with open(log) as f:
        assert "process.futureProcess: unknown field ignored" in f.read()


@pytest.mark.parametrize("mutate,want", [
    (lambda c: c.__setitem__("hostname", 7), "hostname: expected a string"),
    (lambda c: c["process"].__setitem__("noNewPrivileges", "yes"),
     "process.noNewPrivileges: expected a boolean"),
    (lambda c: c["mounts"][0].__setitem__("destination", ["/proc"]),
     "mounts[0].destination: expected a string"),
    (lambda c: c["linux"].__setitem__("resources", {"pids": {"limit": "64"}}),
     "linux.resources.pids.limit: expected an integer"),
    (lambda c: c.__setitem__("hooks", {"createRuntime": [{"path": 5}]}),
     "hooks.createRuntime[0].path: expected a string"),
    (lambda c: c["linux"].__setitem__("seccomp", {"defaultAction": "SCMP_ACT_ALLOW",
                                                  "syscalls": [{"names": "mkdir",
                                                                "action": "SCMP_ACT_ERRNO"}]}),
     "linux.seccomp.syscalls[0].names: expected an array"),
], ids=["top", "process", "mount", "resources", "hooks", "seccomp"])
def test_known_fields_of_the_wrong_type_still_fail(oci, mutate, want):
    cfg = with_unknown_fields(oci.config)
    mutate(cfg)
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.detached("run", "--bundle", oci.bundle, cid)
    assert p.returncode != 0
    assert want in p.stderr, p.stderr
    assert not oci.leftovers(cid), oci.leftovers(cid)
