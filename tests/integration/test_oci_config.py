"""isola-oci: each config.json feature, observed from inside the container."""
import copy
import os

import pytest


def sh(script):
    return ["sh", "-c", script]


def test_hello_hostname_and_exit_status(oci):
    p, _ = oci.run(sh("echo hello; hostname; exit 3"))
    assert p.returncode == 3, p.stderr
    assert p.stdout == "hello\nisola-test\n"


def test_user_groups_umask_cwd_env(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [5, 6], "umask": 0o27}
    cfg["process"]["cwd"] = "/tmp"
    cfg["process"]["env"].append("FOO=bar")
    p, _ = oci.run(sh("id -u; id -g; id -G; umask; pwd; echo $FOO"), config=cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:6] == ["1000", "1001", "1001 5 6", "0027", "/tmp", "bar"]


def test_capabilities_and_no_new_privs(oci):
    p, _ = oci.run(sh("grep -E '^(CapEff|CapBnd|CapPrm|CapAmb|NoNewPrivs)' /proc/self/status"))
    assert p.returncode == 0, p.stderr
    f = dict(line.split(":\t") for line in p.stdout.splitlines())
    # CAP_KILL(5) | CAP_NET_BIND_SERVICE(10) | CAP_AUDIT_WRITE(29)
    assert int(f["CapEff"], 16) == (1 << 5) | (1 << 10) | (1 << 29)
    assert int(f["CapBnd"], 16) == int(f["CapEff"], 16)
    assert int(f["CapAmb"], 16) == 0
    assert f["NoNewPrivs"] == "1"


def test_rlimits(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
                                 {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    p, _ = oci.run(sh("ulimit -n; ulimit -Hn; ulimit -c"), config=cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["123", "456", "0"]


def test_mounts_tmpfs_bind_ro(oci, tmp_root):
    src = os.path.join(tmp_root, "shared")
    os.makedirs(src)
    with open(os.path.join(src, "file"), "w") as f:
        f.write("from-host\n")
    cfg = copy.deepcopy(oci.config)
    cfg["mounts"] += [
        {"destination": "/data", "type": "bind", "source": src, "options": ["rbind", "ro"]},
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
         "options": ["size=1m", "mode=700", "noexec"]},
    ]
    p, _ = oci.run(sh("cat /data/file; touch /data/x 2>&1; grep -E ' /(data|scratch) ' "
                      "/proc/self/mounts"), config=cfg)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.startswith("from-host\n")
    assert "Read-only file system" in out
    assert " /data " in out and " ro," in out.split(" /data ")[1].split("\n")[0] + " ro,"
    scratch = [line for line in out.splitlines() if " /scratch " in line][0]
    assert "noexec" in scratch and "size=1024k" in scratch and "mode=700" in scratch


def test_mount_destination_symlink_stays_in_rootfs(oci, rootfs, tmp_root):
    # /evil -> /../../../host-target: the tmpfs must land inside the rootfs
    target = os.path.join(tmp_root, "host-target")
    os.makedirs(target)
    os.symlink("/../../../../" + target.lstrip("/"), os.path.join(rootfs, "evil"))
    cfg = copy.deepcopy(oci.config)
    cfg["mounts"].append({"destination": "/evil", "type": "tmpfs", "source": "tmpfs"})
    p, _ = oci.run(sh("touch /evil/marker && echo ok"), config=cfg)
    # Either the mount lands inside the rootfs or it is refused naming the
    # destination; never on the host.
    assert p.returncode == 0 or "/evil" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(target, "marker"))
    assert os.listdir(target) == []


def test_masked_and_readonly_paths_and_readonly_root(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["root"]["readonly"] = True
    p, _ = oci.run(sh("wc -c < /proc/keys; ls /sys/firmware | wc -l; echo; "
                      "echo 1 > /proc/sys/kernel/domainname 2>&1 || echo ro-sys; "
                      "touch /newfile 2>&1 || echo ro-root"), config=cfg)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert lines[0] == "0" and lines[1] == "0"
    assert "ro-sys" in p.stdout and "ro-root" in p.stdout


def test_seccomp_errno(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 1}],
    }
    p, _ = oci.run(sh("mkdir /tmp/x 2>&1; grep ^Seccomp: /proc/self/status"), config=cfg)
    assert "Operation not permitted" in p.stdout, p.stdout + p.stderr
    assert "Seccomp:\t2" in p.stdout


