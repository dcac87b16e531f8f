"""`isola run`'s docker-run options (the spec composer, src/engine/compose.c)
against podman's (runtime runc) on the same root filesystem: what a user sees
inside the container with the same flags."""
import os
import shutil

import pytest
from conftest import cleanup_tree, run

PROBE = ("grep -E '^(Seccomp|NoNewPrivs|Cap(Bnd|Eff|Prm)):' /proc/self/status; "
         "echo A=$A; echo B=$B; echo uid=$(id -u); echo gid=$(id -g); echo groups=$(id -G); echo pwd=$(pwd); "
         "if touch /probe-rw 2>/dev/null; then echo rootrw=yes; else echo rootrw=no; fi; "
         "echo nproc=$(ulimit -u); echo hnproc=$(ulimit -Hu); echo nofile=$(ulimit -n); "
         "echo hnofile=$(ulimit -Hn); echo host=$(hostname); "
         "echo pids=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || "
         "cat /sys/fs/cgroup/pids.max); "
         "echo devs=$(ls /dev | tr '\\n' ,); "
         "for f in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes "
         "cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares cpuset/cpuset.cpus; do "
         "echo cg_$(basename $f)=$(cat /sys/fs/cgroup/$f 2>/dev/null); done; "
         "grep -E ' /(run|dev/shm) ' /proc/self/mountinfo | "
         "sed -E 's/^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ ([^ ]+) ([^ ]+) .* - ([^ ]+) [^ ]+ (.*)/mnt=\\1:\\2:\\3:\\4/'")
IMAGE = "localhost/isola-run-options"

CASES = {
    "process": ["-e", "A=flag", "--env-file", "@ENVFILE@", "-w", "/tmp", "-u", "1:2",
                "--hostname", "optbox"],
    "limits": ["--pids-limit", "50", "--ulimit", "nproc=77:88", "--ulimit", "nofile=1024:2048",
               "--shm-size", "2m", "--tmpfs", "/run:size=1m"],
    "caps": ["--cap-drop", "NET_RAW", "--cap-add", "sys_admin"],
    "caps_all": ["--cap-drop", "ALL", "--cap-add", "NET_ADMIN"],
    "read_only": ["--read-only"],
    "unconfined": ["--security-opt", "seccomp=unconfined"],
    "privileged": ["--privileged"],
    "device": ["--device", "/dev/null:/dev/isola-null"],
    "user_name": ["-u", "daemon"],
    "user_uid": ["-u", "1"],
    "cpu_memory": ["-m", "64m", "--memory-swap", "128MiB", "--cpus", "0.5", "--cpu-shares", "512",
                   "--cpuset-cpus", "0"],
}
# podman-only flags that give Docker's behaviour (podman adds tmpfs mounts with
# --read-only unless told not to).
PODMAN_EXTRA = {"read_only": ["--read-only-tmpfs=false"]}


def fields(out):
    f = {}
    for line in out.splitlines():
        if ":\t" in line:
            k, v = line.split(":\t", 1)
        elif "=" in line:
            k, v = line.split("=", 1)
        else:
            continue
        f.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 else sorted(v) for k, v in f.items()}


@pytest.fixture(scope="module")
def envfile(tmp_path_factory):
    d = tmp_path_factory.mktemp("runopt-env")
    path = os.path.join(str(d), "env")
    with open(path, "w") as f:
        f.write("# from a file\nA=file\nB=file\n")
    return path


@pytest.fixture(scope="module")
def podman(rootfs_template, tmp_path_factory):
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (scripts/install-deps.sh)")
    if shutil.which("runc") is None:
        pytest.skip("runc is not installed (scripts/install-deps.sh)")
    from peers import Podman

    root = str(tmp_path_factory.mktemp("podman-runopt"))
    p = Podman(root, "runc", tag=(os.getpid() + 11) % 10000)
    try:
        p.import_rootfs(rootfs_template, IMAGE)
        yield p
    finally:
        p.close()
        cleanup_tree(root)


def flags_of(case, envfile):
    return [envfile if a == "@ENVFILE@" else a for a in CASES[case]]


@pytest.mark.parametrize("case", sorted(CASES))
def test_run_option_like_podman(isola, rootfs, tmp_root, podman, envfile, case):
    flags = flags_of(case, envfile)
    env = dict(os.environ, ISOLA_RUN_DIR=os.path.join(tmp_root, "run"))
    r = run([isola, "run", "--rm"] + flags + [rootfs, "sh", "-c", PROBE], env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    mine = fields(r.stdout)
    r = podman("run", "--rm", "--network", "none", *PODMAN_EXTRA.get(case, []), *flags, IMAGE,
               "sh", "-c", PROBE)
    assert r.returncode == 0, r.stderr
    theirs = fields(r.stdout)
    # (podman's containers.conf in peers.py sets default nproc limits: compared
    # only where --ulimit sets them)
    keys = ["CapBnd", "CapEff", "CapPrm", "Seccomp", "A", "B", "uid", "gid", "groups", "pwd"]
    if case != "process":
        keys.append("devs")
    if case == "process":
        keys.append("host")
    if case == "cpu_memory":
        keys += [k for k in theirs if k.startswith("cg_")]
        assert mine["cg_memory.memsw.limit_in_bytes"] == str(128 << 20)
    if case == "read_only":
        # (with other flags the root's owner and mode decide, which differ:
        # a copied directory here, podman's overlay there)
        keys.append("rootrw")
    if case == "limits":
        keys += ["pids", "mnt", "nproc", "hnproc", "nofile", "hnofile"]
    diff = {k: (mine.get(k), theirs.get(k)) for k in keys if mine.get(k) != theirs.get(k)}
    assert not diff, f"{case}: (isola, podman): {diff}"
    # a deliberate difference (docs/security.md, docs/engine.md): no_new_privs
    # is on unless --privileged
    assert mine["NoNewPrivs"] == ("0" if case == "privileged" else "1")


def test_run_option_errors(isola, rootfs, tmp_root):
    env = dict(os.environ, ISOLA_RUN_DIR=os.path.join(tmp_root, "run"))
    for flags, word in ((["--cap-add", "CAP_FLY"], "CAP_FLY"),
                        (["--memory-swap", "1m", "-m", "8m"], "memory-swap"),
                        (["--tmpfs", "/t:size=lots"], "lots"),
                        (["--device", "/etc/passwd"], "/etc/passwd"),
                        (["--ulimit", "nofile=9:1"], "nofile"),
                        (["--security-opt", "apparmor=x"], "apparmor")):
        r = run([isola, "run", "--rm"] + flags + [rootfs, "true"], env=env)
        assert r.returncode in (2, 125) and word in r.stderr, (flags, r.stderr)
