"""isola build: instructions, cache, errors, and the same files as `podman build`."""
import json
import os

import imagelib
import pytest
from conftest import run

DOCKERFILE = """\
# a comment
FROM {base} AS base
ARG GREETING=hi
ENV APP=/app \\
    MODE=test
WORKDIR $APP
COPY hello.txt sub ./
COPY --chown=1:1 hello.txt /owned/
RUN echo "$GREETING $MODE" > /app/run.txt && rm /bin/vi && mkdir -p /var/x && touch /var/x/y
RUN ["/bin/sh", "-c", "rm -rf /var/x; echo exec >> /app/run.txt; chmod 4755 /app/run.txt"]
EXPOSE 8080
LABEL org.example=yes
VOLUME /data
USER daemon
ENTRYPOINT ["/bin/cat"]
CMD ["/app/run.txt"]
"""


def context(tmp_root, base, dockerfile=DOCKERFILE):
    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(os.path.join(ctx, "sub"))
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(dockerfile.format(base=base))
    with open(os.path.join(ctx, "hello.txt"), "w") as f:
        f.write("hello\n")
    with open(os.path.join(ctx, "sub", "a"), "w") as f:
        f.write("a\n")
    with open(os.path.join(ctx, "sub", "secret"), "w") as f:
        f.write("do not copy\n")
    with open(os.path.join(ctx, ".dockerignore"), "w") as f:
        f.write("sub/secret\n")
    return ctx


def base_image(isola, rootfs, tmp_root, name):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name=name)
    assert run([isola, "load", "--root", store, "-i", lay]).returncode == 0
    return store


def tree(isola, store, image, dest):
    """The image's files (flattened copy): path -> (mode, uid, gid, content)."""
    p = run([isola, "bundle", "--root", store, "--copy", image, dest, "true"], timeout=120)
    assert p.returncode == 0, p.stderr
    root = os.path.join(dest, "rootfs")
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            path = os.path.join(d, n)
            st = os.lstat(path)
            if os.path.islink(path):
                body = os.readlink(path)
            elif os.path.isfile(path):
                body = open(path, "rb").read()
            else:
                body = None
            out[os.path.relpath(path, root)] = (oct(st.st_mode), st.st_uid, st.st_gid, body)
    return out


def build(isola, store, ctx, tag, *extra):
    return run([isola, "build", "--root", store, "-t", tag, *extra, ctx], timeout=300)


def test_build_instructions_and_cache(isola, rootfs, tmp_root):
    imagelib.need("runc")
    base = f"localhost/bb{os.getpid()}:1"
    store = base_image(isola, rootfs, tmp_root, base)
    ctx = context(tmp_root, base)
    p = build(isola, store, ctx, "built:1")
    assert p.returncode == 0, p.stdout + p.stderr
    t = tree(isola, store, "built:1", os.path.join(tmp_root, "b"))
    assert t["app/hello.txt"][3] == b"hello\n" and t["app/a"][3] == b"a\n"
    assert "app/secret" not in t, ".dockerignore"
    assert t["app/run.txt"][3] == b"hi test\nexec\n"
    assert t["app/run.txt"][0] == oct(0o104755)
    assert t["owned/hello.txt"][1:3] == (1, 1)
    assert "bin/vi" not in t and "var/x" not in t
    cfg = json.loads(run([isola, "inspect", "--root", store, "built:1"]).stdout)[0]["Config"]
    c = cfg["config"]
    assert c["Entrypoint"] == ["/bin/cat"] and c["Cmd"] == ["/app/run.txt"]
    assert "APP=/app" in c["Env"] and c["WorkingDir"] == "/app" and c["User"] == "daemon"
    assert "8080/tcp" in c["ExposedPorts"] and c["Labels"]["org.example"] == "yes"
    assert "/data" in c["Volumes"]
    # Rebuild: every layer from the cache; a changed file invalidates from its COPY on.
    p = build(isola, store, ctx, "built:2")
    assert p.returncode == 0 and p.stdout.count("Using cache") == 4, p.stdout
    with open(os.path.join(ctx, "hello.txt"), "w") as f:
        f.write("changed\n")
    p = build(isola, store, ctx, "built:3", "--build-arg", "GREETING=yo")
    assert p.returncode == 0 and "Using cache" not in p.stdout, p.stdout
    t = tree(isola, store, "built:3", os.path.join(tmp_root, "b3"))
    assert t["app/run.txt"][3] == b"yo test\nexec\n"
    assert run([isola, "image", "check", "--root", store]).returncode == 0


def test_multistage_and_scratch(isola, rootfs, tmp_root):
    imagelib.need("runc")
    base = f"localhost/bb{os.getpid()}:1"
    store = base_image(isola, rootfs, tmp_root, base)
    ctx = context(tmp_root, base, DOCKERFILE + "FROM scratch\nCOPY --from=base /app /out/\n")
    # Also through an external OCI runtime (runc) instead of isola's own.
    p = build(isola, store, ctx, "ms:1", "--runtime", "runc")
    assert p.returncode == 0, p.stdout + p.stderr
    t = tree(isola, store, "ms:1", os.path.join(tmp_root, "b"))
    assert sorted(t) == ["out", "out/a", "out/hello.txt", "out/run.txt"]


