"""The image CLI as Docker users know it: image references checked with Docker's
grammar (distribution/reference) by every command that names an image, `save`
to stdout and `load` from stdin."""
import json
import os
import pty
import subprocess
import tarfile

import imagelib
import pytest
from conftest import run

# (reference, valid for Docker). distribution/reference: lowercase path components
# separated by `.`, `_`, `__` or dashes; an optional HOST[:PORT]; tags of up to 128
# word characters, `.` and `-`, not starting with `.` or `-`.
REFS = [
    ("Bad Name!", False),
    ("UPPER", False),
    ("repo/Sub:1", False),
    ("a..b", False),
    ("a___b", False),
    ("a-", False),
    ("x:", False),
    ("x:-y", False),
    ("x:" + "t" * 129, False),
    ("a:b:c", False),
    ("ex.com:/a", False),
    ("a__b", True),
    ("a--b:1", True),
    ("localhost:5000/a/b:1", True),
    ("a/b/c:v1.0-rc_1", True),
    ("x:" + "t" * 128, True),
]


def iso(isola, *args, **kw):
    return run([isola, *args], timeout=120, **kw)


@pytest.fixture
def store(isola, rootfs, tmp_root):
    st = os.path.join(tmp_root, "store")
    p = iso(isola, "import", "--root", st, rootfs, "base:1")
    assert p.returncode == 0, p.stderr
    return st


def names(isola, store):
    p = iso(isola, "images", "--root", store, "--format", "json")
    assert p.returncode == 0, p.stderr
    return sorted(i["name"] for i in json.loads(p.stdout))


def test_tag_checks_the_reference_like_docker(isola, store, tmp_root):
    for ref, valid in REFS:
        p = iso(isola, "tag", "--root", store, "base:1", ref)
        if valid:
            assert p.returncode == 0, (ref, p.stderr)
        else:
            assert p.returncode == 1, ref
            assert f"reference `{ref}`: invalid reference format" in p.stderr, p.stderr
    # The reason is spelled out.
    p = iso(isola, "tag", "--root", store, "base:1", "UPPER")
    assert "must be lowercase" in p.stderr
    p = iso(isola, "tag", "--root", store, "base:1", "Bad Name!")
    assert "` ` is not allowed" in p.stderr
    # As Docker: no tag with a digest.
    dref = "a@sha256:" + "0" * 64
    p = iso(isola, "tag", "--root", store, "base:1", dref)
    assert p.returncode == 1 and "digest" in p.stderr and dref in p.stderr
    valid = [r if ":" in r.rsplit("/", 1)[-1] else r + ":latest" for r, v in REFS if v]
    assert names(isola, store) == sorted(["base:1"] + valid)


def private_podman(pm):
    """imagelib.podman_env plus a private engine tmp_dir: the default /run/libpod is
    shared with every other podman user of this host (and removed under us)."""
    env = imagelib.podman_env(pm)
    with open(env["CONTAINERS_CONF"], "a") as f:  # the [engine] table is the last one
        f.write(f'tmp_dir="{pm}/libpod-tmp"\n')
    return env


def podman_cleanup(env, pm):
    run(["podman", "rmi", "-af"], env=env, timeout=120)
    run(["umount", "-l", os.path.join(pm, "graph", "overlay")], timeout=30)


def test_podman_agrees_on_the_references(isola, store, tmp_root):
    imagelib.need("podman")
    pm = os.path.join(tmp_root, "podman")
    os.makedirs(pm)
    env = private_podman(pm)
    try:
        podman_tags(isola, store, tmp_root, env)
    finally:
        podman_cleanup(env, pm)


def podman_tags(isola, store, tmp_root, env):
    archive = os.path.join(tmp_root, "base.tar")
    with open(archive, "wb") as f:
        p = subprocess.run([isola, "save", "--root", store, "-o", "-", "base:1"], stdout=f,
                           stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr
    p = run(["podman", "load", "-i", archive], env=env, timeout=180)
    assert p.returncode == 0, p.stderr
    for ref, valid in REFS:
        p = run(["podman", "tag", "base:1", ref], env=env, timeout=60)
        assert (p.returncode == 0) == valid, (ref, p.stderr)


@pytest.mark.parametrize("ref", ["Bad Name!", "UPPER:1"])
def test_every_command_that_names_an_image_checks_it(isola, store, rootfs, tmp_root, ref):
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="lay:1")
    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM base:1\n")
    want = f"reference `{ref}`: invalid reference format"
    for argv in (["pull", "--root", store, ref],  # refused before any network access
                 ["build", "--root", store, "-t", ref, ctx],
                 ["import", "--root", store, rootfs, ref],
                 ["load", "--root", store, "-t", ref, "-i", lay]):
        p = iso(isola, *argv)
        assert p.returncode == 1, argv
        assert want in p.stderr, (argv, p.stderr)
    assert names(isola, store) == ["base:1"]


