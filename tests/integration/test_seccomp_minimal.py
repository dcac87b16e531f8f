"""Minimal seccomp profiles (defaultAction ERRNO, a short allow list) run with
isola-oci as with runc and crun (issue 11, "Blocking": close_range after seccomp).

Without noNewPrivileges the filter is installed while the init still has
CAP_SYS_ADMIN, before the user switch (runc's order), so what the runtime does
after it must be in the profile. isola-oci used close_range(2) there, which
older Docker profiles and minimal ones do not allow: it died with
"close_range: Operation not permitted" where runc and crun run the container.
Now the fds are marked close-on-exec before the filter is loaded.
"""
import copy
import os

import pytest

from oci_peer_run import PeerRuntime

# What `busybox echo` itself calls (strace of the static busybox of the fixture).
PROGRAM = ["execve", "arch_prctl", "brk", "exit_group", "getrandom", "getuid", "mprotect",
           "prctl", "prlimit64", "readlink", "rseq", "set_robust_list", "set_tid_address",
           "write"]
# What runc 1.1 (Go) needs after the filter with noNewPrivileges: its runtime's
# threads, signals and the exec.fifo; found by removing names until it failed.
RUNC_NNP = ["rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "sigaltstack", "futex", "mmap",
            "munmap", "madvise", "nanosleep", "sched_yield", "gettid", "tgkill", "getpid",
            "epoll_ctl", "epoll_pwait", "epoll_create1", "fcntl", "close", "openat", "read",
            "exit", "fstatfs", "fstat", "newfstatat", "getdents64"]
# ... and without it (user switch, capabilities, cwd checks after the filter).
RUNC_NO_NNP = RUNC_NNP + ["setgroups", "setresgid", "setresuid", "capget", "capset", "setuid",
                          "setgid", "getgid", "geteuid", "getegid", "getgroups", "setfsuid",
                          "setfsgid", "rt_sigqueueinfo", "tkill", "kill", "getppid", "chdir",
                          "fchdir", "umask", "getcwd", "faccessat", "faccessat2"]
assert "close_range" not in RUNC_NO_NNP


def config(oci, allow, nnp):
    cfg = copy.deepcopy(oci.config)
    cfg["ociVersion"] = "1.0.2"  # crun 1.8.1 refuses 1.2.0
    cfg["root"]["path"] = os.path.realpath(os.path.join(oci.bundle, "rootfs"))  # runc: no symlink
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]
    cfg["process"]["args"] = ["/bin/busybox", "echo", "seccomp-ok"]
    cfg["process"]["noNewPrivileges"] = nnp
    # installing a filter without no_new_privs needs CAP_SYS_ADMIN
    for s in ("bounding", "effective", "permitted"):
        cfg["process"]["capabilities"][s] = cfg["process"]["capabilities"][s] + ["CAP_SYS_ADMIN"]
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": allow, "action": "SCMP_ACT_ALLOW"}],
    }
    return cfg


def run_all(oci, tmp_root, cfg):
    """isola-oci and the peers on one bundle: {runtime: (rc, stdout, stderr)}."""
    oci.write(cfg)
    out = {}
    p = oci.cmd("run", "--bundle", oci.bundle, oci.new_id(), timeout=30)
    out["isola-oci"] = (p.returncode, p.stdout, p.stderr)
    for name in ("runc", "crun"):
        peer = PeerRuntime(name, os.path.join(tmp_root, f"state-{name}"))
        try:
            q = peer.run(oci.bundle, f"{oci.prefix}-{name}-{len(peer.ids)}", timeout=30)
            out[name] = (q.returncode, q.stdout, q.stderr)
        finally:
            peer.cleanup()
    return out


@pytest.mark.parametrize("nnp", [False, True], ids=["no-nnp", "nnp"])
def test_runc_minimal_profile_runs(oci, tmp_root, nnp):
    """The smallest list runc runs with (no close_range in it): isola-oci runs it."""
    out = run_all(oci, tmp_root, config(oci, PROGRAM + (RUNC_NNP if nnp else RUNC_NO_NNP), nnp))
    for name in ("runc", "crun"):
        assert out[name][:2] == (0, "seccomp-ok\n"), f"{name} (the reference): {out[name]}"
    assert out["isola-oci"][:2] == (0, "seccomp-ok\n"), out["isola-oci"]


def test_program_only_profile_with_nnp(oci):
    """With noNewPrivileges, isola-oci needs nothing after the filter but execve:
    a profile of just the program's own syscalls runs (runc's Go runtime needs
    its RUNC_NNP list on top)."""
    p, _ = oci.run(config=config(oci, PROGRAM, True), timeout=30)
    assert (p.returncode, p.stdout) == (0, "seccomp-ok\n"), p.stderr


def test_refused_syscall_is_refused(oci):
    """The profile is in force: what it does not allow fails with EPERM."""
    cfg = config(oci, PROGRAM, True)
    cfg["process"]["args"] = ["/bin/busybox", "mkdir", "/tmp/x"]
    p, _ = oci.run(config=cfg, timeout=30)
    assert p.returncode != 0
    assert "Operation not permitted" in p.stderr


def test_exec_under_profile_without_close_range(oci, tmp_root):
    """`exec` into a container whose profile lacks close_range (no
    noNewPrivileges): the exec'd process gets the filter before the user
    switch, as the init does; runc runs the same exec."""
    cfg = config(oci, PROGRAM + RUNC_NO_NNP + ["clock_nanosleep", "nanosleep"], False)
    cfg["process"]["args"] = ["/bin/busybox", "sleep", "600"]
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.detached("run", "--detach", "--bundle", oci.bundle, cid, timeout=30)
    assert p.returncode == 0, p.stderr
    p = oci.cmd("exec", cid, "/bin/busybox", "echo", "exec-ok", timeout=30)
    assert (p.returncode, p.stdout) == (0, "exec-ok\n"), p.stderr

    peer = PeerRuntime("runc", os.path.join(tmp_root, "state-runc"))
    try:
        rid = f"{cid}-runc"
        peer.ids.append(rid)
        q = peer.detached("run", "--detach", "--bundle", oci.bundle, rid, timeout=30)
        assert q.returncode == 0, q.stderr
        q = peer.cmd("exec", rid, "/bin/busybox", "echo", "exec-ok", timeout=30)
        assert (q.returncode, q.stdout) == (0, "exec-ok\n"), f"runc (the reference): {q.stderr}"
    finally:
        peer.cleanup()
