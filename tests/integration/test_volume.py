"""Named volumes (docs/volumes.md): `isola volume create|ls|inspect|rm|prune`, the
storage layout, kill -9 at random points, and volume_mount_source/volume_release
(what the spec composer calls for `-v NAME:/path`) driven by
build/tests/volume-helper, with the volume bind-mounted into containers run by
isola-oci and, for comparison, runc and podman.
"""
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess

import pytest

from conftest import BUILD, mounts_below, run

HELPER = os.path.join(BUILD, "tests", "volume-helper")


@pytest.fixture
def vol(isola, tmp_root):
    """`isola volume --root STATE ...` on a private state root."""
    state = os.path.join(tmp_root, "state")

    def call(*args, timeout=60, input=None):
        return run([isola, "volume", "--root", state, *args], timeout=timeout, input=input)
    call.state = state
    return call


def helper(*args):
    if not os.access(HELPER, os.X_OK):
        pytest.fail(f"{HELPER} is not built (ninja -C build)")
    return run([HELPER, *args], timeout=60)


def is_mount(path):
    """A mount point (os.path.ismount misses a bind of the same file system)."""
    return path in mounts_below(path)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def names(vol, *args):
    return ok(vol("ls", "-q", *args)).split()


def test_create_ls_inspect(vol):
    assert ok(vol("create", "data")) == "data\n"
    assert ok(vol("create", "data")) == "data\n", "create of an existing name: idempotent (Docker)"
    anon = ok(vol("create", "--label", "tier=db", "--label", "x")).strip()
    assert re.fullmatch(r"[0-9a-f]{64}", anon)
    ok(vol("create", "--driver", "local", "--opt", "type=tmpfs", "--opt", "device=tmpfs",
           "--opt", "o=size=1m", "--label", "tier=cache", "cache"))

    p = vol("create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "data")
    assert p.returncode == 1 and "already exists" in p.stderr, p
    p = vol("create", "--driver", "nope", "x1")
    assert p.returncode == 1 and 'plugin "nope" not found' in p.stderr, p
    p = vol("create", "--opt", "size=1g", "x2")
    assert p.returncode == 1 and 'invalid option key: "size"' in p.stderr, p
    p = vol("create", "-x")
    assert p.returncode == 125, "an unknown flag: 125 as docker's CLI"
    p = vol("create", "a", "b")
    assert p.returncode == 1
    assert names(vol) == sorted([anon, "cache", "data"])

    table = ok(vol("ls")).splitlines()
    assert table[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert sorted(line.split()[1] for line in table[1:]) == sorted([anon, "cache", "data"])
    assert names(vol, "--filter", "name=dat") == ["data"]
    assert sorted(names(vol, "--filter", "label=tier")) == sorted([anon, "cache"])
    assert names(vol, "--filter", "label=tier=db") == [anon]
    assert names(vol, "--filter", "label!=tier") == ["data"]
    assert sorted(names(vol, "--filter", "dangling=true")) == sorted([anon, "cache", "data"])
    assert names(vol, "--filter", "dangling=false") == []
    assert vol("ls", "--filter", "bogus=1").returncode == 1

    lines = ok(vol("ls", "--format", "{{.Name}}\\t{{.Driver}}\\t{{.Label \"tier\"}}")).splitlines()
    assert "cache\tlocal\tcache" in lines and "data\tlocal\t" in lines
    lines = ok(vol("ls", "--format", "table {{.Name}}\t{{.Driver}}")).splitlines()
    # Docker's tabwriter: each column its widest cell (the anonymous one) + 3
    assert lines[0] == "VOLUME NAME" + " " * (64 + 3 - 11) + "DRIVER"
    assert "data" + " " * (64 + 3 - 4) + "local" in lines[1:]
    js = [json.loads(line) for line in ok(vol("ls", "--format", "json")).splitlines()]
    assert {j["Name"] for j in js} == {anon, "cache", "data"}

    info = json.loads(ok(vol("inspect", "cache", "data")))
    assert [i["Name"] for i in info] == ["cache", "data"]
    c = info[0]
    assert set(c) == {"CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"}
    assert c["Driver"] == "local" and c["Scope"] == "local"
    assert c["Labels"] == {"tier": "cache"}
    assert c["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", c["CreatedAt"])
    assert c["Mountpoint"] == os.path.join(vol.state, "volumes", "cache", "_data")
    st = os.stat(info[1]["Mountpoint"])
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o755 and st.st_uid == 0
    assert stat.S_IMODE(os.stat(os.path.dirname(info[1]["Mountpoint"])).st_mode) == 0o755

    assert ok(vol("inspect", "-f", "{{.Mountpoint}}", "data")) == info[1]["Mountpoint"] + "\n"
    assert ok(vol("inspect", "--format", "{{.Name}} {{.Labels}}", "cache", "data")) == \
        "cache tier=cache\ndata \n"
    p = vol("inspect", "data", "missing")
    assert p.returncode == 1 and "No such volume: missing" in p.stderr
    assert [i["Name"] for i in json.loads(p.stdout)] == ["data"]


@pytest.mark.parametrize("verb", ["create", "ls", "inspect", "rm", "prune"])
def test_help(vol, verb):
    p = vol(verb, "--help")
    assert p.returncode == 0 and p.stdout.startswith(f"Usage: isola volume {verb}")


def test_rm_and_prune(vol, tmp_root):
    ok(vol("create", "used"))
    ok(vol("create", "named"))
    ok(vol("create", "--label", "keep=1", "kept"))
    anon = ok(vol("create")).strip()
    anon2 = ok(vol("create", "--label", "keep=1")).strip()
    host = ok(helper("use", vol.state, "used", "-", "/data", "c1")).strip()
    assert os.path.isdir(host)

    p = vol("rm", "used")
    assert p.returncode == 1
    m = re.search(r"remove used: volume is in use - \[([0-9a-f]{64})\]", p.stderr)
    assert m, p.stderr
    cid = m.group(1)
    assert os.path.isdir(host), "a volume in use keeps its data"
    assert names(vol, "--filter", "dangling=false") == ["used"]

    p = vol("rm", "missing")
    assert p.returncode == 1 and "no such volume" in p.stderr
    assert ok(vol("rm", "-f", "missing")) == "missing\n"

    p = vol("prune")  # no answer on stdin: nothing removed
    assert p.returncode == 0 and "Are you sure" in p.stdout
    assert len(names(vol)) == 5
    data = json.loads(ok(vol("inspect", anon)))[0]["Mountpoint"]
    with open(os.path.join(data, "f"), "wb") as f:
        f.write(b"x" * 5000)
    os.link(os.path.join(data, "f"), os.path.join(data, "f.link"))
    os.makedirs(os.path.join(data, "d"))
    with open(os.path.join(data, "d", "g"), "wb") as f:
        f.write(b"y" * 1234)
    out = ok(vol("prune", "--force", "--filter", "label!=keep"))
    assert anon in out and anon2 not in out and "named" not in out
    assert out.endswith("Total reclaimed space: 6.234kB\n"), \
        "Docker's size: regular files, a hard-linked inode once"
    assert sorted(names(vol)) == sorted([anon2, "kept", "named", "used"]), \
        "prune: only anonymous volumes (Docker 23+)"
    out = ok(vol("prune", "-a", "-f", "--filter", "label=keep=1"))
    assert sorted(names(vol)) == ["named", "used"]
    ok(vol("prune", "--all", "--force"))
    assert names(vol) == ["used"], "prune -a keeps the volume in use"

    ok(helper("release", vol.state, "used", "c1"))
    assert ok(vol("rm", "used")) == "used\n"
    assert not os.path.exists(os.path.dirname(host))
    assert sorted(os.listdir(os.path.join(vol.state, "volumes"))) == [".lock"]


def _invariants(vol):
    """What a killed CLI may leave: every directory under volumes/ is a volume
    that `ls` shows; rm/prune remove them all."""
    listed = set(names(vol))
    dirs = {d for d in os.listdir(os.path.join(vol.state, "volumes")) if d != ".lock"}
    assert dirs <= listed, f"directories that `volume ls` does not show: {dirs - listed}"
    return listed


def test_kill9_at_random_points(vol, isola):
    """100 runs of create/rm/prune, each SIGKILLed after a random delay; after
    each, the invariants hold, and at the end rm/prune remove everything."""
    rnd = random.Random(os.getpid())
    pool = [f"v{i}" for i in range(8)]
    ok(vol("create", "warmup"))  # the database exists: kills land in volume code, too
    killed = 0
    for i in range(100):
        name = rnd.choice(pool)
        verb = rnd.choice(["create", "create", "rm", "prune"])
        args = {"create": ["create", "--label", f"n={i}", name], "rm": ["rm", "-f", name],
                "prune": ["prune", "-a", "-f"]}[verb]
        if verb == "create" and rnd.random() < 0.3:
            args = ["create"]  # anonymous
        proc = subprocess.Popen([isola, "volume", "--root", vol.state, *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rnd.uniform(0, 0.012))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        listed = _invariants(vol)
        for n in listed:
            mp = os.path.join(vol.state, "volumes", n, "_data")
            # a row whose directory a kill cut short: use makes it again
            if not os.path.isdir(mp) and rnd.random() < 0.5:
                ok(helper("use", vol.state, n, "-", "/x", f"fix{i}"))
                assert os.path.isdir(mp)
                ok(helper("release", vol.state, n, f"fix{i}"))
                ok(helper("forget", vol.state, f"fix{i}"))
    print(f"{killed} of 100 runs killed before they ended")
    for n in names(vol):
        ok(vol("rm", n))
    ok(vol("prune", "-a", "-f"))
    assert names(vol) == []
    assert os.listdir(os.path.join(vol.state, "volumes")) == [".lock"]


# ---- volume_mount_source with real containers ----

def _bundle(oci, host, args, dest="/data"):
    cfg = json.loads(json.dumps(oci.config))
    cfg["mounts"].append({"destination": dest, "type": "bind", "source": host,
                          "options": ["rbind", "rw"]})
    cfg["process"]["args"] = args
    for s in cfg["process"]["capabilities"].values():
        s.append("CAP_DAC_OVERRIDE")  # the image's modes are kept: 0751 10:20
    return cfg


def _run_oci(oci, cfg):
    p, _ = oci.run(config=cfg)
    return p


def _run_runc(tmp_root, oci, cfg, name):
    if shutil.which("runc") is None:
        pytest.skip("runc is not installed: no peer to compare with")
    root = os.path.join(tmp_root, "runc-state")
    bundle = os.path.join(tmp_root, "runc-bundle-" + name)
    os.makedirs(bundle)
    cfg = json.loads(json.dumps(cfg))
    cfg["root"]["path"] = os.path.realpath(os.path.join(oci.bundle, "rootfs"))  # runc: no symlink
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    cid = f"vol{os.getpid()}-{name}"
    try:
        p = run(["runc", "--root", root, "run", "--bundle", bundle, cid], timeout=60)
        return p
    finally:
        run(["runc", "--root", root, "delete", "--force", cid], timeout=60)


def _tree(path):
    """owner, mode, link target, content and link count of everything below path"""
    out = {}
    for d, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            e = (st.st_uid, st.st_gid, oct(st.st_mode))
            if stat.S_ISLNK(st.st_mode):
                e += (os.readlink(p),)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    e += (f.read(), st.st_nlink)
            out[os.path.relpath(p, path)] = e
    st = os.stat(path)
    out["."] = (st.st_uid, st.st_gid, oct(st.st_mode))
    return out


def _seed_image(rootfs):
    """/srv/app in the image: a file (0640, 1000:1000), a hard link to it, a
    symlink out of the root, a subdirectory (0700, 33:33); /srv/out is a
    symlink that leaves the root ("../../../../srv/app" stays inside)."""
    app = os.path.join(rootfs, "srv", "app")
    os.makedirs(os.path.join(app, "sub"))
    os.chown(app, 10, 20)
    os.chmod(app, 0o751)
    with open(os.path.join(app, "seed"), "w") as f:
        f.write("from the image\n")
    os.chown(os.path.join(app, "seed"), 1000, 1000)
    os.chmod(os.path.join(app, "seed"), 0o640)
    os.link(os.path.join(app, "seed"), os.path.join(app, "seed.hard"))
    os.symlink("/etc/shadow", os.path.join(app, "abs-link"))
    os.chown(os.path.join(app, "sub"), 33, 33)
    os.chmod(os.path.join(app, "sub"), 0o700)
    with open(os.path.join(app, "sub", "x"), "w") as f:
        f.write("x\n")
    os.symlink("../../../../srv/app", os.path.join(rootfs, "srv", "out"))
    return app


def test_volume_persists_across_containers(oci, rootfs, tmp_root):
    state = os.path.join(tmp_root, "state")
    app = _seed_image(rootfs)
    host = ok(helper("use", state, "appdata", rootfs, "/srv/out", "c1")).strip()
    assert host == os.path.join(state, "volumes", "appdata", "_data")
    assert _tree(host) == _tree(app), "first use copies the image's content, as it is"

    cfg = _bundle(oci, host, ["sh", "-c", "cat /data/seed; ls -ln /data/seed | cut -c1-10; "
                                          "echo written by c1 > /data/out"])
    p = _run_oci(oci, cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "from the image\n-rw-r-----\n"
    ok(helper("release", state, "appdata", "c1"))

    # second container: the data persists, the image is not copied again
    with open(os.path.join(app, "seed"), "w") as f:
        f.write("changed in the image\n")
    host2 = ok(helper("use", state, "appdata", rootfs, "/srv/app", "c2")).strip()
    assert host2 == host
    cfg = _bundle(oci, host, ["sh", "-c", "cat /data/out /data/seed"])
    p = _run_oci(oci, cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "written by c1\nfrom the image\n"
    peer = _run_runc(tmp_root, oci, cfg, "c2")
    assert (peer.returncode, peer.stdout) == (p.returncode, p.stdout), "runc sees the same"
    ok(helper("release", state, "appdata", "c2"))


def test_tmpfs_and_bind_volumes(oci, isola, tmp_root):
    state = os.path.join(tmp_root, "state")

    def vol(*args):
        return run([isola, "volume", "--root", state, *args], timeout=60)
    ok(vol("create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt",
           "o=size=2m,mode=1777", "scratch"))
    host = ok(helper("use", state, "scratch", "-", "/scratch", "c1")).strip()
    cfg = _bundle(oci, host, ["sh", "-c", "df -k /scratch | tail -1 | awk '{print $2}'; "
                                          "stat -c %a /scratch; echo hi > /scratch/f"],
                  dest="/scratch")
    p = _run_oci(oci, cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["2048", "1777"], "a 2 MiB tmpfs with mode 1777"
    ok(helper("use", state, "scratch", "-", "/scratch", "c2"))
    ok(helper("release", state, "scratch", "c1"))
    assert os.path.exists(os.path.join(host, "f")), "still mounted: c2 uses it"
    ok(helper("release", state, "scratch", "c2"))
    assert not os.path.exists(os.path.join(host, "f")), "the last user gone: unmounted"
    assert not is_mount(host)

    src = os.path.join(tmp_root, "hostdir")
    os.makedirs(src)
    with open(os.path.join(src, "marker"), "w") as f:
        f.write("on the host\n")
    ok(vol("create", "--opt", "type=none", "--opt", "o=bind", "--opt", f"device={src}", "shared"))
    host = ok(helper("use", state, "shared", "-", "/shared", "c1")).strip()
    cfg = _bundle(oci, host, ["sh", "-c", "cat /shared/marker; echo from c1 > /shared/new"],
                  dest="/shared")
    p = _run_oci(oci, cfg)
    assert p.returncode == 0 and p.stdout == "on the host\n", p
    with open(os.path.join(src, "new")) as f:
        assert f.read() == "from c1\n", "the container wrote into the host directory"
    p = vol("rm", "shared")
    assert p.returncode == 1 and "in use" in p.stderr
    # as a crash between the mount and the release would leave it: the use is
    # gone, _data still mounted; rm unmounts and never empties the host directory
    ok(helper("forget", state, "c1"))
    assert is_mount(host)
    ok(vol("rm", "shared"))
    assert sorted(os.listdir(src)) == ["marker", "new"]
    assert not os.path.exists(os.path.dirname(host))

    bad = vol("create", "--opt", "type=none", "--opt", "device=relative", "bad")
    assert bad.returncode == 1 and "o=bind" in bad.stderr


def test_nfs_volume(testhost, isola):
    """`--opt type=nfs --opt o=addr=HOST,vers=4.2 --opt device=:/`, in the test host:
    Debian's kernel NFS server in a network namespace, the client (volume-helper's
    volume_mount_source) in another; the share is mounted at the first use, the
    server's file is read through it, the client's write lands on the server's
    export, and the release unmounts it (tests/integration/nfs_volume.sh)."""
    if shutil.which("rpc.nfsd") is None or shutil.which("exportfs") is None:
        pytest.skip("NO NFS TEST: nfs-kernel-server is not installed (scripts/install-deps.sh)")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nfs_volume.sh")
    out = testhost.path(f"nfs-{os.getpid()}")
    r = testhost.run([script, isola, HELPER, out], timeout=240)
    if r.returncode == 77:
        pytest.skip("NO NFS TEST: the test host's kernel cache has no nfsd module "
                    "(scripts/testhost/prepare lists nfsd nfs nfsv4; run it again)")
    assert r.returncode == 0, r
    with open(os.path.join(out, "client.out")) as f:
        client = f.read()
    logs = ""
    for name in ("nfsd.log", "mountd.log"):
        if os.path.exists(os.path.join(out, name)):
            with open(os.path.join(out, name)) as f:
                logs += f.read()
    assert client.splitlines() == ["shared", "mounted: nfs4", "read: from the server",
                                   "after release: 0 mounts", "shared"], client + logs
    with open(os.path.join(out, "server-saw")) as f:
        assert f.read() == "from the client\n"


def test_copy_up_as_podman(vol, rootfs, tmp_root):
    """The same image content copied into a new volume by podman (runtime runc,
    private storage) and by volume_mount_source: the same owners, modes, links
    and content; podman's inspect has Docker's fields, and its ls filters pick the
    same volumes."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        pytest.skip("podman or runc is not installed: no peer to compare with")
    from peers import Podman
    app = _seed_image(rootfs)
    pod = Podman(os.path.join(tmp_root, "podman"), "runc", tag=(os.getpid() + 13) % 10000)
    try:
        image = f"localhost/isola-vol{os.getpid()}"
        pod.import_rootfs(rootfs, image)
        ok(pod("volume", "create", "--label", "tier=db", "appdata"))
        ok(pod("volume", "create", "other"))
        ok(pod("run", "--rm", "--network", "none", "-v", "appdata:/srv/app", image, "true"))
        pinfo = json.loads(ok(pod("volume", "inspect", "appdata")))[0]
        podman_tree = _tree(pinfo["Mountpoint"])

        ok(vol("create", "--label", "tier=db", "appdata"))
        ok(vol("create", "other"))
        host = ok(helper("use", vol.state, "appdata", rootfs, "/srv/app", "c1")).strip()
        assert _tree(host) == podman_tree
        assert _tree(host) == _tree(app)

        mine = json.loads(ok(vol("inspect", "appdata")))[0]
        assert set(mine) <= set(pinfo), "podman's inspect has each of Docker's fields"
        for k in ("Name", "Driver", "Labels", "Scope"):
            assert mine[k] == pinfo[k], k
        for f in (["label=tier"], ["label=tier=db"], ["name=oth"]):
            args = [a for x in f for a in ("--filter", x)]
            assert names(vol, *args) == sorted(ok(pod("volume", "ls", "-q", *args)).split()), f
        ok(helper("release", vol.state, "appdata", "c1"))

        # a tmpfs volume with Docker's local-driver options: the same file system
        # and mode (podman 4.3 takes o=size= for an XFS quota option and refuses it)
        opts = ["--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=mode=1777"]
        ok(pod("volume", "create", *opts, "scratch"))
        theirs = ok(pod("run", "--rm", "--network", "none", "-v", "scratch:/scratch", image,
                        "sh", "-c", "stat -f -c %T /scratch; stat -c %a /scratch")).split()
        ok(vol("create", *opts, "scratch"))
        host = ok(helper("use", vol.state, "scratch", "-", "/scratch", "c1")).strip()
        fstype = [line.split(" - ")[1].split()[0] for line in open("/proc/self/mountinfo")
                  if line.split()[4] == host]
        mine = fstype + [f"{stat.S_IMODE(os.stat(host).st_mode):o}"]
        ok(helper("release", vol.state, "scratch", "c1"))
        assert mine == theirs == ["tmpfs", "1777"]
    finally:
        pod.close()


def test_kill9_during_copy_up(vol, rootfs):
    """volume_mount_source SIGKILLed at 100 random points while it fills a new
    volume from the image: the volume is then empty or holds the whole copy, never
    a part; the next use finishes the job and leaves no _data.tmp; rm then
    removes everything."""
    big = os.path.join(rootfs, "srv", "big")
    for d in range(4):
        os.makedirs(os.path.join(big, f"d{d}"))
        for i in range(25):
            with open(os.path.join(big, f"d{d}", f"f{i}"), "wb") as f:
                f.write(bytes([i]) * 8192)
    want = _tree(big)
    rnd = random.Random(os.getpid() + 1)
    partial = killed = 0
    for n in range(100):
        name = f"v{n}"
        proc = subprocess.Popen([HELPER, "use", vol.state, name, rootfs, "/srv/big", f"k{n}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rnd.uniform(0, 0.08))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        data = os.path.join(vol.state, "volumes", name, "_data")
        if os.path.isdir(data) and os.listdir(data):
            assert _tree(data) == want, f"run {n}: a partial copy in {data}"
        elif os.path.exists(os.path.join(vol.state, "volumes", name, "_data.tmp")):
            partial += 1
        vdir = os.path.join(vol.state, "volumes")
        if os.path.isdir(vdir):
            assert set(os.listdir(vdir)) - {".lock"} <= set(names(vol)), \
                f"run {n}: a directory without a row"
        host = ok(helper("use", vol.state, name, rootfs, "/srv/big", f"ok{n}")).strip()
        assert _tree(host) == want
        assert not os.path.exists(os.path.join(vol.state, "volumes", name, "_data.tmp"))
        ok(helper("release", vol.state, name, f"ok{n}"))
        ok(helper("forget", vol.state, f"ok{n}"))
        if helper("forget", vol.state, f"k{n}").returncode == 0:
            pass  # the killed run had inserted its container: its use goes with it
        ok(vol("rm", name))
        assert not os.path.exists(os.path.join(vol.state, "volumes", name))
    print(f"{killed} of 100 killed, {partial} left a _data.tmp that the next use removed")


@pytest.mark.parametrize("args", [[], ["bogus"], ["ls", "--bogus"], ["create", "--bogus", "x"], ["create", "a", "b"],
                                  ["inspect"], ["ls", "x"], ["rm"], ["prune", "x"]])
def test_usage_exit_codes_as_docker(vol, tmp_root, args):
    """Wrong flags and argument counts: the exit status of docker's own CLI, which
    checks them before it talks to a daemon (none here: DOCKER_HOST names a
    socket that does not exist)."""
    if shutil.which("docker") is None:
        pytest.skip("docker's CLI is not installed: no peer to compare with")
    env = dict(os.environ, DOCKER_HOST="unix://" + os.path.join(tmp_root, "no-docker.sock"),
               DOCKER_CONFIG=os.path.join(tmp_root, "docker-config"))
    d = run(["docker", "volume", *args], env=env, timeout=60)
    assert "Cannot connect" not in d.stderr, "docker got past its argument checks"
    assert vol(*args).returncode == d.returncode
