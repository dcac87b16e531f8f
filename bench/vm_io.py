#!/usr/bin/python3
"""Queue notifications through KVM_IOEVENTFD vs MMIO exits, side by side in ONE
test-host (L1) session (docs/virtio.md, "Notifications").

Debian's stock kernel under `isola-vmm run` (2 vCPUs, 256 MiB) with a 64 MiB raw
virtio-blk disk in L1's /dev/shm and a virtio-vsock device. In the guest:
 - blk read:  `dd if=/dev/vda of=/dev/null bs=4k iflag=direct` (the whole 64 MiB,
   16384 requests, one in flight);
 - blk write: `dd if=/dev/zero of=/dev/vda bs=4k count=16384 oflag=direct`;
 - blk read, 4 in flight: four such readers at once, each a quarter of the disk;
 - vsock: 2000 round trips of 64 bytes with an echo server on the L1 side
   (`guest-tool vsock-rtt`).
Each boot runs one mode; modes alternate, RUNS (4) boots each; medians are printed,
and the monitor's count of MMIO exits (`ISOLA_VMM_STATS=1`; the whole run, boot
included), which unlike the times does not depend on what else the shared host
is doing.
"old" sets ISOLA_VMM_NO_IOEVENTFD=1 (every QueueNotify write is an MMIO exit served
on the vCPU thread), "new" is the default (KVM completes the write, the device's
notify thread serves it). Same binary, same kernel, same initrd.

As in bench/vm_perf.py, the monitor is copied to L1's /dev/shm with its libraries
and started from there (L1's root is 9p without a cache).

Run in the test host (this host has no usable /dev/kvm):
    scripts/testhost/run --timeout 1200 /usr/bin/python3 bench/vm_io.py [BUILD_DIR]
Not a test: no pass/fail (but a run whose guest output lacks a number says so)."""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from vm_perf import localize  # noqa: E402

build = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
runs = int(os.environ.get("RUNS", "4"))
kdir = os.path.join(os.environ.get("ISOLA_CACHE", os.path.expanduser("~/.cache/isola")),
                    "testhost/current")
CMDLINE = "console=ttyS0 quiet mitigations=off noxsave panic=-1"
DISK_MB = 64
RTTS = 2000

GUEST_CMD = f"""
t0=$(guest-tool now)
dd if=/dev/vda of=/dev/null bs=4k iflag=direct 2>/dev/null
t1=$(guest-tool now)
echo "blk-read-us: $(( (t1 - t0) / 1000 ))"
t0=$(guest-tool now)
dd if=/dev/zero of=/dev/vda bs=4k count={DISK_MB * 256} oflag=direct 2>/dev/null
t1=$(guest-tool now)
echo "blk-write-us: $(( (t1 - t0) / 1000 ))"
t0=$(guest-tool now)
for i in 0 1 2 3; do
    dd if=/dev/vda of=/dev/null bs=4k iflag=direct skip=$((i * {DISK_MB * 64})) \
        count={DISK_MB * 64} 2>/dev/null &
done
wait
t1=$(guest-tool now)
echo "blk-read4-us: $(( (t1 - t0) / 1000 ))"
guest-tool vsock-rtt 2 5000 {RTTS}
guest-tool exit 0
"""


