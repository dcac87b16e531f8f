#!/usr/bin/python3
"""isola's monitor vs QEMU's microvm, in ONE test-host (L1) session:
 1. peak RSS (GNU time %M, max of 5 runs) of the tiny guest (tests/guests, PVH entry,
    64 MiB) under isola-vmm, under `isola vm run` (which executes isola-vmm) and
    under `qemu-system-x86_64 -M microvm -accel kvm`;
 2. Debian's stock kernel to /init: same bzImage, initrd and command line
    (`console=ttyS0 quiet mitigations=off noxsave panic=-1`), 2 vCPUs, 256 MiB,
    launch until the init's first line, median of RUNS (3) runs each, every run
    bounded by `timeout`. The kernel is copied to /dev/shm first (9p reads dominate).
Run in the test host (this host has no usable /dev/kvm):
    scripts/testhost/run --timeout 1200 /usr/bin/python3 bench/vm_perf.py [BUILD_DIR]
STOCK=0: the RSS part only. Results are recorded in docs/vm.md. Not a test: no pass/fail."""
import os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
isola = os.path.join(build, "src/cli/isola")
vmm = os.path.join(build, "src/cli/isola-vmm")
runs = int(os.environ.get("RUNS", "3"))
kdir = os.path.join(os.environ.get("ISOLA_CACHE", os.path.expanduser("~/.cache/isola")),
                    "testhost/current")
if not os.path.exists("/dev/kvm"):
    sys.exit("vm_perf: no /dev/kvm here (see the header)")

w = tempfile.mkdtemp(prefix="vm-perf-", dir="/dev/shm")
try:
    guest = os.path.join(w, "guest")
    shutil.copy(os.path.join(build, "tests/guests/vm-guest"), guest)
    QEMU = ("qemu-system-x86_64 -M microvm -accel kvm -cpu host -nodefaults -no-user-config "
            "-display none -serial stdio -no-reboot")
    tiny = {
        "isola-vmm run": f"{vmm} run --kernel {guest} --boot pvh --memory 64M --cmdline mode=exit",
        "isola vm run": f"{isola} vm run --kernel {guest} --boot pvh --memory 64M "
                        "--cmdline mode=exit",
        "qemu -M microvm": f"{QEMU} -m 64M -device isa-debug-exit,iobase=0x501,iosize=1 "
                           f"-kernel {guest} -append mode=exit",
    }
    print("| tiny guest, 64 MiB | peak RSS (KiB, max of 5) |\n|---|---|")
    for name, cmd in tiny.items():
        m = 0
        for _ in range(5):
            r = subprocess.run(["/usr/bin/time", "-f", "%M", "timeout", "-s", "KILL", "60",
                                "sh", "-c", f"exec {cmd} >/dev/null 2>&1"],
                               stderr=subprocess.PIPE, text=True)
            m = max(m, int(r.stderr.strip().splitlines()[-1]))
        print(f"| {name} | {m} |", flush=True)

    if os.environ.get("STOCK", "1") == "0":
        sys.exit(0)
    if not os.path.exists(os.path.join(kdir, "vmlinuz")):
        sys.exit("vm_perf: no stock kernel (scripts/testhost/prepare)")
    bz = os.path.join(w, "bzImage")
    shutil.copy(os.path.join(kdir, "vmlinuz"), bz)
    vml = os.path.join(w, "vmlinux")
    subprocess.run([vmm, "extract-kernel", bz, vml], check=True)
    initrd = os.path.join(w, "initrd")
    subprocess.run([os.path.join(ROOT, "scripts/testhost/mkguest-initrd"), "-o", initrd,
                    "-c", "true"], check=True, stdout=subprocess.DEVNULL)
    cl = "console=ttyS0 quiet mitigations=off noxsave panic=-1"
    stock = {
        "qemu -M microvm,acpi=on, bzImage": QEMU.replace("microvm", "microvm,acpi=on").split()
        + ["-kernel", bz],
        "isola vm run, bzImage": [isola, "vm", "run", "--kernel", bz],
        "isola vm run, vmlinux (extract-kernel)": [isola, "vm", "run", "--kernel", vml],
    }
    for name in stock:
        if name.startswith("isola"):
            stock[name] += ["--initrd", initrd, "--cpus", "2", "--memory", "256M",
                            "--cmdline", cl]
        else:
            stock[name] += ["-smp", "2", "-m", "256", "-initrd", initrd, "-append", cl]
    res = {}
    print(f"\n| stock kernel, launch to /init | runs (s) | median (s) |\n|---|---|---|")
    for name, argv in stock.items():
        ts = []
        for _ in range(runs):
            t0 = time.monotonic()
            p = subprocess.Popen(["timeout", "-s", "KILL", "150"] + argv, stdout=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for line in p.stdout:
                if b"isola-init" in line:
                    ts.append(time.monotonic() - t0)
                    break
            p.stdout.read()
            p.wait()
        res[name] = statistics.median(ts) if ts else None
        med = f"{res[name]:.2f}" if ts else "no /init"
        print(f"| {name} | {', '.join(f'{t:.2f}' for t in ts)} | {med} |", flush=True)
    q = res["qemu -M microvm,acpi=on, bzImage"]
    for name, v in res.items():
        if v and q and name.startswith("isola"):
            print(f"ratio isola/qemu ({name}): {v / q:.2f}")
finally:
    shutil.rmtree(w, ignore_errors=True)
