"""Layer 2: Debian's stock kernel under isola's monitor, inside the test host (L1:
QEMU TCG with SVM, real /dev/kvm; this host's kvm-pvm cannot boot it).

One boot checks: the guest reaches /init, sees N CPUs, finds the virtio-mmio
devices from the ACPI DSDT, mounts an ext4 virtio-blk disk and writes a file
the host then reads, pings a tap in L1 over virtio-net, exchanges bytes with a
host unix socket over virtio-vsock, and reports its exit code through the debug
port (the monitor's exit status). A second boot powers off (status 0).
"""
import os
import shlex
import subprocess

import pytest

from vmhost import BUILD, GUEST_TOOL, ISOLA, ROOT

MODULES = ("virtio_mmio,virtio_blk,ext4,virtio_net,vmw_vsock_virtio_transport,"
           "virtio_rng")
CMDLINE = "console=ttyS0 quiet mitigations=off noxsave panic=-1"


def kernel_image():
    cur = os.path.join(os.environ.get("ISOLA_CACHE", os.path.expanduser("~/.cache/isola")),
                       "testhost", "current", "vmlinuz")
    return cur if os.path.exists(cur) else None


def mkinitrd(out, cmd):
    subprocess.run([os.path.join(ROOT, "scripts", "testhost", "mkguest-initrd"), "-o", out,
                    "-m", MODULES, "-a", f"{GUEST_TOOL}:/bin/guest-tool", "-c", cmd],
                   check=True, timeout=120, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def l2(testhost):
    k = kernel_image()
    if k is None:
        pytest.skip("no prepared Debian kernel (scripts/testhost/prepare)")
    return testhost, k


GUEST_CMD = r"""
echo "guest-cpus: $(grep -c ^processor /proc/cpuinfo)"
echo "virtio-devices: $(ls /sys/bus/virtio/devices | wc -l)"
rw=vda; ro=vdb
[ "$(cat /sys/block/vda/size)" = 2048 ] && { rw=vdb; ro=vda; }
mkdir -p /mnt
if mount -t ext4 /dev/$rw /mnt; then
    echo "written-by-guest-$TOKEN" > /mnt/hello.txt; sync; umount /mnt && echo "disk: ok"
fi
ip link set eth0 up && ip addr add 10.201.0.2/24 dev eth0 &&
    ping -c 1 -W 10 10.201.0.1 >/dev/null && echo "net: ok"
if dd if=/dev/zero of=/dev/$ro bs=4096 count=1 conv=fsync 2>/dev/null; then
    echo "ro-write: accepted"
else
    echo "ro-write: refused"
fi
guest-tool vsock-send 2 5000 "ping-$TOKEN"
guest-tool exit 7
"""


def test_stock_kernel_devices_and_exit_code(l2):
    th, kernel = l2
    token = f"t{os.getpid()}"
    tap = f"isv{os.getpid() % 100000}"
    initrd = th.path(f"l2-{os.getpid()}.cpio")
    mkinitrd(initrd, f"TOKEN={token}\n" + GUEST_CMD)
    try:
        script = f"""
set -u
d=$(mktemp -d /tmp/isola-l2.XXXXXX)
truncate -s 64M $d/disk.img && mkfs.ext4 -q -F $d/disk.img
head -c 1048576 /dev/urandom > $d/ro.img; ro_sum=$(sha256sum < $d/ro.img)
ip tuntap add dev {tap} mode tap && ip addr add 10.201.0.1/24 dev {tap} && ip link set {tap} up
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(200)
c, _ = s.accept(); data = c.recv(100); c.sendall(b"pong " + data); c.close()
' $d/v.sock_5000 & lpid=$!
timeout 300 {ISOLA} vm run --kernel {kernel} --initrd {initrd} --cmdline '{CMDLINE}' \
    --cpus 2 --memory 512M --disk $d/disk.img --disk $d/ro.img,ro --net tap={tap} --vsock 3 \
    --vsock-uds $d/v.sock --rng --console file=$d/console.log </dev/null
echo "status=$?"
cat $d/console.log
[ "$(sha256sum < $d/ro.img)" = "$ro_sum" ] && echo "ro-disk: unchanged"
echo "host-read: $(debugfs -R 'cat /hello.txt' $d/disk.img 2>/dev/null)"
kill $lpid 2>/dev/null; wait $lpid 2>/dev/null
ip link del {tap}
rm -rf $d
"""
        r = th.run(script, timeout=400)
    finally:
        os.unlink(initrd)
    out = r.stdout
    assert "isola-init: ready" in out, r
    assert "status=7" in out, r
    assert "guest-cpus: 2" in out, r
    assert "virtio-devices: 5" in out, r
    assert "ro-write: refused" in out, r
    assert "ro-disk: unchanged" in out, r
    assert "disk: ok" in out, r
    assert f"host-read: written-by-guest-{token}" in out, r
    assert "net: ok" in out, r
    assert f"vsock reply: pong ping-{token}" in out, r


def test_stock_kernel_powers_off(l2):
    th, kernel = l2
    initrd = th.path(f"l2-off-{os.getpid()}.cpio")
    mkinitrd(initrd, "echo bye")
    try:
        r = th.run(f"timeout 300 {shlex.quote(ISOLA)} vm run --kernel {kernel} "
                   f"--initrd {initrd} --cmdline '{CMDLINE}' --memory 256M </dev/null; "
                   "echo status=$?", timeout=400)
    finally:
        os.unlink(initrd)
    assert "isola-init: exit 0" in r.stdout, r
    assert "status=0" in r.stdout, r


def test_stock_kernel_shell_prompt(l2):
    """An interactive busybox shell on the serial console (interrupt-driven 8250
    input): the commands typed reach the shell, its prompt and output come back."""
    th, kernel = l2
    initrd = th.path(f"l2-sh-{os.getpid()}.cpio")
    mkinitrd_shell(initrd)
    try:
        # The shell reads the console once /init has started it; the input
        # waits in the UART's FIFO until then.
        typed = "echo shell-says-$((6*7))\\npoweroff -f\\n"
        r = th.run(f"(sleep 25; printf '{typed}') | timeout 300 {shlex.quote(ISOLA)} vm run "
                   f"--kernel {kernel} --initrd {initrd} --cmdline '{CMDLINE}' "
                   "--memory 256M; echo status=$?", timeout=400)
    finally:
        os.unlink(initrd)
    assert "# " in r.stdout, r
    assert "shell-says-42" in r.stdout, r
    assert "status=0" in r.stdout, r


def mkinitrd_shell(out):
    subprocess.run([os.path.join(ROOT, "scripts", "testhost", "mkguest-initrd"), "-o", out],
                   check=True, timeout=120, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