def echo_server(path, stop):
    """Echo every byte on each connection to PATH until stop is set."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(1)
    s.settimeout(1)
    while not stop.is_set():
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        with c:
            c.settimeout(120)
            try:
                while True:
                    d = c.recv(4096)
                    if not d:
                        break
                    c.sendall(d)
            except OSError:
                pass
    s.close()


def field(out, name):
    for line in out.splitlines():
        if line.startswith(name + ": "):
            try:
                return float(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None


def one_run(vmm, kernel, initrd, w, mode, i):
    d = os.path.join(w, f"run-{mode}-{i}")
    os.makedirs(d)
    disk = os.path.join(d, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(DISK_MB << 20)
    uds = os.path.join(d, "v.sock")
    stop = threading.Event()
    srv = threading.Thread(target=echo_server, args=(uds + "_5000", stop), daemon=True)
    srv.start()
    env = dict(os.environ)
    env.pop("ISOLA_VMM_NO_IOEVENTFD", None)
    if mode == "old":
        env["ISOLA_VMM_NO_IOEVENTFD"] = "1"
    argv = vmm + ["run", "--kernel", kernel, "--initrd", initrd, "--cmdline", CMDLINE,
                  "--cpus", "2", "--memory", "256M", "--disk", disk, "--vsock", "3",
                  "--vsock-uds", uds, "--console", "file=" + os.path.join(d, "console.log")]
    env["ISOLA_VMM_STATS"] = "1"
    try:
        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=400)
        status, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        status, err = "timeout", ""
    stop.set()
    srv.join(5)
    out = open(os.path.join(d, "console.log"), errors="replace").read()
    shutil.rmtree(d, ignore_errors=True)
    res = {k: field(out, k) for k in ("blk-read-us", "blk-write-us", "blk-read4-us",
                                      "vsock-rtt-us")}
    m = re.search(r"MMIO (\d+)", err)
    res["mmio-exits"] = int(m.group(1)) if m else None
    if status != 0 or None in res.values() or "ioeventfd" in err:
        print(f"  {mode} run {i}: status {status}, stderr {err[-300:]!r}, console "
              f"{out[-600:]!r}", flush=True)
    return res


def main():
    if not os.path.exists("/dev/kvm"):
        sys.exit("vm_io: no /dev/kvm here (see the header)")
    if not os.path.exists(os.path.join(kdir, "vmlinuz")):
        sys.exit("vm_io: no stock kernel (scripts/testhost/prepare)")
    w = tempfile.mkdtemp(prefix="vm-io-", dir="/dev/shm")
    try:
        vmm = localize(os.path.join(build, "src/cli/isola-vmm"), os.path.join(w, "vmm"))
        kernel = os.path.join(w, "bzImage")
        shutil.copy(os.path.join(kdir, "vmlinuz"), kernel)
        initrd = os.path.join(w, "initrd")
        subprocess.run([os.path.join(ROOT, "scripts/testhost/mkguest-initrd"), "-o", initrd,
                        "-m", "virtio_mmio,virtio_blk,vmw_vsock_virtio_transport",
                        "-a", os.path.join(build, "tests/guest-tool") + ":/bin/guest-tool",
                        "-c", GUEST_CMD], check=True, stdout=subprocess.DEVNULL)
        results = {"old": [], "new": []}
        for i in range(runs):
            for mode in ("old", "new"):
                r = one_run(vmm, kernel, initrd, w, mode, i)
                results[mode].append(r)
                print(f"  run {i} {mode}: {r}", flush=True)
        print(f"\n| stock kernel, 2 vCPUs, median of {runs} | 4k direct read MiB/s "
              f"(us/req) | 4k direct write MiB/s (us/req) | 4k read, 4 readers MiB/s (us/req) | "
              "vsock 64 B round trip (us) | "
              "MMIO exits, whole run |\n|---|---|---|---|---|---|")
        names = {"old": "MMIO exits (ISOLA_VMM_NO_IOEVENTFD=1)", "new": "ioeventfd (default)"}
        for mode in ("old", "new"):
            cols = []
            for k in ("blk-read-us", "blk-write-us", "blk-read4-us"):
                v = [r[k] for r in results[mode] if r[k]]
                if not v:
                    cols.append("-")
                    continue
                us = statistics.median(v)
                cols.append(f"{DISK_MB / (us / 1e6):.1f} ({us / (DISK_MB * 256):.0f})")
            v = [r["vsock-rtt-us"] for r in results[mode] if r["vsock-rtt-us"]]
            cols.append(f"{statistics.median(v):.0f}" if v else "-")
            v = [r["mmio-exits"] for r in results[mode] if r["mmio-exits"]]
            cols.append(f"{statistics.median(v):.0f}" if v else "-")
            print(f"| {names[mode]} | " + " | ".join(cols) + " |", flush=True)
    finally:
        shutil.rmtree(w, ignore_errors=True)


if __name__ == "__main__":
    main()
