"""The test host (L1) itself: it boots, its /dev/kvm is real hardware
virtualization, its cgroups are pure v2, the host's tree and build directory run
in it, and a stock Debian kernel boots nested under QEMU with -accel kvm."""
import os
import re
import subprocess

import pytest

from conftest import BUILD
import testhost as th_mod

KVM_IOCTLS = r"""
import fcntl, os
KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_CHECK_EXTENSION, KVM_CREATE_VCPU = 0xAE00, 0xAE01, 0xAE03, 0xAE41
KVM_CAP_NR_VCPUS = 9
kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
print("api", fcntl.ioctl(kvm, KVM_GET_API_VERSION))
print("nr_vcpus", fcntl.ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS))
vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
print("vm", vm >= 0, "vcpu", vcpu >= 0)
"""


def test_boots_debian_kernel(testhost):
    r = testhost.run("uname -r; hostname", check=True)
    kver, host = r.stdout.split()
    assert re.match(r"^\d+\.\d+\.\d+-\d+-amd64$", kver), kver
    assert os.path.basename(testhost.kdir) == kver
    assert host == "testhost"


def test_status_stdout_stderr_are_passed_back(testhost):
    r = testhost.run("echo to-out; echo to-err >&2; exit 7")
    assert (r.returncode, r.stdout, r.stderr) == (7, "to-out\n", "to-err\n")
    r = testhost.run(["/bin/echo", "two words", "$HOME"], check=True)
    assert r.stdout == "two words $HOME\n"


def test_command_is_bounded_in_time(testhost):
    r = testhost.run("echo started; sleep 600", timeout=2)
    assert r.returncode == 124
    assert r.stdout == "started\n"
    # L1 keeps answering after a command ran out of time.
    assert testhost.run("true").returncode == 0


def test_dev_kvm_is_real_svm(testhost):
    r = testhost.run("grep -c -w svm /proc/cpuinfo; ls /sys/module", check=True)
    lines = r.stdout.split()
    assert int(lines[0]) == testhost.cpus
    assert "kvm_amd" in lines[1:]
    r = testhost.run(["/usr/bin/python3", "-c", KVM_IOCTLS], check=True)
    assert "api 12\n" in r.stdout
    assert "vm True vcpu True\n" in r.stdout
    assert int(re.search(r"nr_vcpus (\d+)", r.stdout).group(1)) >= 1


def test_cgroup2_is_pure_with_controllers(testhost):
    r = testhost.run("cat /proc/self/mountinfo", check=True)
    cg = [l.split(" - ")[1].split()[0] + " " + l.split()[4] for l in r.stdout.splitlines()
          if " - cgroup" in l]
    assert cg == ["cgroup2 /sys/fs/cgroup"], cg
    r = testhost.run("cat /sys/fs/cgroup/cgroup.controllers "
                     "/sys/fs/cgroup/cgroup.subtree_control", check=True)
    available, enabled = [set(l.split()) for l in r.stdout.splitlines()]
    assert {"memory", "pids", "cpu", "io", "cpuset"} <= available
    assert available == enabled
    name = f"/sys/fs/cgroup/isola-test-{os.getpid()}"
    r = testhost.run(f"mkdir {name} && echo 64M > {name}/memory.max && "
                     f"echo 42 > {name}/pids.max && echo '50000 100000' > {name}/cpu.max && "
                     f"cat {name}/memory.max {name}/pids.max {name}/cpu.max; "
                     f"rc=$?; rmdir {name}; exit $rc")
    assert r.returncode == 0, r
    assert r.stdout.split("\n")[:3] == ["67108864", "42", "50000 100000"]


def test_host_tree_and_build_dir_run(testhost, isola):
    r = testhost.run([isola, "--version"], check=True)
    host = subprocess.run([isola, "--version"], stdout=subprocess.PIPE, text=True,
                          timeout=30).stdout
    assert r.stdout == host
    # The host's / is read-only below a tmpfs overlay: writes stay in L1.
    mark = f"/etc/isola-testhost-{os.getpid()}"
    testhost.run(f"echo x > {mark}", check=True)
    assert not os.path.exists(mark)


def test_exchange_dir_is_shared_both_ways(testhost):
    host_file = testhost.path(f"from-host-{os.getpid()}")
    with open(host_file, "w") as f:
        f.write("hello L1\n")
    guest_file = testhost.path(f"from-l1-{os.getpid()}")
    r = testhost.run(f"cat {host_file} && echo hello host > {guest_file}", check=True)
    assert r.stdout == "hello L1\n"
    with open(guest_file) as f:
        assert f.read() == "hello host\n"
    os.unlink(host_file)
    os.unlink(guest_file)


def test_nested_stock_kernel_under_qemu_kvm(testhost):
    """Real KVM: Debian's kernel boots as an L2 guest of QEMU -accel kvm in L1."""
    initrd = th_mod.mkguest_initrd(
        testhost.path(f"l2-{os.getpid()}.cpio"),
        command='echo "L2 up: $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"')
    argv = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-smp", "2", "-m", "256",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-serial", "stdio", "-kernel", os.path.join(testhost.kdir, "vmlinuz"),
            "-initrd", initrd, "-append", "console=ttyS0 quiet mitigations=off noxsave panic=-1"]
    r = testhost.run(argv, timeout=180)
    os.unlink(initrd)
    assert r.returncode == 0, r
    kver = os.path.basename(testhost.kdir)
    assert f"L2 up: {kver} cpus=2" in r.stdout, r
    assert "isola-init: exit 0" in r.stdout, r


