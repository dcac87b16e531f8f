"""Layer 2, the virtio devices under Debian's own drivers (docs/virtio.md).

One boot of the stock kernel under `isola vm run` inside the test host (L1),
heavier on the devices than test_vm_linux.py:
- virtio-blk: 8 MiB of random data written raw to a disk, read back after
  dropping the page cache, and compared with what the host file holds; a second
  disk attached read-only is seen as read-only, refuses writes, reads back
  the host's bytes and is unchanged afterwards;
- virtio-net: 4 MiB from a TCP server on the L1 tap to the guest and 8 MiB
  back (many frames through both paths), compared;
- virtio-vsock: a host-initiated connection (`CONNECT <port>` on the unix
  socket, `OK <port>` back) to a guest listener;
- virtio-rng: bytes read from /dev/hwrng;
- queue notifications through KVM_IOEVENTFD (no fallback warning).
"""
import os
import subprocess

import pytest

from vmhost import GUEST_TOOL, ISOLA, ROOT

MODULES = ("virtio_mmio,virtio_blk,virtio_net,vmw_vsock_virtio_transport,virtio_rng")
CMDLINE = "console=ttyS0 quiet mitigations=off noxsave panic=-1"


def kernel_image():
    cur = os.path.join(os.environ.get("ISOLA_CACHE", os.path.expanduser("~/.cache/isola")),
                       "testhost", "current", "vmlinuz")
    return cur if os.path.exists(cur) else None


GUEST_CMD = r"""
for b in /sys/block/vd*; do
    [ "$(cat $b/ro)" = 1 ] && ro=/dev/${b##*/} || rw=/dev/${b##*/}
done
echo "disks: rw=$rw ro=$ro"
head -c 8388608 /dev/urandom > /tmp/r
echo "rw-src: $(md5sum < /tmp/r)"
dd if=/tmp/r of=$rw bs=1M conv=fsync 2>/dev/null && echo "rw-write: ok"
echo 3 > /proc/sys/vm/drop_caches
echo "rw-back: $(head -c 8388608 $rw | md5sum)"
echo "ro-read: $(md5sum < $ro)"
if dd if=/dev/zero of=$ro bs=4096 count=1 conv=fsync 2>/dev/null; then
    echo "ro-write: accepted"
else
    echo "ro-write: refused"
fi
echo "rng: $(head -c 32 /dev/hwrng | wc -c)"
ip link set eth0 up && ip addr add 10.202.0.2/24 dev eth0
timeout 120 nc 10.202.0.1 8080 </dev/null > /tmp/blob
echo "net-rx: $(md5sum < /tmp/blob)"
timeout 120 nc 10.202.0.1 8081 < /tmp/r > /dev/null && echo "net-tx: sent"
timeout 120 guest-tool vsock-echo 7000 && echo "vsock-echo: done"
sleep 2  # let the console drain: the exit port stops the VM at once
guest-tool exit 9
"""

NET_SERVER = r"""
import hashlib, socket, sys
blob, out = sys.argv[1], sys.argv[2]
def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.202.0.1", port)); s.listen(1); s.settimeout(280)
    return s
a, b = listener(8080), listener(8081)
c, _ = a.accept(); c.sendall(open(blob, "rb").read()); c.close()
c, _ = b.accept(); h = hashlib.md5()
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
c.close()
open(out, "w").write(h.hexdigest())
"""

HOST_CLIENT = r"""
import socket, sys, time
path, out = sys.argv[1], sys.argv[2]
end = time.time() + 240
res = "no answer"
while time.time() < end:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
    except OSError:
        time.sleep(0.5)
        continue
    s.settimeout(60)
    s.sendall(b"CONNECT 7000\n")
    f = s.makefile("rb")
    ok = f.readline()
    if not ok.startswith(b"OK "):
        s.close()
        time.sleep(0.5)  # the guest was not listening yet: RST, socket closed
        continue
    s.sendall(b"hello-from-host\n")
    res = ok.decode().strip() + " | " + f.readline().decode().strip()
    break
open(out, "w").write(res)
"""


