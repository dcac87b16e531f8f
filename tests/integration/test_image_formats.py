"""Cross-reading with the real peers: skopeo, umoci, podman."""
import json
import os

import imagelib
from conftest import run


def load_busybox(isola, rootfs, tmp_root, name):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name=name)
    p = run([isola, "load", "--root", store, "-i", lay])
    assert p.returncode == 0, p.stderr
    return store


def test_save_read_by_skopeo_and_umoci(isola, rootfs, tmp_root):
    imagelib.need("skopeo")
    imagelib.need("umoci")
    name = f"bb{os.getpid()}:1"
    store = load_busybox(isola, rootfs, tmp_root, name)
    odir = os.path.join(tmp_root, "odir")
    otar = os.path.join(tmp_root, "o.tar")
    dtar = os.path.join(tmp_root, "d.tar")
    for fmt, path in (("oci-dir", odir), ("oci-archive", otar), ("docker-archive", dtar)):
        p = run([isola, "save", "--root", store, "--format", fmt, "-o", path, name])
        assert p.returncode == 0, p.stderr
    for ref in (f"oci:{odir}:{name}", f"oci-archive:{otar}", f"docker-archive:{dtar}"):
        p = run(["skopeo", "inspect", ref])
        assert p.returncode == 0, (ref, p.stderr)
        assert json.loads(p.stdout)["Architecture"] == "amd64"
    bundle = os.path.join(tmp_root, "ubundle")
    p = run(["umoci", "unpack", "--image", f"{odir}:{name}", bundle], timeout=120)
    assert p.returncode == 0, p.stderr
    assert os.path.islink(os.path.join(bundle, "rootfs", "bin", "sh"))
    with open(os.path.join(bundle, "config.json")) as f:
        assert json.load(f)["process"]["args"] == ["/bin/sh"]


def test_skopeo_copy_loads_in_isola(isola, rootfs, tmp_root):
    imagelib.need("skopeo")
    lay = os.path.join(tmp_root, "layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="src")
    for dst in (f"oci:{tmp_root}/sko:copied", f"docker-archive:{tmp_root}/sko.tar:sk/copied:2"):
        p = run(["skopeo", "copy", f"oci:{lay}:src", dst], timeout=120)
        assert p.returncode == 0, p.stderr
    store = os.path.join(tmp_root, "store")
    p = run([isola, "load", "--root", store, "-i", f"{tmp_root}/sko"])
    assert p.returncode == 0 and "copied:latest" in p.stdout, p.stderr
    p = run([isola, "load", "--root", store, "-i", f"{tmp_root}/sko.tar"])
    assert p.returncode == 0 and "sk/copied:2" in p.stdout, p.stderr
    assert run([isola, "image", "check", "--root", store]).returncode == 0


def podman(env, *args, timeout=180):
    return run(["podman", *args], env=env, timeout=timeout)


def test_podman_runs_isola_images_and_isola_loads_podman_saves(isola, rootfs, tmp_root):
    imagelib.need("podman")
    name = f"localhost/isola-bb{os.getpid()}:1"
    store = load_busybox(isola, rootfs, tmp_root, name)
    pm = os.path.join(tmp_root, "podman")
    os.makedirs(pm)
    env = imagelib.podman_env(pm)
    try:
        for fmt in ("oci-archive", "docker-archive"):
            out = os.path.join(tmp_root, f"{fmt}.tar")
            p = run([isola, "save", "--root", store, "--format", fmt, "-o", out, name])
            assert p.returncode == 0, p.stderr
            p = podman(env, "load", "-i", out)
            assert p.returncode == 0, p.stderr
            p = podman(env, "run", "--rm", "--runtime", "runc", "--network", "none", name,
                       "sh", "-c", f"echo marker-{fmt}")
            assert p.returncode == 0, p.stderr
            assert f"marker-{fmt}" in p.stdout
        store2 = os.path.join(tmp_root, "store2")
        for fmt in ("oci-archive", "docker-archive"):
            out = os.path.join(tmp_root, f"p-{fmt}.tar")
            p = podman(env, "save", "--format", fmt, "-o", out, name)
            assert p.returncode == 0, p.stderr
            p = run([isola, "load", "--root", store2, "-i", out])
            assert p.returncode == 0 and name in p.stdout, p.stderr
        p = run([isola, "inspect", "--root", store2, name])
        assert json.loads(p.stdout)[0]["Config"]["config"]["Cmd"] == ["/bin/sh"]
        assert run([isola, "image", "check", "--root", store2]).returncode == 0
    finally:
        podman(env, "rm", "-af", timeout=120)
        podman(env, "rmi", "-af", timeout=120)
        run(["umount", "-l", os.path.join(pm, "graph", "overlay")], timeout=30)
