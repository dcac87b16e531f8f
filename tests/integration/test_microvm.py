"""`isola run --isolation=vm` (docs/microvm.md): a container inside a microVM of
its own, with Debian's stock kernel, isola's initramfs (isola-agent as /init)
and a read-only ext4 root image, run by isola-vmm inside the test host (L1: this
machine's /dev/kvm cannot boot a stock kernel). Each run boots a guest (about
15-25 s in the emulated L1), so the checks are grouped per boot.
"""
import os
import shlex
import shutil

import pytest

from conftest import BUILD, ROOT

ISOLA = os.path.join(BUILD, "src", "cli", "isola")
# An ASan build has no static agent: it takes the normal build's.
AGENT = os.environ.get("ISOLA_AGENT") or os.path.join(BUILD, "src", "cli", "isola-agent")
if not os.path.exists(AGENT):
    AGENT = os.path.join(ROOT, "build", "src", "cli", "isola-agent")
GUEST_TOOL = os.path.join(BUILD, "tests", "guest-tool")


@pytest.fixture(scope="module")
def vm(testhost, rootfs_template, tmp_path_factory):
    """(testhost, kernel dir, environment prefix for every isola command, a
    private directory): a private cache, run dir and store per module."""
    kdir = os.path.dirname(testhost.kernel)
    if not os.path.exists(os.path.join(kdir, "lib", "modules")):
        pytest.skip(f"LOUD SKIP: no prepared Debian kernel in {kdir} (scripts/testhost/prepare)")
    if not os.path.exists(AGENT):
        pytest.fail(f"{AGENT} is not built (scripts/build.sh)")
    d = str(tmp_path_factory.mktemp("microvm"))
    # tmp_path_factory's directories are on the host; L1 sees them (9p) and
    # keeps its own writes in memory: cache and run dir live in L1. The store
    # is on L1's own /run: an overlay over a 9p directory that the host made
    # after L1 booted once lost the image index just written (CI).
    env = (f"ISOLA_CACHE={d}/cache ISOLA_RUN_DIR={d}/run "
           f"ISOLA_ROOT=/run/isola-mvstore-{os.getpid()} "
           f"ISOLA_AGENT={shlex.quote(AGENT)}")
    rootfs = os.path.join(d, "rootfs")
    shutil.copytree(rootfs_template, rootfs, symlinks=True)
    shutil.copy(GUEST_TOOL, os.path.join(rootfs, "bin", "guest-tool"))
    yield testhost, kdir, env, d, rootfs
    shutil.rmtree(d, ignore_errors=True)


def vm_run(vm, args, timeout=240):
    th, kdir, env, d, _ = vm
    return th.run(f"mkdir -p {d}/cache {d}/run; {env} timeout {timeout} {ISOLA} run "
                  f"--isolation=vm --kernel {kdir} {args}; echo status=$?",
                  timeout=timeout + 30)


def test_output_and_exit_codes(vm):
    """stdout and stderr of the workload reach the caller's, on the right
    stream; the exit code is the workload's; nothing is left in the run dir."""
    _, _, _, d, rootfs = vm
    r = vm_run(vm, f"{rootfs} echo hi")
    assert r.stdout.splitlines()[0] == "hi", r
    assert "status=0" in r.stdout, r
    r = vm_run(vm, f"{rootfs} sh -c 'echo out; echo err >&2; exit 3'")
    assert r.stdout.splitlines()[0] == "out", r
    assert "err" in r.stderr and "err" not in r.stdout, r
    assert "status=3" in r.stdout, r


def test_image_root_cached_read_only(vm):
    """An image of the store: its root image is built once per manifest digest,
    read-only (0444), and used again by the next run."""
    th, _, env, d, rootfs = vm
    r = th.run(f"{env} {ISOLA} import {rootfs} mvbox:1 >/dev/null && echo imported",
               timeout=120)
    assert "imported" in r.stdout, r
    r = vm_run(vm, "mvbox:1 cat /etc/no-such-file /etc/passwd")
    assert "status=1" in r.stdout, r  # cat's status: the first file is missing
    assert "/etc/no-such-file" in r.stderr, r
    r = th.run(f"ls -l --time-style=+%s.%N {d}/cache/microvm/", timeout=30)
    imgs = [ln for ln in r.stdout.splitlines() if "rootfs-" in ln]
    assert len(imgs) == 1 and imgs[0].startswith("-r--r--r--"), r
    r = vm_run(vm, "mvbox:1 echo again")
    assert r.stdout.splitlines()[0] == "again" and "status=0" in r.stdout, r
    r = th.run(f"ls -l --time-style=+%s.%N {d}/cache/microvm/", timeout=30)
    assert [ln for ln in r.stdout.splitlines() if "rootfs-" in ln] == imgs, r


def test_workload_cannot_reach_disks_or_agent(vm):
    """The guest's block devices are not in the container's /dev, and a node
    made for the root disk (CAP_MKNOD is a default capability, as with Docker)
    cannot be opened (device cgroup); the agent's vsock port (1024, the guest's own CID 3) is not reachable
    from the workload."""
    _, _, _, _, rootfs = vm
    script = ("ls /dev; ls /dev/vd* 2>/dev/null && echo vd-visible; "
              "set -- $(grep -w vda /proc/partitions); echo disk-major=$1; "
              "mknod /tmp/vda b $1 $2 && head -c 512 /tmp/vda >/dev/null && echo read-disk; "
              "guest-tool vsock-send 3 1024 x 2>&1 | head -1; "
              "guest-tool vsock-send 1 1024 x 2>&1 | head -1; echo done")
    r = vm_run(vm, f"{rootfs} sh -c {shlex.quote(script)}")
    assert "done" in r.stdout and "status=0" in r.stdout, r
    assert "null" in r.stdout, r  # the container's own /dev is listed
    assert "vd-visible" not in r.stdout, r
    assert "disk-major=" in r.stdout and "disk-major=\n" not in r.stdout, r
    assert "read-disk" not in r.stdout, r
    assert "Operation not permitted" in r.stderr, r
    assert "vsock reply" not in r.stdout, r
    assert r.stdout.count("vsock connect") == 2, r


