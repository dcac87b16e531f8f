#!/usr/bin/python3
"""Boot times of the test host: L1 (QEMU TCG + SVM) until its agent is ready,
and, inside L1, Debian's stock kernel as an L2 guest of `qemu-system-x86_64
-accel kvm` from launch to its /init (the "isola-init: ready" line) and to
power-off. Not a test: it prints numbers for docs/testhost.md.

  bench/testhost_boot.py [--runs N]
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "integration"))
import testhost  # noqa: E402

# Prints milliseconds since launch before every console line of the L2 guest.
STAMP = r"""s=$(date +%s%N)
"$@" 2>&1 | while IFS= read -r l; do echo "$(( ($(date +%s%N) - s) / 1000000 )) $l"; done
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    with testhost.TestHost() as th:
        print(f"L1 ready: {th.boot_seconds:.1f} s  ({th.cpus} vCPUs, {th.memory_mb} MiB, "
              f"kernel {os.path.basename(th.kdir)})")
        r = th.run("nproc; cat /proc/loadavg", check=True)
        initrd = testhost.mkguest_initrd(th.path("l2.cpio"), command="true")
        stamp = th.path("stamp.sh")
        with open(stamp, "w") as f:
            f.write(STAMP)
        for i in range(a.runs):
            r = th.run(["sh", stamp, "qemu-system-x86_64", "-accel", "kvm", "-cpu", "host",
                        "-smp", "2", "-m", "256", "-nodefaults", "-no-user-config",
                        "-display", "none", "-no-reboot", "-serial", "stdio",
                        "-kernel", th.kernel, "-initrd", initrd, "-append",
                        "console=ttyS0 quiet mitigations=off noxsave panic=-1"],
                       timeout=300, check=True)
            init = re.search(r"^(\d+) isola-init: ready$", r.stdout, re.M)
            off = re.search(r"^(\d+) .*reboot: Power down", r.stdout, re.M)
            if not init:
                print(f"run {i + 1}: L2 did not reach /init:\n{r.stdout}")
                return 1
            print(f"run {i + 1}: L2 stock kernel (qemu -accel kvm in L1) to /init: "
                  f"{int(init.group(1)) / 1000:.1f} s, to power-off: "
                  f"{int(off.group(1)) / 1000 if off else float('nan'):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
