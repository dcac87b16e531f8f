"""The image store: load, images, tag, rmi, inspect, prune, check, and refusals."""
import json
import os
import tarfile

import imagelib
from conftest import run


def iso(isola, root, *args, timeout=120):
    return run([isola, *args, "--root", root] if args[0] not in ("image",)
               else [isola, args[0], args[1], "--root", root, *args[2:]], timeout=timeout)


def test_load_list_tag_rmi_prune(isola, rootfs, tmp_root):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    mdigest, cfg = imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)],
                                         name=f"busybox-{os.getpid()}:v1")
    p = iso(isola, store, "load", "-i", lay)
    assert p.returncode == 0, p.stderr
    assert f"busybox-{os.getpid()}:v1" in p.stdout
    p = iso(isola, store, "images", "--format", "json")
    imgs = json.loads(p.stdout)
    assert [i["name"] for i in imgs] == [f"busybox-{os.getpid()}:v1"]
    assert imgs[0]["id"] == cfg and imgs[0]["digest"] == mdigest
    p = iso(isola, store, "images")
    assert f"busybox-{os.getpid()}" in p.stdout and cfg[7:19] in p.stdout
    assert iso(isola, store, "tag", f"busybox-{os.getpid()}:v1", "other").returncode == 0
    p = iso(isola, store, "inspect", "other")
    info = json.loads(p.stdout)[0]
    assert info["Id"] == cfg and info["Config"]["config"]["Cmd"] == ["/bin/sh"]
    # By ID prefix.
    assert iso(isola, store, "inspect", cfg[7:19]).returncode == 0
    assert iso(isola, store, "rmi", "other").returncode == 0
    blobs = os.listdir(os.path.join(store, "blobs", "sha256"))
    assert len(blobs) == 3, "the image is still tagged v1: nothing collected"
    assert iso(isola, store, "rmi", f"busybox-{os.getpid()}:v1").returncode == 0
    assert os.listdir(os.path.join(store, "blobs", "sha256")) == []
    p = iso(isola, store, "image", "check")
    assert p.returncode == 0 and "0 problems" in p.stdout


def test_unknown_image_is_named(isola, tmp_root):
    p = iso(isola, tmp_root, "inspect", "no-such-image")
    assert p.returncode == 1 and "no-such-image" in p.stderr


def test_store_is_an_oci_layout_for_skopeo(isola, rootfs, tmp_root):
    imagelib.need("skopeo")
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="bb:1")
    assert iso(isola, store, "load", "-i", lay).returncode == 0
    p = run(["skopeo", "inspect", f"oci:{store}:bb:1"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["Os"] == "linux"


def test_digest_mismatch_refused_nothing_tagged(isola, rootfs, tmp_root):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="bad:1")
    # Corrupt the layer blob (the largest file).
    blobs = os.path.join(lay, "blobs", "sha256")
    big = max(os.listdir(blobs), key=lambda n: os.path.getsize(os.path.join(blobs, n)))
    with open(os.path.join(blobs, big), "r+b") as f:
        f.seek(100)
        f.write(b"corrupt!")
    p = iso(isola, store, "load", "-i", lay)
    assert p.returncode == 1
    assert "digest mismatch" in p.stderr and big in p.stderr
    assert json.loads(iso(isola, store, "images", "--format", "json").stdout) == []
    assert iso(isola, store, "image", "check").returncode == 0


def test_missing_blob_named(isola, rootfs, tmp_root):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="gone:1")
    blobs = os.path.join(lay, "blobs", "sha256")
    big = max(os.listdir(blobs), key=lambda n: os.path.getsize(os.path.join(blobs, n)))
    os.unlink(os.path.join(blobs, big))
    p = iso(isola, store, "load", "-i", lay)
    assert p.returncode == 1 and "missing" in p.stderr and big in p.stderr
    assert json.loads(iso(isola, store, "images", "--format", "json").stdout) == []


def test_truncated_archive_refused(isola, rootfs, tmp_root):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="trunc:1")
    tarpath = os.path.join(tmp_root, "img.tar")
    with tarfile.open(tarpath, "w") as t:
        for n in ("oci-layout", "index.json", "blobs"):
            t.add(os.path.join(lay, n), arcname=n)
    size = os.path.getsize(tarpath)
    with open(tarpath, "r+b") as f:
        f.truncate(size // 2)
    p = iso(isola, store, "load", "-i", tarpath)
    assert p.returncode == 1 and "img.tar" in p.stderr
    assert json.loads(iso(isola, store, "images", "--format", "json").stdout) == []
    assert iso(isola, store, "image", "check").returncode == 0
    assert os.listdir(os.path.join(store, "tmp")) == []


def test_check_reports_corrupt_blob(isola, rootfs, tmp_root):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="c:1")
    assert iso(isola, store, "load", "-i", lay).returncode == 0
    blobs = os.path.join(store, "blobs", "sha256")
    big = max(os.listdir(blobs), key=lambda n: os.path.getsize(os.path.join(blobs, n)))
    os.chmod(os.path.join(blobs, big), 0o644)
    with open(os.path.join(blobs, big), "r+b") as f:
        f.write(b"x")
    p = iso(isola, store, "image", "check")
    assert p.returncode == 1 and big in p.stdout and "digest mismatch" in p.stdout
