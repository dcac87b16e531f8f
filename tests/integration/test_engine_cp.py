"""`isola cp` (docs/engine.md, "cp"): both ways, directories, tar streams on
stdin/stdout, -a, created/stopped containers, an overlay a reboot unmounted,
and symlinks in the container that try to reach host files; the layout of
Docker's rules compared with `podman cp`."""
import io
import os
import subprocess
import tarfile

from conftest import run
from test_engine_cli import IMAGE, eng, podman  # noqa: F401 (fixtures)

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]


def cp_bin(eng, *args, input=None):
    """isola cp with binary stdin/stdout (tar streams)."""
    return subprocess.run([*eng.ns, eng.isola, "cp", *args], env=eng.env, input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)


def in_ctr(eng, name, *cmd):
    return eng.ok("exec", name, *cmd)


def make_tree(base, hardlink=True):
    """d/, d/a (0640), d/sub/b, d/ln -> a, d/zhl (a hard link of d/sub/b)."""
    os.makedirs(os.path.join(base, "d", "sub"))
    with open(os.path.join(base, "d", "a"), "w") as f:
        f.write("alpha\n")
    os.chmod(os.path.join(base, "d", "a"), 0o640)
    with open(os.path.join(base, "d", "sub", "b"), "w") as f:
        f.write("beta\n")
    os.symlink("a", os.path.join(base, "d", "ln"))
    if hardlink:
        os.link(os.path.join(base, "d", "sub", "b"), os.path.join(base, "d", "zhl"))
    os.chown(os.path.join(base, "d", "a"), 1234, 5678)


def test_cp_both_ways_running(eng, tmp_root):
    eng.ok("run", "-d", "--name", "cpr", IMAGE, *SLEEPER)
    host = os.path.join(tmp_root, "h")
    make_tree(host)
    # host -> container: a directory into an existing directory
    eng.ok("cp", os.path.join(host, "d"), "cpr:/tmp")
    assert in_ctr(eng, "cpr", "cat", "/tmp/d/a", "/tmp/d/sub/b") == "alpha\nbeta\n"
    assert in_ctr(eng, "cpr", "readlink", "/tmp/d/ln") == "a\n"
    # hard links stay links
    ino = in_ctr(eng, "cpr", "stat", "-c", "%i", "/tmp/d/sub/b", "/tmp/d/zhl").split()
    assert ino[0] == ino[1]
    # without -a: the container's root owns it; the mode is kept
    assert in_ctr(eng, "cpr", "stat", "-c", "%u:%g %a", "/tmp/d/a") == "0:0 640\n"
    eng.ok("cp", "-a", os.path.join(host, "d", "a"), "cpr:/tmp/kept")
    assert in_ctr(eng, "cpr", "stat", "-c", "%u:%g %a", "/tmp/kept") == "1234:5678 640\n"
    # a directory to a path that does not exist: created with the contents
    eng.ok("cp", os.path.join(host, "d"), "cpr:/tmp/new")
    assert in_ctr(eng, "cpr", "cat", "/tmp/new/a") == "alpha\n"
    ino = in_ctr(eng, "cpr", "stat", "-c", "%i", "/tmp/new/sub/b", "/tmp/new/zhl").split()
    assert ino[0] == ino[1]
    # a file into a file: overwritten; into a missing dir with `/`: refused
    eng.ok("cp", os.path.join(host, "d", "sub", "b"), "cpr:/tmp/kept")
    assert in_ctr(eng, "cpr", "cat", "/tmp/kept") == "beta\n"
    p = eng("cp", os.path.join(host, "d", "a"), "cpr:/nowhere/")
    assert p.returncode == 1 and "does not exist" in p.stderr
    # container -> host: a file, a directory, the contents with `/.`
    out = os.path.join(tmp_root, "out")
    os.mkdir(out)
    eng.ok("cp", "cpr:/etc/passwd", os.path.join(out, "pw"))
    with open(os.path.join(out, "pw")) as f:
        assert f.read().startswith("root:")
    eng.ok("cp", "cpr:/tmp/d", out)
    assert sorted(os.listdir(os.path.join(out, "d"))) == ["a", "ln", "sub", "zhl"]
    assert os.stat(os.path.join(out, "d", "zhl")).st_ino == \
        os.stat(os.path.join(out, "d", "sub", "b")).st_ino
    p = cp_bin(eng, "cpr:/tmp/d", "-")
    links = [m for m in tarfile.open(fileobj=io.BytesIO(p.stdout)) if m.islnk()]
    assert [(m.name, m.linkname) for m in links] == [("d/zhl", "d/sub/b")]
    assert os.readlink(os.path.join(out, "d", "ln")) == "a"
    assert os.stat(os.path.join(out, "d", "a")).st_mode & 0o777 == 0o640
    os.mkdir(os.path.join(out, "flat"))
    eng.ok("cp", "cpr:/tmp/d/.", os.path.join(out, "flat"))
    assert sorted(os.listdir(os.path.join(out, "flat"))) == ["a", "ln", "sub", "zhl"]
    # a directory onto a file, a file with a trailing `/`, a missing source
    p = eng("cp", "cpr:/tmp/d", os.path.join(out, "pw"))
    assert p.returncode == 1 and "directory" in p.stderr
    p = eng("cp", "cpr:/etc/passwd/", out)
    assert p.returncode == 1 and "not a directory" in p.stderr
    p = eng("cp", "cpr:/no/such", out)
    assert p.returncode == 1 and "could not find" in p.stderr
    # isola container cp is the same command; one container side is needed
    eng.ok("container", "cp", "cpr:/etc/hostname", os.path.join(out, "hn"))
    assert os.path.getsize(os.path.join(out, "hn")) > 0
    assert eng("cp", os.path.join(out, "hn"), os.path.join(out, "x")).returncode == 1
    assert "No such container" in eng("cp", "nope:/etc", out).stderr


