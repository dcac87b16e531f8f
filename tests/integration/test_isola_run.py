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
    assert p.returncode == 2 and "lots" in p.stderr