def test_save_to_stdout_and_load_from_stdin(isola, store, tmp_root):
    image_id = json.loads(iso(isola, "inspect", "--root", store, "base:1").stdout)[0]["Id"]
    for fmt, marker in (("oci-archive", "index.json"), ("docker-archive", "manifest.json")):
        out = os.path.join(tmp_root, f"{fmt}.tar")
        with open(out, "wb") as f:
            p = subprocess.run([isola, "save", "--root", store, "--format", fmt, "-o", "-",
                                "base:1"], stdout=f, stderr=subprocess.PIPE, cwd=tmp_root,
                               timeout=120)
        assert p.returncode == 0, p.stderr
        assert not os.path.exists(os.path.join(tmp_root, "-")), "wrote a file named `-`"
        with tarfile.open(out) as t:
            assert marker in t.getnames()
        # `-i -` and no -i both read stdin.
        for i, opt in enumerate((["-i", "-"], [])):
            st = os.path.join(tmp_root, f"{fmt}-{i}")
            with open(out, "rb") as f:
                p = subprocess.run([isola, "load", "--root", st, *opt], stdin=f,
                                   capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stderr
            assert "Loaded image: base:1" in p.stdout
            got = json.loads(iso(isola, "inspect", "--root", st, "base:1").stdout)[0]["Id"]
            assert got == image_id
    # Without -o the archive goes to stdout too, but never to a terminal.
    master, slave = pty.openpty()
    try:
        p = subprocess.run([isola, "save", "--root", store, "base:1"], stdout=slave,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    assert p.returncode == 2 and "terminal" in p.stderr


def test_podman_loads_what_save_writes_to_stdout(isola, store, tmp_root):
    imagelib.need("podman")
    pm = os.path.join(tmp_root, "podman")
    os.makedirs(pm)
    env = private_podman(pm)
    save = subprocess.Popen([isola, "save", "--root", store, "--format", "docker-archive",
                             "base:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p = subprocess.run(["podman", "load"], stdin=save.stdout, capture_output=True,
                           text=True, env=env, timeout=180)
        save.stdout.close()
        assert save.wait(timeout=60) == 0, save.stderr.read()
        assert p.returncode == 0, p.stderr
        assert "base:1" in p.stdout
    finally:
        if save.poll() is None:
            save.kill()
            save.wait(timeout=30)
        save.stderr.close()
        podman_cleanup(env, pm)


def test_load_checks_the_names_inside_the_archive(isola, store, rootfs, tmp_root):
    """Names from an archive (docker-archive RepoTags, OCI ref.name) go through the
    same check; the error says where the name came from and how to give another."""
    docker_dir = os.path.join(tmp_root, "docker")
    tar = os.path.join(tmp_root, "d.tar")
    p = iso(isola, "save", "--root", store, "--format", "docker-archive", "-o", tar, "base:1")
    assert p.returncode == 0, p.stderr
    with tarfile.open(tar) as t:
        t.extractall(docker_dir)
    mpath = os.path.join(docker_dir, "manifest.json")
    with open(mpath) as f:
        m = json.load(f)
    m[0]["RepoTags"] = ["Bad Name!:1"]
    with open(mpath, "w") as f:
        json.dump(m, f)
    oci_dir = os.path.join(tmp_root, "oci")
    imagelib.write_layout(oci_dir, [imagelib.tar_of_dir(rootfs)], name="V1")
    for i, (src, ref) in enumerate(((docker_dir, "Bad Name!:1"), (oci_dir, "V1"))):
        st = os.path.join(tmp_root, f"st{i}")
        p = iso(isola, "load", "--root", st, "-i", src)
        assert p.returncode == 1, p.stdout
        assert f"reference `{ref}`: invalid reference format" in p.stderr, p.stderr
        assert "-t NAME" in p.stderr
        assert names(isola, st) == []
        p = iso(isola, "load", "--root", st, "-t", "renamed:1", "-i", src)
        assert p.returncode == 0, p.stderr
        assert names(isola, st) == ["renamed:1"]
