"""`isola run ROOTFS CMD...`: a generated bundle run through the container library."""
import os

from conftest import run


def env_for(tmp_root):
    env = dict(os.environ)
    env["ISOLA_RUN_DIR"] = os.path.join(tmp_root, "run")
    return env


def test_isola_run_prints_and_returns_status(isola, rootfs, tmp_root):
    p = run([isola, "run", "--rm", "--hostname", "box", rootfs, "sh", "-c",
             "echo hello from isola; hostname; exit 5"], env=env_for(tmp_root))
    assert p.returncode == 5, p.stderr
    assert p.stdout == "hello from isola\nbox\n"
    # the state is gone (the seccomp program cache stays)
    assert [d for d in os.listdir(os.path.join(tmp_root, "run", "oci")) if d[0] != "."] == []
    assert [d for d in os.listdir(os.path.join(tmp_root, "run")) if d.startswith("bundle")] == []


def test_isola_run_memory_limit(isola, rootfs, tmp_root):
    p = run([isola, "run", "--rm", "-m", "48m", rootfs, "cat",
             "/sys/fs/cgroup/memory/memory.limit_in_bytes"], env=env_for(tmp_root))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(48 << 20)


def test_isola_run_errors(isola, rootfs, tmp_root):
    p = run([isola, "run", "--rm", os.path.join(tmp_root, "nope"), "true"], env=env_for(tmp_root))
    assert p.returncode != 0 and "nope" in p.stderr
    p = run([isola, "run", "--rm", rootfs, "no-such-cmd"], env=env_for(tmp_root))
    assert p.returncode != 0 and "no-such-cmd" in p.stderr
    p = run([isola, "run", "-m", "lots", rootfs, "true"], env=env_for(tmp_root))
    assert p.returncode == 125 and "lots" in p.stderr  # Docker's status for a bad flag


def test_isola_run_child_error_names_isola(isola, rootfs, tmp_root):
    # The container's init prints its own errors once it cannot report them to
    # the runtime (here: execve fails after the seccomp filter is in place).
    # They carry the running program's name, not a literal "isola-oci".
    bad = os.path.join(rootfs, "bad")
    with open(bad, "wb") as f:
        f.write(b"\x01\x02not an executable")
    os.chmod(bad, 0o755)
    p = run([isola, "run", "--rm", rootfs, "/bad"], env=env_for(tmp_root))
    assert p.returncode == 127, p.stderr
    assert "isola: exec `/bad`: Exec format error" in p.stderr
    assert "isola-oci" not in p.stderr


def test_isola_run_memory_units(isola, rootfs, tmp_root):
    # Docker's size units (go-units RAMInBytes): MiB and fractions too.
    for arg, want in (("64MiB", 64 << 20), ("1.5g", 3 << 29), ("65536k", 64 << 20)):
        p = run([isola, "run", "--rm", "-m", arg, rootfs, "cat",
                 "/sys/fs/cgroup/memory/memory.limit_in_bytes"], env=env_for(tmp_root))
        assert p.returncode == 0, (arg, p.stderr)
        assert p.stdout.strip() == str(want), arg
