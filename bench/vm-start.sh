#!/bin/sh
# Side by side: isola's monitor vs QEMU's microvm on the same tiny guest
# (tests/guests, PVH entry for both), on this host's /dev/kvm:
#  - time from launch to the first byte of guest output (median of N runs),
#  - whole run (print + exit) with hyperfine,
#  - VMM peak RSS (GNU time %M),
#  - microVMs started per second on one core (sequential runs pinned to CPU 0).
# This host's kvm-pvm has no /dev/kvm for it: run it in the test host:
#   scripts/testhost/run --timeout 900 bench/vm-start.sh [BUILD_DIR]
# Results are recorded in docs/vm.md. Not a test: no pass/fail.
set -eu
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
isola=$build/src/cli/isola
guest=$build/tests/guests/vm-guest
runs=${RUNS:-20}
[ -e /dev/kvm ] || { echo "vm-start: no /dev/kvm here (see the header)" >&2; exit 1; }
cp "$guest" /tmp/vm-start-guest.$$
guest=/tmp/vm-start-guest.$$
trap 'rm -f "$guest"' EXIT

# isola-vmm is the monitor that `isola vm run` executes; calling it directly keeps the
# front end's own (pre-exec) RSS out of GNU time's peak.
ISOLA="$build/src/cli/isola-vmm run --kernel $guest --boot pvh --memory 64M --cmdline mode=exit"
QEMU="timeout 60 qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 64M \
-nodefaults -no-user-config -display none -serial stdio -no-reboot \
-device isa-debug-exit,iobase=0x501,iosize=1 -kernel $guest -append mode=exit"

first_output() { # median ms from exec to the first byte (or line with $3) on stdout
    python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time, statistics
n = int(sys.argv[1]); cmd = sys.argv[2]; marker = sys.argv[3] if len(sys.argv) > 3 else None
ts = []
for _ in range(n):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    if marker is None:
        got = p.stdout.read(1)
    else:
        got = b""
        for line in p.stdout:
            if marker.encode() in line:
                got = line
                break
    if got:
        ts.append((time.monotonic() - t0) * 1000)
    p.stdout.read(); p.wait()
print(f"{statistics.median(ts):.1f}" if ts else "no output")
PY
}

peak_rss() { # KiB, max over 5 runs
    m=0
    for _ in 1 2 3 4 5; do
        r=$( { /usr/bin/time -f %M sh -c "exec $1 >/dev/null 2>&1" ; } 2>&1 | tail -1)
        [ "$r" -gt "$m" ] && m=$r
    done
    echo "$m"
}

per_second() { # VMs per second, sequential, pinned to CPU 0
    n=$runs
    t0=$(date +%s.%N)
    i=0
    while [ $i -lt $n ]; do taskset -c 0 sh -c "exec $1 >/dev/null 2>&1" || true; i=$((i+1)); done
    t1=$(date +%s.%N)
    python3 -c "print(f'{$n / ($t1 - $t0):.1f}')"
}

echo "== hyperfine (whole run: boot, print, exit)"
hyperfine -N -i --warmup 2 --runs "$runs" --export-markdown /tmp/vm-start-hf.$$.md \
    -n isola "$ISOLA" -n qemu-microvm "$QEMU" >/dev/null 2>&1 || true
cat /tmp/vm-start-hf.$$.md 2>/dev/null; rm -f /tmp/vm-start-hf.$$.md
echo
printf '| VMM | first output (ms, median) | peak RSS (KiB) | VMs/s on one core |\n'
printf '|---|---|---|---|\n'
printf '| isola | %s | %s | %s |\n' "$(first_output "$ISOLA")" "$(peak_rss "$ISOLA")" \
    "$(per_second "$ISOLA")"
printf '| qemu -M microvm | %s | %s | %s |\n' "$(first_output "$QEMU")" "$(peak_rss "$QEMU")" \
    "$(per_second "$QEMU")"

# Debian's stock kernel to /init (needs scripts/testhost/prepare's kernel; in L1).
kdir="${ISOLA_CACHE:-$HOME/.cache/isola}/testhost/current"
if [ -f "$kdir/vmlinuz" ] && [ "${STOCK:-1}" = 1 ]; then
    runs=${STOCK_RUNS:-1}
    w=$(mktemp -d /tmp/vm-start.XXXXXX)
    scripts/testhost/mkguest-initrd -o "$w/initrd" -c true
    cp "$kdir/vmlinuz" "$w/bzImage"
    "$isola" vm extract-kernel "$w/bzImage" "$w/vmlinux"
    cl="console=ttyS0 quiet mitigations=off noxsave panic=-1"
    I="$isola vm run --initrd $w/initrd --memory 256M --cpus 2 --cmdline '$cl'"
    Q="timeout 120 qemu-system-x86_64 -accel kvm -cpu host -smp 2 -m 256 -nodefaults \
-no-user-config -display none -no-reboot -serial stdio -initrd $w/initrd -append '$cl'"
    echo
    printf '| stock kernel, launch to /init (ms, median of %s) | |\n|---|---|\n' "$runs"
    printf '| isola, bzImage | %s |\n' "$(first_output "$I --kernel $w/bzImage" isola-init)"
    printf '| isola, vmlinux (extract-kernel) | %s |\n' \
        "$(first_output "$I --kernel $w/vmlinux" isola-init)"
    printf '| isola, vmlinux, PVH entry | %s |\n' \
        "$(first_output "$I --kernel $w/vmlinux --boot pvh" isola-init)"
    printf '| qemu -M pc, bzImage | %s |\n' "$(first_output "$Q -kernel $w/bzImage" isola-init)"
    printf '| qemu -M microvm, bzImage | %s |\n' \
        "$(first_output "$Q -M microvm -kernel $w/bzImage" isola-init)"
    rm -rf "$w"
fi
