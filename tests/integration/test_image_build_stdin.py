"""isola build with stdin as Docker's: `-f -` (the Dockerfile), `-` (a tar
context, or a Dockerfile alone), and `-q` (only the image ID)."""
import io
import json
import os
import re
import subprocess
import tarfile

from conftest import run
from test_image_build import base_image, tree


def build_in(isola, store, *args, input):
    return subprocess.run([isola, "build", "--root", store, *args], input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)


def labels(isola, store, image):
    p = run([isola, "inspect", "--root", store, image])
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)[0]["Config"]["config"].get("Labels")


def leftovers(store):
    tmp = os.path.join(store, "tmp")
    return [n for n in os.listdir(tmp) if "build-context" in n] if os.path.isdir(tmp) else []


def tar_of(files, mode="w:gz"):
    """files: name -> bytes, or ("link", target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, body in files.items():
            ti = tarfile.TarInfo(name)
            if isinstance(body, tuple):
                ti.type = tarfile.SYMTYPE
                ti.linkname = body[1]
                t.addfile(ti)
            else:
                ti.size = len(body)
                t.addfile(ti, io.BytesIO(body))
    return buf.getvalue()


def test_dockerfile_from_stdin(isola, tmp_root):
    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "hello.txt"), "w") as f:
        f.write("hello\n")
    # the context's own Dockerfile would fail: the one on stdin is used
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM nosuchimage-anywhere\n")
    store = os.path.join(tmp_root, "store")
    p = build_in(isola, store, "-t", "fromstdin:1", "-f", "-", ctx,
                 input=b"FROM scratch\nCOPY hello.txt /\nLABEL from=stdin\n")
    assert p.returncode == 0, p.stderr
    assert labels(isola, store, "fromstdin:1") == {"from": "stdin"}
    assert tree(isola, store, "fromstdin:1", os.path.join(tmp_root, "b"))["hello.txt"][3] == \
        b"hello\n"


def test_context_tar_from_stdin(isola, tmp_root):
    store = os.path.join(tmp_root, "store")
    files = {"Dockerfile": b"FROM scratch\nCOPY . /ctx/\nLABEL which=default\n",
             "alt/Dockerfile.alt": b"FROM scratch\nCOPY a.txt /only-a\nLABEL which=alt\n",
             "a.txt": b"A\n", "d/b.txt": b"B\n"}
    for mode, tag in (("w:gz", "tarctx:gz"), ("w", "tarctx:plain"), ("w:xz", "tarctx:xz")):
        p = build_in(isola, store, "-t", tag, "-", input=tar_of(files, mode))
        assert p.returncode == 0, (mode, p.stderr)
        assert labels(isola, store, tag) == {"which": "default"}
        t = tree(isola, store, tag, os.path.join(tmp_root, "t-" + mode.replace(":", "")))
        assert t["ctx/a.txt"][3] == b"A\n" and t["ctx/d/b.txt"][3] == b"B\n"
    # -f names a Dockerfile inside the tar
    p = build_in(isola, store, "-t", "tarctx:alt", "-f", "alt/Dockerfile.alt", "-",
                 input=tar_of(files))
    assert p.returncode == 0, p.stderr
    assert labels(isola, store, "tarctx:alt") == {"which": "alt"}
    assert tree(isola, store, "tarctx:alt", os.path.join(tmp_root, "alt"))["only-a"][3] == b"A\n"
    assert leftovers(store) == []


def test_context_tar_cannot_reach_host_files(isola, tmp_root):
    """A Dockerfile symlink in the tar is resolved inside the context, and
    `..` entries are refused: no host file becomes the Dockerfile."""
    store = os.path.join(tmp_root, "store")
    canary = os.path.join(tmp_root, "Dockerfile.host")
    with open(canary, "w") as f:
        f.write("FROM scratch\nLABEL leaked=yes\n")
    p = build_in(isola, store, "-t", "evil:1", "-", input=tar_of({"Dockerfile": ("link", canary)}))
    assert p.returncode == 1 and b"has no `Dockerfile`" in p.stderr, p.stderr
    p = build_in(isola, store, "-t", "evil:2", "-",
                 input=tar_of({"../../escape": b"x", "Dockerfile": b"FROM scratch\n"}))
    assert p.returncode == 1
    assert not os.path.exists(os.path.join(tmp_root, "escape"))
    assert leftovers(store) == []


def test_dockerfile_alone_on_stdin(isola, tmp_root):
    store = os.path.join(tmp_root, "store")
    p = build_in(isola, store, "-t", "alone:1", "-", input=b"FROM scratch\nLABEL alone=yes\n")
    assert p.returncode == 0, p.stderr
    assert labels(isola, store, "alone:1") == {"alone": "yes"}
    # no context: COPY has nothing to copy
    p = build_in(isola, store, "-t", "alone:2", "-", input=b"FROM scratch\nCOPY x /\n")
    assert p.returncode == 1
    # both from stdin: refused
    p = build_in(isola, store, "-f", "-", "-", input=b"FROM scratch\n")
    assert p.returncode == 2 and b"cannot both come from stdin" in p.stderr
    assert leftovers(store) == []


def test_quiet_prints_only_the_image_id(isola, rootfs, tmp_root):
    base = f"localhost/bbq{os.getpid()}:1"
    store = base_image(isola, rootfs, tmp_root, base)
    p = build_in(isola, store, "-q", "-t", "quiet:1", "-",
                 input=f"FROM {base}\nRUN echo run-step-output\nLABEL q=1\n".encode())
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", out), out
    p = run([isola, "inspect", "--root", store, "-f", "{{.Id}}", "quiet:1"])
    assert p.returncode == 0 and p.stdout == out, (p.stdout, p.stderr)
    ids = run([isola, "images", "--root", store, "--format", "{{.ID}}"]).stdout.split()
    assert out[7:19] in ids
    # without -q: the steps and the RUN output are there
    p = build_in(isola, store, "-t", "quiet:2", "-",
                 input=f"FROM {base}\nRUN echo run-step-output\nLABEL q=2\n".encode())
    assert p.returncode == 0 and b"run-step-output" in p.stdout and b"STEP 1/3" in p.stdout
