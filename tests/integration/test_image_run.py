"""`isola import` and `isola run IMAGE`: a container from an image in the store."""
import json
import os

from conftest import mounts_below, run


def env_for(tmp_root):
    env = dict(os.environ)
    env["ISOLA_ROOT"] = os.path.join(tmp_root, "store")
    env["ISOLA_RUN_DIR"] = os.path.join(tmp_root, "run")
    return env


def test_import_and_run_image(isola, rootfs, tmp_root):
    env = env_for(tmp_root)
    name = f"imported{os.getpid()}"
    p = run([isola, "import", rootfs, name, "/bin/sh", "-c", "echo default-cmd"], env=env)
    assert p.returncode == 0, p.stderr
    p = run([isola, "run", "--rm", name], env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "default-cmd"
    p = run([isola, "run", "--rm", "--hostname", "from-image", name, "sh", "-c",
             "hostname; echo written > /etc/new; cat /etc/new"], env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["from-image", "written"]
    # The image is untouched and nothing stays mounted or behind.
    assert not os.path.exists(os.path.join(rootfs, "etc", "new"))
    assert mounts_below(tmp_root) == []
    assert [d for d in os.listdir(env["ISOLA_RUN_DIR"]) if d.startswith("bundle-")] == []
    p = run([isola, "image", "check"], env=env)
    assert p.returncode == 0, p.stdout


def test_run_exit_code_and_unknown_image(isola, rootfs, tmp_root):
    env = env_for(tmp_root)
    name = f"imported{os.getpid()}"
    assert run([isola, "import", rootfs, name], env=env).returncode == 0
    p = run([isola, "run", "--rm", name, "sh", "-c", "exit 7"], env=env, timeout=120)
    assert p.returncode == 7
    p = run([isola, "run", "--rm", "--pull", "never", f"no-such-{os.getpid()}", "true"], env=env)
    assert p.returncode == 125 and f"no-such-{os.getpid()}" in p.stderr
    p = run([isola, "run", "--rm", name], env=env)
    assert p.returncode == 125 and "no Entrypoint or Cmd" in p.stderr


def test_import_tar(isola, rootfs, tmp_root):
    env = env_for(tmp_root)
    tgz = os.path.join(tmp_root, "rootfs.tgz")
    assert run(["tar", "-C", rootfs, "-czf", tgz, "."]).returncode == 0
    assert run([isola, "import", tgz, "fromtar"], env=env).returncode == 0
    cfg = json.loads(run([isola, "inspect", "fromtar"], env=env).stdout)[0]
    assert len(cfg["Config"]["rootfs"]["diff_ids"]) == 1
    p = run([isola, "run", "--rm", "fromtar", "cat", "/etc/hostname"], env=env, timeout=120)
    assert p.returncode == 0 and p.stdout == "isola\n", p.stderr


def test_run_of_a_missing_image_says_how_to_pull_it(isola, tmp_root):
    env = env_for(tmp_root)
    name = f"docker.io/library/missing{os.getpid()}:1"
    p = run([isola, "run", "--rm", "--pull", "never", name, "true"], env=env)
    assert p.returncode == 125
    assert f"pull it with `isola pull {name}`" in p.stderr, p.stderr
    assert [d for d in os.listdir(env["ISOLA_RUN_DIR"]) if d.startswith("bundle-")] == []
    p = run([isola, "--help"])
    line = [x for x in p.stdout.splitlines() if x.strip().startswith("run ")][0]
    assert "IMAGE" in line and "directory" in line, line
    p = run([isola, "run", "--help"])
    assert p.returncode == 0 and "IMAGE" in p.stdout and "isola pull" in p.stdout


def test_run_pulls_a_missing_image(isola, rootfs, tmp_root):
    """As `docker run`: an image not in the store is pulled from its registry
    (here Debian's docker-registry on 127.0.0.1), then run."""
    from test_image_registry import Registry

    env = env_for(tmp_root)
    src = os.path.join(tmp_root, "src-store")
    assert run([isola, "import", "--root", src, rootfs, "src:1"], timeout=120).returncode == 0
    reg = Registry(tmp_root)
    try:
        ref = f"{reg.host}/isola/run{os.getpid()}:1"
        p = run([isola, "push", "--root", src, "src:1", ref], timeout=180)
        assert p.returncode == 0, p.stderr
        p = run([isola, "run", "--rm", ref, "cat", "/etc/hostname"], env=env, timeout=180)
        assert p.returncode == 0, p.stderr
        assert p.stdout == "isola\n" and "Unable to find image" in p.stderr
        # now in the store: no second pull
        p = run([isola, "run", "--rm", "--pull", "never", ref, "true"], env=env, timeout=120)
        assert p.returncode == 0 and "pulling" not in p.stderr, p.stderr
    finally:
        reg.stop()
    p = run([isola, "run", "--rm", f"{reg.host}/isola/gone{os.getpid()}:1", "true"], env=env,
            timeout=120)
    assert p.returncode == 125 and "pull `" in p.stderr, p.stderr
