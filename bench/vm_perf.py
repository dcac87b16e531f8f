#!/usr/bin/python3
"""isola's monitor vs QEMU's microvm, side by side in ONE test-host (L1) session.

 1. Tiny guest (tests/guests, PVH entry for both, 64 MiB, `mode=exit`):
    launch to the first byte of guest output (median of RUNS), the whole run with
    hyperfine, monitor peak RSS (GNU time %M, max of 5) and microVMs started per
    second on one core (sequential runs pinned to CPU 0).
 2. Debian's stock kernel to /init: same kernel, initrd (`mkguest-initrd -c true`) and
    command line (`console=ttyS0 quiet mitigations=off noxsave panic=-1`), 2 vCPUs,
    256 MiB; launch until the init's first line, median of STOCK_RUNS (3), every run
    bounded by a timeout. bzImage for both; the uncompressed vmlinux for both (isola
    through `extract-kernel`'s ELF entry, QEMU through the PVH note).

L1's root is the host's tree over 9p without a cache, where loading a binary and
its libraries costs ~40-170 ms per exec. So that both monitors start from memory as
on a normal host, every binary (with its shared libraries, its loader and QEMU's
firmware directory) is first copied to L1's /dev/shm and started from there, without a
shell in between.

Run in the test host (this host has no usable /dev/kvm):
    scripts/testhost/run --timeout 1800 /usr/bin/python3 bench/vm_perf.py [BUILD_DIR]
Environment: RUNS (20), STOCK_RUNS (3), STOCK=0 skips part 2. Results are recorded
in docs/vm.md. Not a test: no pass/fail."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
runs = int(os.environ.get("RUNS", "20"))
stock_runs = int(os.environ.get("STOCK_RUNS", "3"))
kdir = os.path.join(os.environ.get("ISOLA_CACHE", os.path.expanduser("~/.cache/isola")),
                    "testhost/current")


def localize(binary, dest):
    """Copy binary and its shared libraries to dest; return the argv prefix that runs
    the copy (through the copied loader when the binary is dynamic)."""
    os.makedirs(os.path.join(dest, "lib"), exist_ok=True)
    exe = os.path.join(dest, os.path.basename(binary))
    shutil.copy(binary, exe)
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    loader = None
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            shutil.copy(parts[2], os.path.join(dest, "lib", os.path.basename(parts[2])))
        elif parts and parts[0].startswith("/") and "ld-linux" in parts[0]:
            loader = os.path.join(dest, "lib", os.path.basename(parts[0]))
            shutil.copy(parts[0], loader)
    if loader is None:  # static
        return [exe]
    return [loader, "--library-path", os.path.join(dest, "lib"), exe]


hung = {}  # name of a command line -> runs killed by the time bound


def first_output(name, argv, marker=None, n=runs, timeout=60):
    """Times (s) from spawn to the first byte (or the line holding marker); a run
    that takes longer than timeout is killed, counted in `hung` and left out."""
    ts = []
    for _ in range(n):
        t0 = time.monotonic()  # no `timeout` wrapper: its own exec would be timed
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        if marker is None:
            got = p.stdout.read(1)
        else:
            got = b""
            for line in p.stdout:
                if marker in line:
                    got = line
                    break
        if got:
            ts.append(time.monotonic() - t0)
        p.stdout.read()
        p.wait()
        killer.cancel()
        if p.returncode == -9:
            hung[name] = hung.get(name, 0) + 1
    return ts


def peak_rss(argv):
    m = 0
    for _ in range(5):
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "timeout", "-s", "KILL", "60"] + argv,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = max(m, int(r.stderr.strip().splitlines()[-1]))
    return m


def per_second(argv, n=runs):
    """Sequential starts on CPU 0 only."""
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    try:
        t0 = time.monotonic()
        for _ in range(n):
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL, timeout=60)
        return n / (time.monotonic() - t0)
    finally:
        os.sched_setaffinity(0, old)


def main():
    if not os.path.exists("/dev/kvm"):
        sys.exit("vm_perf: no /dev/kvm here (see the header)")
    w = tempfile.mkdtemp(prefix="vm-perf-", dir="/dev/shm")
    try:
        vmm = localize(os.path.join(build, "src/cli/isola-vmm"), os.path.join(w, "vmm"))
        isola = localize(os.path.join(build, "src/cli/isola"), os.path.join(w, "isola"))
        os.environ["ISOLA_VMM"] = vmm[-1]  # `isola vm run` executes this copy
        qemu = localize(shutil.which("qemu-system-x86_64"), os.path.join(w, "qemu"))
        shutil.copytree("/usr/share/qemu", os.path.join(w, "qemu-share"), symlinks=False)
        qemu += ["-L", os.path.join(w, "qemu-share"), "-M", "microvm", "-accel", "kvm",
                 "-cpu", "host", "-nodefaults", "-no-user-config", "-display", "none",
                 "-serial", "stdio", "-no-reboot"]
        guest = os.path.join(w, "guest")
        shutil.copy(os.path.join(build, "tests/guests/vm-guest"), guest)
        tiny = {
            "isola-vmm run": vmm + ["run", "--kernel", guest, "--boot", "pvh", "--memory", "64M",
                                    "--cmdline", "mode=exit"],
            "isola vm run": isola + ["vm", "run", "--kernel", guest, "--boot", "pvh",
                                     "--memory", "64M", "--cmdline", "mode=exit"],
            "qemu -M microvm": qemu + ["-m", "64M", "-device",
                                       "isa-debug-exit,iobase=0x501,iosize=1", "-kernel", guest,
                                       "-append", "mode=exit"],
        }
        print(f"| tiny guest, 64 MiB | first output (ms, median of {runs}) | peak RSS (KiB, "
              f"max of 5) | VMs/s on one core |\n|---|---|---|---|")
        res = {}
        for name, argv in tiny.items():
            ts = first_output(name, argv)
            fo = statistics.median(ts) * 1000 if ts else None
            res[name] = fo
            print(f"| {name} | {f'{fo:.1f}' if fo else 'no output'} | {peak_rss(argv)} | "
                  f"{per_second(argv):.1f} |", flush=True)
        q = res["qemu -M microvm"]
        for name in ("isola-vmm run", "isola vm run"):
            if res[name] and q:
                print(f"ratio first output {name}/qemu: {res[name] / q:.2f}", flush=True)
        if hung:
            print(f"runs killed at their time bound: {hung}", flush=True)
        if shutil.which("hyperfine"):
            md = os.path.join(w, "hf.md")
            hf = ["hyperfine", "-N", "-i", "--warmup", "2", "--runs", str(runs),
                  "--export-markdown", md]
            for name, argv in tiny.items():
                hf += ["-n", name, " ".join(argv)]
            try:
                subprocess.run(hf, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=40 * runs)
            except subprocess.TimeoutExpired:
                print("hyperfine: no result within its time bound (a run hung)", flush=True)
            print("\nhyperfine, whole run (boot, print, exit):")
            print(open(md).read() if os.path.exists(md) else "(hyperfine failed)", flush=True)

        if os.environ.get("STOCK", "1") == "0":
            return
        if not os.path.exists(os.path.join(kdir, "vmlinuz")):
            sys.exit("vm_perf: no stock kernel (scripts/testhost/prepare)")
        bz = os.path.join(w, "bzImage")
        shutil.copy(os.path.join(kdir, "vmlinuz"), bz)
        vml = os.path.join(w, "vmlinux")
        subprocess.run(vmm + ["extract-kernel", bz, vml], check=True)
        initrd = os.path.join(w, "initrd")
        subprocess.run([os.path.join(ROOT, "scripts/testhost/mkguest-initrd"), "-o", initrd,
                        "-c", "true"], check=True, stdout=subprocess.DEVNULL)
        cl = "console=ttyS0 quiet mitigations=off noxsave panic=-1"
        iargs = ["--initrd", initrd, "--cpus", "2", "--memory", "256M", "--cmdline", cl]
        qargs = ["-smp", "2", "-m", "256", "-initrd", initrd, "-append", cl]
        stock = {
            "qemu -M microvm,acpi=on, bzImage": qemu + ["-M", "microvm,acpi=on", "-kernel", bz]
            + qargs,
            "qemu -M microvm,acpi=on, vmlinux (PVH)": qemu + ["-M", "microvm,acpi=on",
                                                             "-kernel", vml] + qargs,
            "isola-vmm run, bzImage": vmm + ["run", "--kernel", bz] + iargs,
            "isola-vmm run, vmlinux": vmm + ["run", "--kernel", vml] + iargs,
            "isola vm run, vmlinux": isola + ["vm", "run", "--kernel", vml] + iargs,
        }
        sres = {}
        print(f"| stock kernel, launch to /init | runs (s) | median (s) |\n|---|---|---|")
        for name, argv in stock.items():
            ts = first_output(name, argv, b"isola-init", n=stock_runs, timeout=150)
            sres[name] = statistics.median(ts) if ts else None
            med = f"{sres[name]:.2f}" if ts else "no /init"
            print(f"| {name} | {', '.join(f'{t:.2f}' for t in ts)} | {med} |", flush=True)
        q = sres["qemu -M microvm,acpi=on, bzImage"]
        for name, v in sres.items():
            if v and q and not name.startswith("qemu -M microvm,acpi=on, bz"):
                print(f"ratio to qemu microvm bzImage ({name}): {v / q:.2f}", flush=True)
        if hung:
            print(f"runs killed at their time bound: {hung}", flush=True)
    finally:
        shutil.rmtree(w, ignore_errors=True)


if __name__ == "__main__":
    main()