def test_cp_tar_streams(eng, tmp_root):
    eng.ok("run", "-d", "--name", "cpt", IMAGE, *SLEEPER)
    p = cp_bin(eng, "cpt:/etc", "-")
    assert p.returncode == 0, p.stderr
    names = tarfile.open(fileobj=io.BytesIO(p.stdout)).getnames()
    assert "etc/passwd" in names and "etc" in names
    # a tar on stdin unpacked into a directory of the container
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("x/one", b"1\n"), ("two", b"22\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o600
            t.addfile(ti, io.BytesIO(data))
    p = cp_bin(eng, "-", "cpt:/tmp", input=buf.getvalue())
    assert p.returncode == 0, p.stderr
    assert in_ctr(eng, "cpt", "cat", "/tmp/x/one", "/tmp/two") == "1\n22\n"
    assert in_ctr(eng, "cpt", "stat", "-c", "%a", "/tmp/two") == "600\n"
    # the whole root: the kernel's views (/proc, /sys) are not walked into
    p = cp_bin(eng, "cpt:/", "-")
    assert p.returncode == 0, p.stderr
    names = tarfile.open(fileobj=io.BytesIO(p.stdout)).getnames()
    assert "./proc" in names and "./sys" in names and "./etc/passwd" in names
    assert not [n for n in names if n.startswith(("./proc/", "./sys/"))]
    # into a file: refused (Docker: the destination must be a directory)
    p = cp_bin(eng, "-", "cpt:/tmp/two", input=buf.getvalue())
    assert p.returncode == 1 and b"must be a directory" in p.stderr


def test_cp_created_and_stopped(eng, tmp_root):
    src = os.path.join(tmp_root, "f")
    with open(src, "w") as f:
        f.write("before start\n")
    eng.ok("create", "--name", "cpc", IMAGE, "cat", "/in")
    # a created container: its overlay is mounted, nothing runs
    eng.ok("cp", src, "cpc:/in")
    eng.ok("start", "cpc")
    assert eng.ok("wait", "cpc").strip() == "0"
    assert eng.ok("logs", "cpc") == "before start\n"
    # an exited one, both ways
    out = os.path.join(tmp_root, "back")
    eng.ok("cp", "cpc:/in", out)
    with open(out) as f:
        assert f.read() == "before start\n"
    # the overlay unmounted (as after a reboot): mounted for the copy only
    cid = eng.inspect("cpc")["Id"]
    rootfs = os.path.join(eng.env["ISOLA_ROOT"], "containers", cid, "rootfs")
    assert os.path.ismount(rootfs)
    run(["umount", rootfs], timeout=30, check=True)
    eng.ok("cp", "cpc:/in", out + "2")
    with open(out + "2") as f:
        assert f.read() == "before start\n"
    eng.ok("cp", src, "cpc:/in2")
    assert not os.path.ismount(rootfs)
    upper = os.path.join(eng.env["ISOLA_ROOT"], "containers", cid, "upper")
    assert os.path.exists(os.path.join(upper, "in2"))


def test_cp_symlinks_cannot_reach_the_host(eng, tmp_root):
    """A container's symlinks (absolute, `..` above its root, `/` itself) are
    resolved inside its root: the host canary is neither read nor written."""
    canary_dir = os.path.join(tmp_root, "canary")
    os.mkdir(canary_dir)
    canary = os.path.join(canary_dir, "secret")
    with open(canary, "w") as f:
        f.write("HOST SECRET\n")
    eng.ok("run", "-d", "--name", "cpe", IMAGE, *SLEEPER)
    in_ctr(eng, "cpe", "sh", "-c",
           f"ln -s /../../../../../..{canary_dir} /evil && ln -s / /root2 && "
           f"ln -s ../../../../..{canary} /evilfile && mkdir /data && "
           f"ln -s {canary} /data/abs && mkdir -p {canary_dir} && "
           f"echo CONTAINER FILE > {canary}")
    out = os.path.join(tmp_root, "out")
    os.mkdir(out)
    # reading through the links: nothing of the host's
    # (the container has its own file at the canary's path: that one is read)
    for src in ("cpe:/evil/secret", f"cpe:/root2{canary}", "cpe:/evilfile"):
        got = os.path.join(out, "got")
        eng.ok("cp", "-L", src, got)
        with open(got) as f:
            assert f.read() == "CONTAINER FILE\n", src
        os.unlink(got)
    p = cp_bin(eng, "-L", "cpe:/evil/secret", "-")
    assert p.returncode == 0 and b"HOST SECRET" not in p.stdout
    assert b"CONTAINER FILE" in p.stdout
    in_ctr(eng, "cpe", "rm", canary)
    p = eng("cp", "-L", "cpe:/evilfile", os.path.join(out, "got"))
    assert p.returncode == 1 and not os.path.exists(os.path.join(out, "got"))
    # a directory with a link in it: the link is copied as a link
    eng.ok("cp", "cpe:/data", os.path.join(out, "data"))
    assert os.readlink(os.path.join(out, "data", "abs")) == canary
    # writing through the links: the host file stays as it was
    mine = os.path.join(tmp_root, "mine")
    with open(mine, "w") as f:
        f.write("OVERWRITTEN\n")
    for dst in ("cpe:/evil/secret", f"cpe:/root2{canary}", "cpe:/evilfile"):
        eng.ok("cp", mine, dst)
        with open(canary) as f:
            assert f.read() == "HOST SECRET\n", dst
        # the file landed at the canary's path in the container (a symlink
        # at DEST is followed, inside the container, as Docker's)
        assert in_ctr(eng, "cpe", "cat", canary) == "OVERWRITTEN\n"
        in_ctr(eng, "cpe", "rm", canary)
    assert in_ctr(eng, "cpe", "readlink", "/evilfile") == f"../../../../..{canary}\n"
    # a tar on stdin with `..`, an absolute name and a link to the host's dir
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        ln = tarfile.TarInfo("lnk")
        ln.type = tarfile.SYMTYPE
        ln.linkname = canary_dir
        t.addfile(ln)
        for name in ("lnk/secret", "../../../../.." + canary, canary):
            ti = tarfile.TarInfo(name)
            ti.size = 12
            t.addfile(ti, io.BytesIO(b"OVERWRITTEN\n"))
    cp_bin(eng, "-", "cpe:/tmp", input=buf.getvalue())
    with open(canary) as f:
        assert f.read() == "HOST SECRET\n"
    assert os.listdir(canary_dir) == ["secret"]


def tree(path):
    out = []
    for dp, dns, fns in os.walk(path):
        for n in dns + fns:
            out.append(os.path.relpath(os.path.join(dp, n), path))
    return sorted(out)


CASES = [("d", "new"), ("d", "exists/"), ("d/.", "exists"), ("d/.", "new"), ("d/a", "new"),
         ("d/a", "exists"), ("d/a", "exists/a2")]


def test_cp_rules_like_podman(eng, podman, tmp_root):
    """docker-cp(1)'s SRC/DEST cases (a directory, its `/.` contents, a file;
    to a new path, an existing directory), container -> host and host ->
    container, give the same trees with isola and podman."""
    host = os.path.join(tmp_root, "h")
    # no hard link: podman 4.3's cp fails on one into a renamed directory
    # ("link /tmp/t0/d/sub/b /tmp/t0/new/zhl: no such file or directory")
    make_tree(host, hardlink=False)
    results = {}
    for who, cmd in (("isola", eng), ("podman", podman)):
        extra = ["--network", "none"] if who == "podman" else []
        name = f"cpp-{who}"
        p = cmd("create", *extra, "--name", name, IMAGE, "true")
        assert p.returncode == 0, p.stderr
        res = results.setdefault(who, [])
        for i, (src, dst) in enumerate(CASES):
            # host -> container: into /tmp/tI, which holds an empty `exists`
            tmp = os.path.join(tmp_root, f"empty{who}{i}", f"t{i}")
            os.makedirs(os.path.join(tmp, "exists"))
            assert cmd("cp", tmp, f"{name}:/tmp/").returncode == 0
            p = cmd("cp", os.path.join(host, src), f"{name}:/tmp/t{i}/{dst}")
            assert p.returncode == 0, (who, src, dst, p.stderr)
            # container -> host: the same case from the container's copy
            base = os.path.join(tmp_root, f"{who}{i}")
            os.makedirs(os.path.join(base, "exists"))
            p = cmd("cp", f"{name}:/tmp/t{i}/{dst.rstrip('/')}", os.path.join(base, "back"))
            assert p.returncode == 0, (who, src, dst, p.stderr)
            res.append(tree(base))
            base2 = os.path.join(tmp_root, f"{who}{i}b")
            os.makedirs(os.path.join(base2, "exists"))
            csrc = "/tmp/t0/new" + src[1:]  # case 0 made /tmp/t0/new = d
            p = cmd("cp", f"{name}:{csrc}", os.path.join(base2, dst))
            assert p.returncode == 0, (who, csrc, dst, p.stderr)
            res.append(tree(base2))
    assert results["isola"] == results["podman"]


def test_cp_dest_symlinks_like_podman(eng, podman, tmp_root):
    """A symlink at DEST in the container is followed (a file overwritten
    through it, a dangling one creating its target), as podman cp does."""
    links = os.path.join(tmp_root, "links")
    os.mkdir(links)
    with open(os.path.join(links, "ftarget"), "w") as f:
        f.write("old\n")
    os.symlink("/tmp/ftarget", os.path.join(links, "flink"))
    os.symlink("/tmp/newfile", os.path.join(links, "dang"))
    new = os.path.join(tmp_root, "new")
    with open(new, "w") as f:
        f.write("new\n")
    seen = {}
    for who, cmd in (("isola", eng), ("podman", podman)):
        extra = ["--network", "none"] if who == "podman" else []
        name = f"cpl-{who}"
        assert cmd("create", *extra, "--name", name, IMAGE, "true").returncode == 0
        assert cmd("cp", links + "/.", f"{name}:/tmp/").returncode == 0
        for dst in ("flink", "dang"):
            p = cmd("cp", new, f"{name}:/tmp/{dst}")
            assert p.returncode == 0, (who, dst, p.stderr)
        out = os.path.join(tmp_root, f"out-{who}")
        os.mkdir(out)
        assert cmd("cp", f"{name}:/tmp/.", out).returncode == 0
        got = {}
        for n in sorted(os.listdir(out)):
            path = os.path.join(out, n)
            got[n] = ("link", os.readlink(path)) if os.path.islink(path) else \
                ("file", open(path).read())
        seen[who] = got
    assert seen["isola"] == seen["podman"]
    assert seen["isola"]["ftarget"] == ("file", "new\n")
    assert seen["isola"]["newfile"] == ("file", "new\n")
    assert seen["isola"]["flink"] == ("link", "/tmp/ftarget")


def test_cp_running_sees_its_volumes(eng, tmp_root):
    """A running container is copied from and to as it sees itself: its
    named volume at its path, not the directory below it in the overlay."""
    eng.ok("run", "-d", "--name", "cpv", "-v", "cpvol:/vol", IMAGE, *SLEEPER)
    in_ctr(eng, "cpv", "sh", "-c", "echo in-volume > /vol/f")
    out = os.path.join(tmp_root, "f")
    eng.ok("cp", "cpv:/vol/f", out)
    with open(out) as f:
        assert f.read() == "in-volume\n"
    eng.ok("cp", out, "cpv:/vol/g")
    mp = eng.ok("volume", "inspect", "--format", "{{.Mountpoint}}", "cpvol").strip()
    assert sorted(os.listdir(mp)) == ["f", "g"]


def test_cp_races_with_a_swapping_container(eng, tmp_root):
    """The container swaps a directory for a symlink to a host path while we
    copy from and into it: a copy never reads or writes the host's files
    (each step opens one name from its parent's fd, in the container's root)."""
    canary_dir = os.path.join(tmp_root, "hostdir")
    os.mkdir(canary_dir)
    with open(os.path.join(canary_dir, "secret"), "w") as f:
        f.write("HOST SECRET\n")
    eng.ok("run", "-d", "--name", "cprace", IMAGE, "sh", "-c",
           "mkdir -p /race/real && echo container > /race/real/secret && "
           f"ln -s /../../../..{canary_dir} /race/evil && "
           "trap 'exit 0' TERM; while :; do "
           "ln -sfn evil /race/d.new && mv -T /race/d.new /race/d; "
           "ln -sfn real /race/d.new && mv -T /race/d.new /race/d; "
           "done")
    mine = os.path.join(tmp_root, "mine")
    with open(mine, "w") as f:
        f.write("OVERWRITTEN\n")
    # (relative paths are relative to the container's root, as Docker's)
    for i in range(30):
        for src in ("cprace:/race/d/secret", "cprace:race/d/secret"):
            p = cp_bin(eng, "-L", src, "-")
            assert b"HOST SECRET" not in p.stdout
        p = cp_bin(eng, "cprace:/race", "-")
        assert b"HOST SECRET" not in p.stdout
        cp_bin(eng, mine, f"cprace:race/d/w{i}")
    assert sorted(os.listdir(canary_dir)) == ["secret"]
    with open(os.path.join(canary_dir, "secret")) as f:
        assert f.read() == "HOST SECRET\n"
