"""isola compare's vm-container model (docs/compare.md, "Models"): the same
busybox workload as a container and as a container in a microVM of its own,
both through the engine, inside the test host (L1: this machine's /dev/kvm
cannot boot a stock kernel; see test_microvm.py). One boot of a guest takes
15-25 s in the emulated L1, so the run is bounded generously."""
import json
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


@pytest.fixture
def vmcmp(testhost, rootfs_template, tmp_path):
    kdir = os.path.dirname(testhost.kernel)
    if not os.path.exists(os.path.join(kdir, "lib", "modules")):
        pytest.skip(f"LOUD SKIP: no prepared Debian kernel in {kdir} (scripts/testhost/prepare)")
    if not os.path.exists(AGENT):
        pytest.fail(f"{AGENT} is not built (scripts/build.sh)")
    d = str(tmp_path)
    rootfs = os.path.join(d, "rootfs")
    shutil.copytree(rootfs_template, rootfs, symlinks=True)
    yield testhost, kdir, d, rootfs
    shutil.rmtree(d, ignore_errors=True)


def test_container_and_vm_container(vmcmp):
    """Both models run; the microVM's start (a guest kernel boots first) is
    longer than the container's; its kernel is not the host's; its memory
    counts isola-vmm (with the guest RAM it touched) and its shared bytes the
    cached kernel, initramfs and root image; nothing is left afterwards."""
    th, kdir, d, rootfs = vmcmp
    i = ISOLA
    # store and run dir on L1's own tmpfs: the engine's overlay cannot sit on 9p
    local = f"/run/isola-cmpvm-{os.getpid()}"
    env = (f"ISOLA_CACHE={d}/cache ISOLA_RUN_DIR={local}/run ISOLA_ROOT={local}/store "
           f"ISOLA_AGENT={shlex.quote(AGENT)}")
    workload = "sh -c 'echo ready; exec sleep 3600'"
    r = th.run(f"""set -u; mkdir -p {d}/cache {local}/run {local}/store
ln -sfn {os.path.dirname(kdir)} {d}/cache/testhost
export {env}
trap 'umount -R -l {local} 2>/dev/null; rm -rf {local}' EXIT
{i} import {rootfs} cmpvm:1 >/dev/null
timeout 900 {i} compare --models container,vm-container --runs 1 --format json \\
    --timeout 300 cmpvm:1 {workload} >{local}/report.json 2>{local}/err; echo cmp=$?
echo ==report; cat {local}/report.json; echo ==end; cat {local}/err >&2
echo ps=$(timeout 30 {i} ps -a -q | wc -l)
pgrep -f 'isola-vm[m]' >/dev/null && echo vmm-left
pgrep -f 'isola-monito[r]' >/dev/null && echo monitor-left
grep -c ' {local}/' /proc/self/mountinfo | sed 's/^/mounts=/'
echo done""", timeout=1100)
    assert "cmp=0" in r.stdout, r
    text = r.stdout.split("==report\n", 1)[1].split("==end", 1)[0]
    report = json.loads(text)
    models = {m["name"]: m for m in report["models"]}
    c, v = models["container"], models["vm-container"]
    assert c["status"] == "ok", c
    assert v["status"] == "ok", v
    assert v["engineIsolation"] == "microvm", v
    assert v["start"]["allMs"]["min"] > c["start"]["allMs"]["max"], (c["start"], v["start"])
    assert c["isolation"]["sharedKernel"] is True, c["isolation"]
    assert v["isolation"]["sharedKernel"] is False, v["isolation"]
    # isola-vmm alone maps more than the container's processes hold
    assert v["memory"]["pssBytes"]["median"] > c["memory"]["pssBytes"]["median"], (
        c["memory"], v["memory"])
    # the guest's kernel, initramfs and root image, on top of the image's layers
    kernel = os.path.getsize(os.path.join(kdir, "vmlinuz"))
    assert v["disk"]["sharedBytes"]["median"] > c["disk"]["sharedBytes"]["median"] + kernel, (
        c["disk"], v["disk"])
    assert "ps=0" in r.stdout, r
    assert "vmm-left" not in r.stdout and "monitor-left" not in r.stdout, r
    assert "mounts=0" in r.stdout and "done" in r.stdout, r
