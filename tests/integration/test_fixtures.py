"""The test fixtures themselves: the busybox rootfs and the static testinit helper."""
import os

from conftest import run


def test_rootfs_has_static_busybox(rootfs):
    bb = os.path.join(rootfs, "bin", "busybox")
    assert os.access(bb, os.X_OK)
    # Static: it must run inside an empty root, so ldd finds no dynamic section.
    assert run(["ldd", bb]).returncode != 0
    assert os.path.islink(os.path.join(rootfs, "bin", "sh"))
    with open(os.path.join(rootfs, "etc", "passwd")) as f:
        assert f.readline().startswith("root:x:0:0:")


def test_testinit_is_static_and_reports(testinit, tmp_root):
    assert run(["ldd", testinit]).returncode != 0
    assert run([testinit, "echo", "a", "b"]).stdout == "a b\n"
    assert run([testinit, "exit", "7"]).returncode == 7
    p = run([testinit, "syscall", "mkdir", os.path.join(tmp_root, "missing", "x")])
    assert p.stdout == "ENOENT\n"
    p = run([testinit, "status", "NoNewPrivs"])
    assert p.stdout.startswith("NoNewPrivs:")
    p = run([testinit, "frobnicate"])
    assert p.returncode == 2 and "frobnicate" in p.stderr
