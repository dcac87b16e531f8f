"""`isola` opens libcurl and libarchive only when a command needs them.

Debian's libcurl and libarchive pull in some 35 libraries (gnutls, krb5, ldap,
libxml2, ICU...): linked, they cost every command ~20 ms and ~7 MB before
main(). isola links their headers only and dlopen()s them on first use
(src/util/dl.c); these tests check what the dynamic loader actually loads
(LD_DEBUG=files), as a user tracing a slow start would.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import run

HEAVY = ("libcurl.so", "libarchive.so")


def loaded(isola, args, timeout=60):
    """Run isola with the loader's file trace; return (process, set of sonames loaded)."""
    env = dict(os.environ, LD_DEBUG="files")
    p = run([isola, *args], timeout=timeout, env=env)
    libs = set(re.findall(r"file=(\S+) \[\d+\];\s+(?:needed|dynamically loaded) by", p.stderr))
    if not any(lib.startswith("libc.so") for lib in libs):
        pytest.skip("LD_DEBUG=files gave no trace of libc.so: the loader does not trace here")
    return p, libs


def heavy(libs):
    return sorted(lib for lib in libs if lib.startswith(HEAVY))


def test_not_linked(isola):
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    p = subprocess.run(["readelf", "-d", isola], stdout=subprocess.PIPE, text=True, timeout=30,
                       check=True)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", p.stdout)
    assert needed, p.stdout
    assert not heavy(needed), f"isola still has DT_NEEDED {heavy(needed)}"


@pytest.mark.parametrize("args", [
    ["--version"],
    ["images", "--root", "{root}"],
    ["vm", "run", "--kernel", "{root}/no-such-kernel"],
])
def test_light_commands_load_neither(isola, tmp_root, args):
    args = [a.format(root=tmp_root) for a in args]
    p, libs = loaded(isola, args)
    assert not heavy(libs), f"`isola {' '.join(args)}` loaded {heavy(libs)}"
    if args[0] == "vm":
        assert p.returncode != 0 and "no-such-kernel" in p.stderr
    else:
        assert p.returncode == 0, p.stderr


def test_import_loads_libarchive_on_demand(isola, tmp_root):
    src = os.path.join(tmp_root, "src")
    os.makedirs(src)
    with open(os.path.join(src, "hello"), "w") as f:
        f.write("hello\n")
    store = os.path.join(tmp_root, "store")
    name = f"dl-{os.getpid()}:1"
    p, libs = loaded(isola, ["import", "--root", store, src, name], timeout=120)
    assert p.returncode == 0, p.stderr
    assert any(lib.startswith("libarchive.so") for lib in libs), sorted(libs)
    assert not any(lib.startswith("libcurl.so") for lib in libs), sorted(libs)
    p = run([isola, "images", "--root", store], timeout=60, check=True)
    assert f"dl-{os.getpid()}" in p.stdout


def test_pull_loads_libcurl_on_demand(isola, tmp_root):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    ref = f"127.0.0.1:1/dl-{os.getpid()}:1"
    p, libs = loaded(isola, ["pull", "--root", os.path.join(tmp_root, "store"), ref])
    assert any(lib.startswith("libcurl.so") for lib in libs), sorted(libs)
    assert p.returncode != 0
    # The failure is the network's, reported through libcurl, not a loading error.
    assert "registry 127.0.0.1:1" in p.stderr and "connect" in p.stderr.lower(), p.stderr
