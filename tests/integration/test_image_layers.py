"""Layers and bundles: whiteouts, hostile entries, overlay vs copy, runc runs the bundle."""
import json
import os
import shutil
import subprocess
import tarfile

import imagelib
import pytest
from conftest import run


def dir_entry(name, mode=0o755):
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    return info, None


def link_entry(name, target, hard=False):
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info, None


def load(isola, tmp_root, layers, name, **kw):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout-" + name.replace(":", "-"))
    imagelib.write_layout(lay, layers, name=name, **kw)
    p = run([isola, "load", "--root", store, "-i", lay])
    assert p.returncode == 0, p.stderr
    return store


def bundle(isola, store, name, dest, *cmd, opts=(), copy=False):
    argv = [isola, "bundle", "--root", store] + (["--copy"] if copy else []) + \
        list(opts) + [name, dest] + list(cmd)
    return run(argv, timeout=120)


def remove(isola, dest):
    run([isola, "bundle", "--remove", dest])


def tree(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            out[rel] = (oct(st.st_mode), st.st_uid, st.st_gid,
                        open(p, "rb").read() if os.path.isfile(p) and not os.path.islink(p)
                        else os.readlink(p) if os.path.islink(p) else None)
    return out


@pytest.mark.parametrize("copy", [False, True], ids=["overlay", "copy"])
def test_whiteouts_hardlinks_ownership(isola, rootfs, tmp_root, copy):
    base = imagelib.tar_of_dir(rootfs)
    l1 = imagelib.tar_of_entries([
        dir_entry("a"), imagelib.file_entry("a/x", b"x"), imagelib.file_entry("a/y", b"y"),
        dir_entry("b"), imagelib.file_entry("b/z", b"z", mode=0o4755, uid=1, gid=1),
        imagelib.file_entry("c", b"c"), link_entry("b/hard", "b/z", hard=True),
    ])
    l2 = imagelib.tar_of_entries([
        dir_entry("a"), imagelib.file_entry("a/.wh..wh..opq", b""),
        imagelib.file_entry("a/new", b"new"), imagelib.file_entry(".wh.c", b""),
    ])
    name = f"wh{os.getpid()}:1"
    store = load(isola, tmp_root, [base, l1, l2], name)
    dest = os.path.join(tmp_root, "bundle")
    try:
        p = bundle(isola, store, name, dest, copy=copy)
        assert p.returncode == 0, p.stderr
        r = os.path.join(dest, "rootfs")
        assert sorted(os.listdir(os.path.join(r, "a"))) == ["new"]
        assert not os.path.lexists(os.path.join(r, "c"))
        st = os.stat(os.path.join(r, "b", "z"))
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1, 1, 0o4755)
        assert os.stat(os.path.join(r, "b", "hard")).st_ino == st.st_ino
        assert os.path.islink(os.path.join(r, "bin", "sh"))
        # The container's writes stay in its own bundle.
        with open(os.path.join(r, "written"), "w") as f:
            f.write("mine")
        layers = os.path.join(store, "layers", "sha256")
        for d in os.listdir(layers):
            assert not os.path.exists(os.path.join(layers, d, "written"))
    finally:
        remove(isola, dest)
    assert not os.path.exists(dest)


def test_two_bundles_share_unpacked_layers(isola, rootfs, tmp_root):
    name = f"share{os.getpid()}:1"
    store = load(isola, tmp_root, [imagelib.tar_of_dir(rootfs)], name)
    b1, b2 = os.path.join(tmp_root, "b1"), os.path.join(tmp_root, "b2")
    try:
        assert bundle(isola, store, name, b1).returncode == 0
        assert bundle(isola, store, name, b2).returncode == 0
        assert len(os.listdir(os.path.join(store, "layers", "sha256"))) == 1
        with open(os.path.join(b1, "rootfs", "etc", "hostname"), "w") as f:
            f.write("changed\n")
        with open(os.path.join(b2, "rootfs", "etc", "hostname")) as f:
            assert f.read() == "isola\n"
    finally:
        remove(isola, b1)
        remove(isola, b2)


HOSTILE = {
    "dotdot": [imagelib.file_entry("../escaped", b"x")],
    "absolute": [imagelib.file_entry("/escaped", b"x")],
    "device": [(lambda i: (setattr(i, "type", tarfile.CHRTYPE), setattr(i, "devmajor", 1),
                           setattr(i, "devminor", 3), (i, None))[-1])(tarfile.TarInfo("null"))],
    "hardlink-out": [link_entry("h", "../../../../etc/passwd", hard=True)],
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_entries_refused(isola, tmp_root, kind):
    name = f"hostile-{kind}{os.getpid()}:1"
    store = load(isola, tmp_root, [imagelib.tar_of_entries(HOSTILE[kind])], name)
    dest = os.path.join(tmp_root, "bundle")
    try:
        p = bundle(isola, store, name, dest)
        assert p.returncode == 1
        assert "refused" in p.stderr or "not allowed" in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(os.path.dirname(tmp_root), "escaped"))
        assert not os.path.exists("/escaped")
        # Nothing half-unpacked is left in the store.
        assert os.listdir(os.path.join(store, "layers", "sha256")) == []
        assert os.listdir(os.path.join(store, "tmp")) == []
    finally:
        remove(isola, dest)