def test_c_unit_test_binary_runs(testhost):
    """A C unit test of the build directory runs in L1 and reports TAP."""
    exe = os.path.join(BUILD, "tests", "test-fs")
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} is not built (run scripts/build.sh)")
    r = testhost.run([exe], timeout=120)
    assert r.returncode == 0, r
    assert re.search(r"^1\.\.\d+$", r.stdout, re.M), r
    assert "not ok" not in r.stdout, r


def test_devices_for_nested_guests(testhost):
    """What a monitor in L1 needs: tun, vhost, a bridge and a tap it creates."""
    br, tap = f"thbr{os.getpid() % 100000}", f"thtap{os.getpid() % 100000}"
    r = testhost.run(f"ls /dev/net/tun /dev/vhost-net /dev/vhost-vsock && "
                     f"ip link add {br} type bridge && ip tuntap add {tap} mode tap && "
                     f"ip link set {tap} master {br} && ip link set {br} up && "
                     f"ip -o link show {tap}; rc=$?; "
                     f"ip link del {tap} 2>/dev/null; ip link del {br} 2>/dev/null; exit $rc")
    assert r.returncode == 0, r
    assert f"master {br}" in r.stdout
    # Any module of the prepared kernel loads on demand.
    r = testhost.run("modprobe virtio_console && grep -c ^virtio_console /proc/modules")
    assert (r.returncode, r.stdout) == (0, "1\n"), r


def test_mkguest_initrd_contents(tmp_root):
    """The initramfs holds busybox, the modules in dependency order, extra files
    and the init command (checked on this host, no VM needed)."""
    try:
        kdir = th_mod.prepare()
    except th_mod.TestHostUnavailable as e:
        pytest.skip(f"test host unavailable: {e}")
    extra = os.path.join(tmp_root, "extra.txt")
    with open(extra, "w") as f:
        f.write("payload\n")
    out = th_mod.mkguest_initrd(os.path.join(tmp_root, "g.cpio"), kdir=kdir,
                                modules="kvm-amd,ext4", files=[f"{extra}:/etc/extra.txt"],
                                command="echo hi")
    d = os.path.join(tmp_root, "x")
    os.mkdir(d)
    with open(out, "rb") as f:
        subprocess.run(["cpio", "-id", "--quiet"], stdin=f, cwd=d, check=True, timeout=60)
    with open(os.path.join(d, "etc", "modules.load")) as f:
        order = f.read().split()
    for before, after in [("irqbypass.ko", "kvm.ko"), ("kvm.ko", "kvm-amd.ko"),
                          ("ccp.ko", "kvm-amd.ko"), ("jbd2.ko", "ext4.ko"),
                          ("mbcache.ko", "ext4.ko")]:
        assert order.index(before) < order.index(after), order
    assert len(order) == len(set(order))
    for m in order:
        assert os.path.isfile(os.path.join(d, "lib", "modules", m))
    assert os.access(os.path.join(d, "init"), os.X_OK)
    assert os.access(os.path.join(d, "bin", "busybox"), os.X_OK)
    with open(os.path.join(d, "etc", "extra.txt")) as f:
        assert f.read() == "payload\n"
    with open(os.path.join(d, "etc", "init.cmd")) as f:
        assert f.read() == "echo hi\n"


def test_missing_qemu_is_reported_as_unavailable(monkeypatch):
    """Without qemu the fixture skips with the reason instead of failing."""
    real = th_mod.shutil.which
    monkeypatch.setattr(th_mod.shutil, "which",
                        lambda name: None if name == "qemu-system-x86_64" else real(name))
    with pytest.raises(th_mod.TestHostUnavailable, match="qemu-system-x86_64 not found"):
        th_mod.prepare()


def test_host_files_created_after_boot_are_visible(testhost, tmp_root):
    """A test's private directory on the host, made after L1 booted, is seen
    (read-only view: writes there stay in L1's overlay)."""
    path = os.path.join(tmp_root, "data.txt")
    with open(path, "w") as f:
        f.write("one\n")
    assert testhost.run(["cat", path], check=True).stdout == "one\n"
    with open(path, "w") as f:
        f.write("two\n")
    assert testhost.run(["cat", path], check=True).stdout == "two\n"
    testhost.run(f"echo from-l1 > {tmp_root}/l1.txt", check=True)
    assert not os.path.exists(os.path.join(tmp_root, "l1.txt"))


def test_frozen_l1_is_restarted_and_the_command_run_again(tmp_root):
    """A freeze (here: a fake soft-lockup report on L1's console, then L1 crashing
    outright) gives a fresh L1 that runs the command once more, with a warning;
    paths in the exchange directory stay valid across the restart."""
    th = th_mod.TestHost(log=os.path.join(tmp_root, "console.log"))
    try:
        th.start()
    except th_mod.TestHostUnavailable as e:
        pytest.skip(f"test host unavailable: {e}")
    try:
        mark = th.path("froze-once")
        lockup = ("echo 'watchdog: BUG: soft lockup - CPU#0 stuck for 120s! [fake:1]' "
                  ">/dev/console")
        with pytest.warns(UserWarning, match="L1 froze"):
            r = th.run(f"if [ ! -e {mark} ]; then touch {mark}; {lockup}; sleep 300; fi; "
                       "echo second-try", timeout=400)
        assert (r.returncode, r.stdout) == (0, "second-try\n"), r
        assert th.freezes == 1 and os.path.exists(f"{th.log}.frozen-1")
        os.unlink(mark)
        with pytest.warns(UserWarning, match="L1 froze"):
            r = th.run(f"if [ ! -e {mark} ]; then touch {mark}; echo c >/proc/sysrq-trigger; "
                       "fi; echo after-crash", timeout=120)
        assert (r.returncode, r.stdout) == (0, "after-crash\n"), r
        assert th.freezes == 2
    finally:
        th.stop()