@pytest.mark.parametrize("text,where", [
    ("FROM {base}\nFROB x\n", "Dockerfile:2:1: unknown instruction `FROB`"),
    ("RUN true\n", "Dockerfile:1:1: the first instruction must be FROM"),
    ("FROM {base}\nCOPY [\"a\", 1]\n", "Dockerfile:2:6: COPY: expected a JSON array"),
    ("FROM {base}\nCOPY nothing-here /x\n", "Dockerfile:2:6: COPY: source `nothing-here`"),
    ("FROM {base}\nRUN exit 3\n", "Dockerfile:2:5: RUN: `exit 3` returned a non-zero code: 3"),
    ("FROM {base}\nCOPY ../outside /x\n", "leaves the build context"),
    ("FROM no-such-image-{pid}\n", "Dockerfile:1:6: FROM"),
])
def test_bad_dockerfiles_named(isola, rootfs, tmp_root, text, where):
    base = f"localhost/bb{os.getpid()}:1"
    store = base_image(isola, rootfs, tmp_root, base)
    ctx = context(tmp_root, base, text.replace("{pid}", str(os.getpid())))
    p = build(isola, store, ctx, "bad:1")
    assert p.returncode == 1
    assert where in p.stderr, p.stderr
    names = [i["name"] for i in json.loads(run([isola, "images", "--root", store,
                                                 "--format", "json"]).stdout)]
    assert "bad:1" not in names
    assert run([isola, "image", "check", "--root", store]).returncode == 0
    assert os.listdir(os.path.join(store, "tmp")) == []


def test_same_files_as_podman_build(isola, rootfs, tmp_root):
    imagelib.need("podman")
    imagelib.need("runc")
    base = f"localhost/bb{os.getpid()}:1"
    store = base_image(isola, rootfs, tmp_root, base)
    ctx = context(tmp_root, base)
    assert build(isola, store, ctx, "mine:1").returncode == 0
    pm = os.path.join(tmp_root, "podman")
    os.makedirs(pm)
    env = imagelib.podman_env(pm)
    try:
        saved = os.path.join(tmp_root, "base.tar")
        assert run([isola, "save", "--root", store, "-o", saved, base]).returncode == 0
        assert run(["podman", "load", "-i", saved], env=env, timeout=180).returncode == 0
        p = run(["podman", "build", "--runtime", "runc", "--network", "host", "-t",
                 "theirs:1", ctx], env=env, timeout=600)
        assert p.returncode == 0, p.stderr
        out = os.path.join(tmp_root, "theirs.tar")
        p = run(["podman", "save", "--format", "oci-archive", "-o", out, "theirs:1"], env=env,
                timeout=180)
        assert p.returncode == 0, p.stderr
        assert run([isola, "load", "--root", store, "-t", "theirs:1", "-i", out]).returncode == 0
        mine = tree(isola, store, "mine:1", os.path.join(tmp_root, "m"))
        theirs = tree(isola, store, "theirs:1", os.path.join(tmp_root, "t"))
        diff = {k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)}
        assert diff == set(), {k: (mine.get(k), theirs.get(k)) for k in sorted(diff)[:10]}
    finally:
        run(["podman", "rmi", "-af"], env=env, timeout=120)
        run(["umount", "-l", os.path.join(pm, "graph", "overlay")], timeout=30)


def test_kill_mid_build(isola, rootfs, tmp_root):
    import subprocess
    import time
    base = f"localhost/bb{os.getpid()}:1"
    store = base_image(isola, rootfs, tmp_root, base)
    ctx = context(tmp_root, base, "FROM {base}\nRUN echo started; sleep 60\n")
    out = open(os.path.join(tmp_root, "build.out"), "w+")
    p = subprocess.Popen([isola, "build", "--root", store, "-t", "killed:1", ctx], stdout=out,
                         stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            out.seek(0)
            if "started" in out.read():
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the RUN step did not start")
        p.kill()
        p.wait(timeout=30)
        names = [i["name"] for i in json.loads(run([isola, "images", "--root", store,
                                                     "--format", "json"]).stdout)]
        assert "killed:1" not in names
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)
        # prune kills what the dead build left running, unmounts and removes it.
        q = run([isola, "image", "prune", "--root", store], timeout=120)
    assert q.returncode == 0, q.stderr
    assert os.listdir(os.path.join(store, "tmp")) == []
    assert run([isola, "image", "check", "--root", store]).returncode == 0