def test_symlink_escape_stays_inside(isola, tmp_root):
    outside = os.path.join(tmp_root, "outside")
    os.makedirs(outside)
    entries = [link_entry("link", outside), imagelib.file_entry("link/planted", b"x"),
               link_entry("rel", "../../../../../.." + outside),
               imagelib.file_entry("rel/planted2", b"x")]
    name = f"symesc{os.getpid()}:1"
    store = load(isola, tmp_root, [imagelib.tar_of_entries(entries)], name)
    dest = os.path.join(tmp_root, "bundle")
    try:
        bundle(isola, store, name, dest)
        assert os.listdir(outside) == []
    finally:
        remove(isola, dest)


def test_bundle_config_from_image(isola, rootfs, tmp_root):
    name = f"cfg{os.getpid()}:1"
    store = load(isola, tmp_root, [imagelib.tar_of_dir(rootfs)], name, config_extra={
        "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo default"], "Env": ["A=1"],
        "WorkingDir": "/tmp", "User": "daemon", "ExposedPorts": {"80/tcp": {}},
        "Labels": {"org.example.k": "v"}, "Volumes": {"/data": {}}})
    dest = os.path.join(tmp_root, "bundle")
    try:
        assert bundle(isola, store, name, dest, opts=("-e", "B=2")).returncode == 0
        with open(os.path.join(dest, "config.json")) as f:
            spec = json.load(f)
        proc = spec["process"]
        assert proc["args"] == ["/bin/sh", "-c", "echo default"]
        assert "A=1" in proc["env"] and "B=2" in proc["env"]
        assert any(e.startswith("PATH=") for e in proc["env"])
        assert proc["cwd"] == "/tmp" and proc["user"] == {"uid": 1, "gid": 1}
        assert spec["annotations"]["org.example.k"] == "v"
        assert spec["annotations"]["org.opencontainers.image.exposedPorts"] == "80/tcp"
        assert os.path.isdir(os.path.join(dest, "rootfs", "data"))
    finally:
        remove(isola, dest)


def test_runc_runs_the_bundle(isola, rootfs, tmp_root):
    imagelib.need("runc")
    name = f"run{os.getpid()}:1"
    store = load(isola, tmp_root, [imagelib.tar_of_dir(rootfs)], name,
                 config_extra={"Env": ["GREETING=hello-from-image"], "User": "daemon"})
    dest = os.path.join(tmp_root, "bundle")
    state = os.path.join(tmp_root, "runc")
    cid = f"isola-img-{os.getpid()}"
    try:
        assert bundle(isola, store, name, dest, "sh", "-c",
                      "echo $GREETING; id -u; pwd").returncode == 0
        p = run(["runc", "--root", state, "run", "-b", dest, cid], timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == ["hello-from-image", "1", "/"]
    finally:
        subprocess.run(["runc", "--root", state, "delete", "-f", cid], capture_output=True,
                       timeout=30)
        remove(isola, dest)


def test_prune_keeps_layers_of_mounted_containers(isola, rootfs, tmp_root):
    name = f"inuse{os.getpid()}:1"
    store = load(isola, tmp_root, [imagelib.tar_of_dir(rootfs)], name)
    dest = os.path.join(tmp_root, "bundle")
    try:
        assert bundle(isola, store, name, dest).returncode == 0
        assert run([isola, "rmi", "--root", store, name]).returncode == 0
        # The image is gone, but its layer stays while a container's overlay uses it.
        assert len(os.listdir(os.path.join(store, "layers", "sha256"))) == 1
        assert os.path.exists(os.path.join(dest, "rootfs", "bin", "busybox"))
    finally:
        remove(isola, dest)
    assert run([isola, "image", "prune", "--root", store]).returncode == 0
    assert os.listdir(os.path.join(store, "layers", "sha256")) == []


def test_full_disk_is_a_clear_error(isola, rootfs, tmp_root):
    store = os.path.join(tmp_root, "small")
    os.makedirs(store)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", store], check=True,
                   timeout=30)
    try:
        lay = os.path.join(tmp_root, "layout")
        imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="big:1", gz=False)
        p = run([isola, "load", "--root", store, "-i", lay])
        assert p.returncode == 1 and "No space left on device" in p.stderr, p.stderr
        assert json.loads(run([isola, "images", "--root", store, "--format", "json"]).stdout) == []
        assert os.listdir(os.path.join(store, "tmp")) == []
        assert run([isola, "image", "check", "--root", store]).returncode == 0
    finally:
        subprocess.run(["umount", store], timeout=30)