def test_seccomp_without_no_new_privs_is_installed(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["noNewPrivileges"] = False
    cfg["process"]["capabilities"] = None
    cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                               "syscalls": [{"names": ["mkdirat", "mkdir"],
                                             "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    p, _ = oci.run(sh("mkdir /tmp/y 2>&1; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status"),
                   config=cfg)
    assert "Permission denied" in p.stdout, p.stdout + p.stderr
    assert "Seccomp:\t2" in p.stdout and "NoNewPrivs:\t0" in p.stdout


def test_cgroup_memory_limit_and_pids_limit(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["resources"] = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 8}}
    p, cid = oci.run(sh("cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                        "cat /sys/fs/cgroup/pids/pids.max; "
                        "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done 2>&1; "
                        "kill $(jobs -p) 2>/dev/null; exit 0"), config=cfg)
    lines = p.stdout.splitlines()  # the shell may die of the failed fork
    assert lines[0] == str(64 * 1024 * 1024), p.stderr
    assert lines[1] == "8"
    assert "can't fork" in p.stdout or "Resource temporarily unavailable" in p.stdout


def test_sysctl_and_oom_score_adj(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}
    cfg["process"]["oomScoreAdj"] = 321
    p, _ = oci.run(sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni "
                      "/proc/self/oom_score_adj"), config=cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["1", "1234", "321"]


def test_user_namespace_mappings(oci, rootfs):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    # sysfs cannot be mounted in a user namespace without its own netns owner
    p, _ = oci.run(sh("cat /proc/self/uid_map; id -u"), config=cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[:3] == ["0", "0", "65536"]


def test_time_namespace_offsets(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["namespaces"].append({"type": "time"})
    cfg["linux"]["timeOffsets"] = {"boottime": {"secs": 86400 * 365, "nanosecs": 0}}
    p, _ = oci.run(sh("cut -d. -f1 /proc/uptime"), config=cfg)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) > 86400 * 365


def test_join_namespace_by_path(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "uts"]
    cfg["linux"]["namespaces"].append({"type": "uts", "path": "/proc/self/ns/uts"})
    del cfg["hostname"]
    p, _ = oci.run(sh("hostname"), config=cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == os.uname().nodename


def test_hooks_receive_state(oci, tmp_root):
    log = os.path.join(tmp_root, "hooks.log")
    cfg = copy.deepcopy(oci.config)
    hook = lambda name: {"path": "/bin/sh",  # noqa: E731
                         "args": ["sh", "-c", f"cat >> {log}; echo ' {name}' >> {log}"]}
    cfg["hooks"] = {k: [hook(k)] for k in ("prestart", "createRuntime", "poststart",
                                          "poststop")}
    p, cid = oci.run(sh("true"), config=cfg)
    assert p.returncode == 0, p.stderr
    text = open(log).read()
    for k in ("prestart", "createRuntime", "poststart", "poststop"):
        assert f" {k}\n" in text
    assert f'"id":"{cid}"' in text


def test_cgroup_mount_without_cgroup_namespace_shows_own_cgroup(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]
    cfg["linux"]["resources"] = {"pids": {"limit": 42}}
    p, _ = oci.run(sh("cat /sys/fs/cgroup/pids/pids.max"), config=cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "42"


def test_tmpcopyup(oci, rootfs):
    os.makedirs(os.path.join(rootfs, "seed"))
    with open(os.path.join(rootfs, "seed", "f"), "w") as f:
        f.write("seeded\n")
    cfg = copy.deepcopy(oci.config)
    cfg["mounts"].append({"destination": "/seed", "type": "tmpfs", "source": "tmpfs",
                          "options": ["tmpcopyup", "ro"]})
    p, _ = oci.run(sh("cat /seed/f; touch /seed/g 2>&1; grep ' /seed ' /proc/self/mounts"),
                   config=cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("seeded\n") and "Read-only" in p.stdout and "tmpfs" in p.stdout


def test_host_pid_namespace_reexecs_sealed(oci):
    # Sharing the host's pid namespace: the runtime re-executes itself from a
    # sealed memfd first (CVE-2019-5736), so the init's exe is not the binary.
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]
    cfg["process"]["args"] = ["sh", "-c", "echo $$"]
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.detached("create", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr
    pid = oci.state(cid)["pid"]
    exe = os.readlink(f"/proc/{pid}/exe")
    assert exe.startswith("/memfd:isola-oci"), exe


def test_exec_refused_before_start(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["process"]["args"] = ["sleep", "100"]
    oci.write(cfg)
    cid = oci.new_id()
    assert oci.detached("create", "--bundle", oci.bundle, cid).returncode == 0
    p = oci.cmd("exec", cid, "true")
    assert p.returncode != 0 and "start it first" in p.stderr


def test_personality_iopriority_scheduler(oci):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["personality"] = {"domain": "LINUX32"}
    cfg["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    cfg["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    # /proc/PID/stat: field 19 is nice, field 41 the policy (SCHED_BATCH = 3)
    p, _ = oci.run(sh("uname -m; ionice -p $$; cut -d' ' -f19,41 /proc/self/stat"), config=cfg)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.splitlines()[0] in ("i686", "i386")
    assert "best-effort" in out and "prio 6" in out
    assert out.splitlines()[-1].split() == ["7", "3"]


def test_no_new_keyring_and_new_session_keyring(oci):
    p, _ = oci.run(sh("cat /proc/self/status | grep -c ."))  # runs with a new keyring
    assert p.returncode == 0, p.stderr
    cfg = copy.deepcopy(oci.config)
    oci.write(cfg)
    cid = oci.new_id()
    p = oci.cmd("run", "--no-new-keyring", "--bundle", oci.bundle, cid)
    assert p.returncode == 0, p.stderr


def test_seccomp_notify_sends_fd_and_state_to_listener(oci, tmp_root):
    import array
    import json
    import socket
    import threading
    path = os.path.join(tmp_root, "listener.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)
    got = {}

    def serve():
        conn, _ = srv.accept()
        with conn:
            msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_LEN(4))
            got["msg"] = json.loads(msg)
            for level, typ, data in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    fd = array.array("i", data[:4])[0]
                    got["fd"] = fd
                    os.close(fd)  # no supervisor: notifying syscalls get ENOSYS

    t = threading.Thread(target=serve)
    t.start()
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": path,
                               "listenerMetadata": "meta",
                               "syscalls": [{"names": ["mkdir", "mkdirat"],
                                             "action": "SCMP_ACT_NOTIFY"}]}
    try:
        p, cid = oci.run(sh("mkdir /tmp/z 2>&1; echo done"), config=cfg)
    finally:
        t.join(timeout=30)
        srv.close()
    assert p.returncode == 0, p.stderr
    assert "Function not implemented" in p.stdout
    assert got["msg"]["fds"] == ["seccompFd"] and got["msg"]["metadata"] == "meta"
    assert got["msg"]["state"]["id"] == cid and got["msg"]["pid"] > 0


def test_user_namespace_shifted_mapping(oci, tmp_root):
    os.chmod(tmp_root, 0o755)  # the mapped root (host uid 100000) must reach the rootfs
    cfg = copy.deepcopy(oci.config)
    cfg["mounts"] = [m for m in cfg["mounts"] if m["type"] != "cgroup"]  # v1: not in a userns
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    p, cid = oci.run(sh("id -u; cat /proc/self/uid_map; echo x > /dev/null && echo dev-ok"),
                     config=cfg)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n")
    assert lines[0] == "0" and lines[1].split() == ["0", "100000", "65536"]
    assert "dev-ok" in p.stdout