def test_signal_forwarded(vm):
    """SIGTERM to the foreground `isola run` reaches the container's init (its
    trap runs) and the exit code is the workload's."""
    th, kdir, env, d, rootfs = vm
    script = 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 1; done'
    r = th.run(f"""mkdir -p {d}/cache {d}/run; out={d}/sig.out
{env} timeout 240 {ISOLA} run --isolation=vm --kernel {kdir} {rootfs} \
    sh -c {shlex.quote(script)} >$out 2>&1 & p=$!
i=0; while [ $i -lt 2000 ] && ! grep -q ready $out; do sleep 0.1; i=$((i+1)); done
kill -TERM $p; wait $p; echo status=$?; cat $out""", timeout=300)
    assert "ready" in r.stdout and "got-term" in r.stdout, r
    assert "status=42" in r.stdout, r


def test_memory_limit_in_guest(vm):
    """-m: the container's cgroup in the guest has the limit, and the guest's
    RAM is the limit plus the documented margin (192 MiB)."""
    _, _, _, _, rootfs = vm
    r = vm_run(vm, f"-m 64m {rootfs} sh -c 'cat /sys/fs/cgroup/memory.max; "
               "grep MemTotal /proc/meminfo'")
    assert "status=0" in r.stdout, r
    assert "67108864" in r.stdout.splitlines(), r
    total_kib = int([ln for ln in r.stdout.splitlines() if ln.startswith("MemTotal")][0].split()[1])
    assert 128 * 1024 < total_kib <= 256 * 1024, r


def test_oversized_frame_kills_vm(vm):
    """A hostile guest (tests/fixtures/bad-agent.c as /init) answers the hello
    with a frame over the cap: the run fails with a clear error, the VM monitor
    is gone and the workload's directory is removed."""
    th, kdir, env, d, rootfs = vm
    bad = os.path.join(BUILD, "tests", "bad-agent")
    if not os.path.exists(bad):
        bad = os.path.join(ROOT, "build", "tests", "bad-agent")
    r = th.run(f"""mkdir -p {d}/cache {d}/badrun
{env} ISOLA_AGENT={bad} ISOLA_RUN_DIR={d}/badrun timeout 240 {ISOLA} run --isolation=vm \
    --kernel {kdir} --name mv-bad-{os.getpid()} {rootfs} echo never; echo status=$?
ls -A {d}/badrun/vm; echo listed
pgrep -f {d}/badrun/vm/ >/dev/null && echo vmm-left; echo checked""", timeout=300)
    assert "status=125" in r.stdout, r
    assert "never" not in r.stdout, r
    assert "the VM was killed" in r.stderr and "over the cap" in r.stderr, r
    assert r.stdout.split("status=125\n")[1].startswith("listed"), r
    assert "vmm-left" not in r.stdout and "checked" in r.stdout, r


PY = "/usr/bin/python3"
PICK = """import json, sys
d = json.load(sys.stdin)[0]
if sys.argv[1] == "iso":
    print("iso=" + d["HostConfig"]["Isolation"])
else:
    print(f"exit={d['State']['ExitCode']} status={d['State']['Status']}")
"""


def test_detached_logs_inspect_stop(vm):
    """`isola run -d --isolation=vm`: a container of the engine's whose monitor
    runs the microVM: logs, inspect (HostConfig.Isolation), stop (its trap sees
    SIGTERM, the exit code is kept), rm."""
    th, kdir, env, d, rootfs = vm
    name = f"mvd{os.getpid()}"
    script = 'trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 1; done'
    i = ISOLA
    # store and run dir on L1's own tmpfs: the engine's overlay cannot sit on 9p
    local = f"/run/isola-mvd-{os.getpid()}"
    r = th.run(f"""set -u; mkdir -p {d}/cache {local}/run {local}/store
ln -sfn {os.path.dirname(kdir)} {d}/cache/testhost
export {env} ISOLA_ROOT={local}/store ISOLA_RUN_DIR={local}/run
trap 'umount -R -l {local} 2>/dev/null; rm -rf {local}' EXIT
pick={shlex.quote(PICK)}
{i} import {rootfs} mvd:1 >/dev/null
timeout 60 {i} run -d --isolation=vm --name {name} mvd:1 sh -c {shlex.quote(script)} >/dev/null
rc=$?; echo run=$rc; [ $rc = 0 ] || exit 1
n=0; while [ $n -lt 120 ] && ! grep -q started {local}/run/c/*/ctr.log 2>/dev/null; do
    sleep 1; n=$((n+1)); done
timeout 30 {i} logs {name}
timeout 10 {i} inspect {name} | {PY} -c "$pick" iso
timeout 60 {i} stop {name}; echo stop=$?
timeout 10 {i} inspect {name} | {PY} -c "$pick" exit
timeout 10 {i} logs {name} | grep got-term
timeout 60 {i} rm {name}; echo rm=$?
pgrep -f "{local}/run/.*vsock" >/dev/null && echo vmm-left; echo done""", timeout=400)
    assert "run=0" in r.stdout, r
    assert "started" in r.stdout, r
    assert "iso=microvm" in r.stdout, r
    assert "stop=0" in r.stdout, r
    assert "exit=7 status=exited" in r.stdout, r
    assert "got-term" in r.stdout, r
    assert "rm=0" in r.stdout and "done" in r.stdout, r
    assert "vmm-left" not in r.stdout, r
