"""A container with a new network namespace and no network gets a working
loopback (`lo` up), as with runc, crun, Docker and podman: through an
isola-oci bundle (compared with runc on the same bundle) and `isola run`."""
import json
import os
import shutil

from conftest import run

# Serve on 127.0.0.1 (busybox httpd, which daemonizes) and fetch from it,
# retried until the server listens; busybox nc's listener can end at its
# stdin's EOF before the data arrives, so it is not used.
SCRIPT = ("ip link show lo | head -1; mkdir -p /dev/shm/www; echo hello-lo > /dev/shm/www/x; "
          "httpd -p 127.0.0.1:8080 -h /dev/shm/www || exit 8; i=0; "
          "until wget -qO- http://127.0.0.1:8080/x 2>/dev/null; do i=$((i+1)); "
          "[ $i -gt 100 ] && exit 9; sleep 0.1; done")


def check(p):
    assert p.returncode == 0, f"exit {p.returncode}: {p.stdout} {p.stderr}"
    first = p.stdout.splitlines()[0]
    assert "lo:" in first and ",UP" in first, first
    assert p.stdout.splitlines()[-1] == "hello-lo"


def test_isola_oci_brings_lo_up(oci, rootfs, tmp_root):
    p, _ = oci.run(["sh", "-c", SCRIPT], timeout=60)
    check(p)
    if shutil.which("runc") is None:
        return
    # runc on the same config (runc wants the real path of the root): the same result
    bundle = os.path.join(tmp_root, "runc-bundle")
    os.makedirs(bundle)
    cfg = json.loads(json.dumps(oci.config))
    cfg["process"]["args"] = ["sh", "-c", SCRIPT]
    cfg["root"]["path"] = rootfs
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    root = os.path.join(tmp_root, "runc-state")
    cid = f"lo-runc-{os.getpid()}"
    try:
        p = run(["runc", "--root", root, "run", "--bundle", bundle, cid], timeout=60)
        check(p)
    finally:
        run(["runc", "--root", root, "delete", "--force", cid], timeout=30)


def test_isola_run_brings_lo_up(isola, rootfs, tmp_root):
    env = dict(os.environ, ISOLA_RUN_DIR=os.path.join(tmp_root, "run"))
    check(run([isola, "run", "--rm", rootfs, "sh", "-c", SCRIPT], env=env, timeout=60))


def test_joined_network_namespace_is_left_alone(oci, tmp_root):
    """A namespace joined by path is the caller's: its lo stays as it is."""
    ns = f"isola-lo-{os.getpid()}"
    assert run(["ip", "netns", "add", ns]).returncode == 0
    try:
        cfg = json.loads(json.dumps(oci.config))
        cfg["linux"]["namespaces"] = [
            {"type": "network", "path": f"/run/netns/{ns}"} if n["type"] == "network" else n
            for n in cfg["linux"]["namespaces"]]
        p, _ = oci.run(["sh", "-c", "ip link show lo | head -1"], config=cfg, timeout=60)
        assert p.returncode == 0, p.stderr
        assert ",UP" not in p.stdout.splitlines()[0]
    finally:
        run(["ip", "netns", "del", ns])