@pytest.mark.parametrize("mode", ["w:gz", "w:xz", "w:bz2", "w"])
def test_add_unpacks_local_archives(isola, tmp_root, mode):
    import io
    import tarfile

    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with tarfile.open(os.path.join(ctx, "pkg.tar.any"), mode) as t:
        for name, body in (("top.txt", b"top\n"), ("d/inner.txt", b"inner\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(body)
            ti.mode = 0o640
            t.addfile(ti, io.BytesIO(body))
    with open(os.path.join(ctx, "plain.txt"), "w") as f:
        f.write("plain\n")
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nADD pkg.tar.any /opt/\nADD plain.txt /opt/plain.txt\n"
                "COPY pkg.tar.any /copied/\n")
    store = os.path.join(tmp_root, "store")
    p = build(isola, store, ctx, "added:1")
    assert p.returncode == 0, p.stdout + p.stderr
    t = tree(isola, store, "added:1", os.path.join(tmp_root, "b"))
    assert t["opt/top.txt"][3] == b"top\n" and t["opt/top.txt"][0] == oct(0o100640)
    assert t["opt/d/inner.txt"][3] == b"inner\n"
    assert t["opt/plain.txt"][3] == b"plain\n"
    assert "opt/pkg.tar.any" not in t
    # COPY never unpacks.
    assert t["copied/pkg.tar.any"][3] == open(os.path.join(ctx, "pkg.tar.any"), "rb").read()


def test_add_refuses_hostile_archive(isola, tmp_root):
    import io
    import tarfile

    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with tarfile.open(os.path.join(ctx, "evil.tar"), "w") as t:
        ti = tarfile.TarInfo("../../escape.txt")
        ti.size = 4
        t.addfile(ti, io.BytesIO(b"bad\n"))
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nADD evil.tar /opt/\n")
    store = os.path.join(tmp_root, "store")
    p = build(isola, store, ctx, "evil:1")
    assert p.returncode != 0
    assert "Dockerfile:2" in p.stderr and "escape.txt" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(tmp_root, "escape.txt"))
    assert run([isola, "image", "check", "--root", store]).returncode == 0


def test_dockerignore_double_star_and_exceptions(isola, tmp_root):
    ctx = os.path.join(tmp_root, "ctx")
    files = ["keep.txt", "a.log", "deep/x/y/b.log", "deep/x/keep.log", "docs/readme.md",
             "docs/sub/notes.md", "top/secret", "nested/top/secret"]
    for name in files:
        os.makedirs(os.path.dirname(os.path.join(ctx, name)), exist_ok=True)
        with open(os.path.join(ctx, name), "w") as f:
            f.write(name + "\n")
    with open(os.path.join(ctx, ".dockerignore"), "w") as f:
        f.write("# comment\n**/*.log\n!deep/x/keep.log\ndocs/*.md\ntop/secret\n")
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nCOPY . /c/\n")
    store = os.path.join(tmp_root, "store")
    p = build(isola, store, ctx, "ign:1")
    assert p.returncode == 0, p.stdout + p.stderr
    t = tree(isola, store, "ign:1", os.path.join(tmp_root, "b"))
    have = sorted(k[2:] for k, v in t.items() if k.startswith("c/") and v[3] is not None)
    assert have == [".dockerignore", "Dockerfile", "deep/x/keep.log", "docs/sub/notes.md", "keep.txt",
                    "nested/top/secret"], have


def test_run_steps_get_the_engines_spec_like_podman_build(isola, rootfs, tmp_root):
    # RUN steps go through the engine's composer (src/engine/build_step.c): the
    # default capabilities and seccomp profile of a container, as buildah gives
    # its RUN steps, not a bare runtime template.
    imagelib.need("podman")
    imagelib.need("runc")
    base = f"localhost/bbs{os.getpid()}:1"
    store = base_image(isola, rootfs, tmp_root, base)
    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {base}\n"
                "RUN grep -E '^(Seccomp|CapBnd|CapEff):' /proc/self/status > /status\n")
    assert build(isola, store, ctx, "mine:1").returncode == 0
    pm = os.path.join(tmp_root, "podman")
    os.makedirs(pm)
    env = imagelib.podman_env(pm)
    try:
        saved = os.path.join(tmp_root, "base.tar")
        assert run([isola, "save", "--root", store, "-o", saved, base]).returncode == 0
        assert run(["podman", "load", "-i", saved], env=env, timeout=180).returncode == 0
        p = run(["podman", "build", "--runtime", "runc", "--network", "host", "-t",
                 "theirs:1", ctx], env=env, timeout=600)
        assert p.returncode == 0, p.stderr
        out = os.path.join(tmp_root, "theirs.tar")
        p = run(["podman", "save", "--format", "oci-archive", "-o", out, "theirs:1"], env=env,
                timeout=180)
        assert p.returncode == 0, p.stderr
        assert run([isola, "load", "--root", store, "-t", "theirs:1", "-i", out]).returncode == 0
        mine = tree(isola, store, "mine:1", os.path.join(tmp_root, "m"))["status"][3].decode()
        theirs = tree(isola, store, "theirs:1", os.path.join(tmp_root, "t"))["status"][3].decode()
        assert "Seccomp:\t2" in mine
        assert mine == theirs
    finally:
        run(["podman", "rmi", "-af"], env=env, timeout=120)
        run(["umount", "-l", os.path.join(pm, "graph", "overlay")], timeout=30)
