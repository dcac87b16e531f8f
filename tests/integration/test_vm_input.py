"""Bad input to `isola vm run`: each is refused before a VM exists, with a message
naming the object (these need no KVM)."""
import os

from conftest import binary, run


def guest():
    return os.path.join(os.environ.get("ISOLA_BUILD", os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build")),
        "tests", "guests", "vm-guest")


def test_missing_kernel(isola, tmp_root):
    path = os.path.join(tmp_root, "no-such-kernel")
    p = run([isola, "vm", "run", "--kernel", path])
    assert p.returncode == 1
    assert path in p.stderr and "No such file" in p.stderr


def test_non_kernel_file(isola, tmp_root):
    path = os.path.join(tmp_root, "notes.txt")
    with open(path, "w") as f:
        f.write("not a kernel\n" * 100)
    p = run([isola, "vm", "run", "--kernel", path])
    assert p.returncode == 1
    assert path in p.stderr and "not a Linux kernel" in p.stderr


def test_zero_cpus(isola):
    p = run([isola, "vm", "run", "--kernel", guest(), "--cpus", "0"])
    assert p.returncode == 1
    assert "at least 1 vCPU" in p.stderr


def test_memory_beyond_host(isola):
    p = run([isola, "vm", "run", "--kernel", guest(), "--memory", "100000G"])
    assert p.returncode == 1
    assert "more than this host's" in p.stderr


def test_missing_initrd(isola, tmp_root):
    path = os.path.join(tmp_root, "no-initrd")
    p = run([isola, "vm", "run", "--kernel", guest(), "--initrd", path])
    assert p.returncode == 1
    assert path in p.stderr


def test_bad_option_values(isola):
    p = run([isola, "vm", "run", "--kernel", guest(), "--memory", "lots"])
    assert p.returncode == 2 and "lots" in p.stderr
    p = run([isola, "vm", "run", "--kernel", guest(), "--disk", "x.img,rx"])
    assert p.returncode == 2 and "rx" in p.stderr
    p = run([isola, "vm", "run", "--kernel", guest(), "--net", "bridge=br0"])
    assert p.returncode == 2 and "bridge=br0" in p.stderr


def test_no_kvm_device_is_named(isola):
    env = dict(os.environ, ISOLA_KVM_DEV="/nonexistent/kvm-%d" % os.getpid())
    p = run([isola, "vm", "run", "--kernel", guest()], env=env)
    assert p.returncode == 1
    assert "/nonexistent/kvm-" in p.stderr


def test_extract_kernel_rejects_non_bzimage(isola, tmp_root):
    out = os.path.join(tmp_root, "vmlinux")
    p = run([isola, "vm", "extract-kernel", guest(), out])
    assert p.returncode == 1
    assert "not a bzImage" in p.stderr
    assert not os.path.exists(out)


def test_vmm_version_and_usage():
    vmm = binary("isola-vmm")
    p = run([vmm, "--version"])
    assert p.returncode == 0 and p.stdout.startswith("isola-vmm version "), p
    p = run([vmm])
    assert p.returncode == 2 and "Usage:" in p.stderr, p
    p = run([vmm, "run", "--kernel", "/nonexistent-kernel"])
    assert p.returncode == 1 and "/nonexistent-kernel" in p.stderr, p