@pytest.fixture(scope="module")
def l2(testhost):
    k = kernel_image()
    if k is None:
        pytest.skip("no prepared Debian kernel (scripts/testhost/prepare)")
    return testhost, k


def mkinitrd(out, cmd):
    subprocess.run([os.path.join(ROOT, "scripts", "testhost", "mkguest-initrd"), "-o", out,
                    "-m", MODULES, "-a", f"{GUEST_TOOL}:/bin/guest-tool", "-c", cmd],
                   check=True, timeout=120, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def field(out, name):
    """First word after `name: ` on its line ("" if none), None if no such line."""
    for line in out.splitlines():
        if line.startswith(name + ": "):
            words = line[len(name) + 2:].split()
            return words[0] if words else ""
    return None


def test_virtio_devices_under_linux_drivers(l2):
    th, kernel = l2
    tap = f"isw{os.getpid() % 100000}"
    initrd = th.path(f"l2-virtio-{os.getpid()}.cpio")
    client = th.path(f"l2-virtio-client-{os.getpid()}.py")
    server = th.path(f"l2-virtio-server-{os.getpid()}.py")
    mkinitrd(initrd, GUEST_CMD)
    with open(client, "w") as f:
        f.write(HOST_CLIENT)
    with open(server, "w") as f:
        f.write(NET_SERVER)
    try:
        script = f"""
set -u
d=$(mktemp -d /tmp/isola-l2v.XXXXXX)
truncate -s 16M $d/rw.img
head -c 4194304 /dev/urandom > $d/ro.img
echo "host-ro-before: $(md5sum < $d/ro.img)"
mkdir $d/www && head -c 4194304 /dev/urandom > $d/www/blob
echo "host-blob: $(md5sum < $d/www/blob)"
ip tuntap add dev {tap} mode tap && ip addr add 10.202.0.1/24 dev {tap} && ip link set {tap} up
python3 {server} $d/www/blob $d/net.out & hpid=$!
python3 {client} $d/v.sock $d/client.out & cpid=$!
timeout 300 {ISOLA} vm run --kernel {kernel} --initrd {initrd} --cmdline '{CMDLINE}' \
    --cpus 2 --memory 512M --disk $d/rw.img --disk $d/ro.img,ro --net tap={tap} \
    --vsock 3 --vsock-uds $d/v.sock --rng --console file=$d/console.log </dev/null
echo "status=$?"
cat $d/console.log
echo "host-rw: $(head -c 8388608 $d/rw.img | md5sum)"
echo "host-ro-after: $(md5sum < $d/ro.img)"
wait $cpid
echo "host-net-tx: $(cat $d/net.out 2>/dev/null)"
echo "host-vsock: $(cat $d/client.out 2>/dev/null)"
echo "leftover-socket: $(ls $d/v.sock 2>/dev/null || echo none)"
kill $hpid 2>/dev/null; wait $hpid 2>/dev/null
ip link del {tap}
rm -rf $d
"""
        r = th.run(script, timeout=500)
    finally:
        os.unlink(initrd)
        os.unlink(client)
        os.unlink(server)
    out = r.stdout
    print(out)  # shown by pytest when an assertion fails
    assert "status=9" in out, r
    assert "disks: rw=/dev/vd" in out and "ro=/dev/vd" in out, r
    src = field(out, "rw-src")
    assert src and field(out, "rw-back") == src, r
    assert field(out, "host-rw") == src, r
    assert "rw-write: ok" in out, r
    assert field(out, "ro-read") == field(out, "host-ro-before"), r
    assert "ro-write: refused" in out, r
    assert field(out, "host-ro-after") == field(out, "host-ro-before"), r
    assert "rng: 32" in out, r
    assert field(out, "net-rx") == field(out, "host-blob"), r
    assert "net-tx: sent" in out, r
    assert field(out, "host-net-tx") == src, r
    assert "vsock-echo: done" in out, r
    assert "| echo: hello-from-host" in out, r
    assert "host-vsock: OK " in out, r
    assert "leftover-socket: none" in out, r
    # Queue notifications went through KVM_IOEVENTFD (mmio.c warns when it falls
    # back to MMIO exits).
    assert "ioeventfd" not in r.stderr, r
