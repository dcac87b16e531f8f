"""The test host (L1) itself: it boots, its /dev/kvm is real hardware
virtualization, its cgroups are pure v2, the host's tree and build directory run
in it, and a stock Debian kernel boots nested under QEMU with -accel kvm."""
import os
import re
import subprocess

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
