"""isola-oci, process and environment (issue 11): HOME, socket activation, a
created cwd, stdio owned by the process user, hooks' environment and output,
process.scheduler, linux.memoryPolicy and crun's run.oci.* annotations.
Each bundle also runs with runc and crun where they are installed, and every
runtime must give what the test expects (the expectations name where a peer
differs; docs/oci-runtime.md lists those differences)."""
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import binary

RUNTIMES = ["isola-oci", "runc", "crun"]


def sh(script):
    return ["sh", "-c", script]


class Runtime:
    """One runtime on one bundle with a private --root under the test's root.

    crun 1.8.1 refuses this host's hybrid cgroup layout: it runs in a private
    mount namespace without the (empty) v2 tree, as bench/oci-run.sh does. The
    configs have no cgroup namespace (crun needs the v2 tree for it) and
    ociVersion 1.0.2 (crun 1.8.1 rejects 1.2.0); runc wants a root.path that is
    not a symlink."""

    def __init__(self, name, oci, tmp_root, rootfs):
        if name == "isola-oci":
            self.argv = [binary("isola-oci")]
        elif shutil.which(name) is None:
            pytest.skip(f"{name} is not installed: no side-by-side comparison")
        elif name == "runc":
            self.argv = ["runc"]
        else:
            self.argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                         'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"', "sh"]
        self.name = name
        self.root = os.path.join(tmp_root, "state-" + name)
        self.bundle = oci.bundle
        self.rootfs = os.path.realpath(rootfs)
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", oci.prefix) + "-" + name
        self.n = 0
        self.ids = []
        self.config = copy.deepcopy(oci.config)
        self.config["ociVersion"] = "1.0.2"
        self.config["root"]["path"] = self.rootfs
        self.config["linux"]["namespaces"] = [
            n for n in self.config["linux"]["namespaces"] if n["type"] != "cgroup"]
        self.config["mounts"] = [m for m in self.config["mounts"] if m["type"] != "cgroup"]

    def run(self, config, args=(), env=None, fds=None, stdout=subprocess.PIPE,
            listen_pid_self=False, glob=(), groups=None, timeout=60):
        """`run` of config; returns the CompletedProcess (text). fds: {N: path}
        opened read-only as fd N for the runtime; with listen_pid_self the
        runtime gets LISTEN_PID=its own pid."""
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(config, f)
        self.n += 1
        cid = f"{self.prefix}-{self.n}"
        self.ids.append(cid)
        argv = [*self.argv, "--root", self.root, *glob, "run", *args, "--bundle", self.bundle, cid]
        if fds or listen_pid_self:
            script = "".join(f"exec {n}<'{path}'; " for n, path in (fds or {}).items())
            if listen_pid_self:
                script += "LISTEN_PID=$$; export LISTEN_PID; "
            argv = ["sh", "-c", script + 'exec "$@"', "sh", *argv]
        err = tempfile.TemporaryFile(mode="w+")
        with err:
            p = subprocess.run(argv, stdout=stdout, stderr=err, stdin=subprocess.DEVNULL,
                               text=True, timeout=timeout, env=env, extra_groups=groups)
            err.seek(0)
            p.stderr = err.read()
        return p

    def cmd(self, *args, timeout=60):
        return subprocess.run([*self.argv, "--root", self.root, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                              timeout=timeout)

    def cleanup(self):
        for cid in self.ids:
            subprocess.run([*self.argv, "--root", self.root, "delete", "--force", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


@pytest.fixture(params=RUNTIMES)
def rt(request, oci, tmp_root, rootfs):
    r = Runtime(request.param, oci, tmp_root, rootfs)
    try:
        yield r
    finally:
        r.cleanup()


def proc(rt, args, **kw):
    cfg = copy.deepcopy(rt.config)
    cfg["process"]["args"] = args
    cfg["process"].update(kw)
    return cfg


# ---- HOME ----

@pytest.mark.parametrize("uid,env_home,want", [
    (0, None, "/root"),          # root:x:0:0:root:/root:/bin/sh in the rootfs's passwd
    (1, None, "/usr/sbin"),      # daemon
    (1000, None, "/"),           # no passwd entry
    (1000, "/given", "/given"),  # process.env wins
])
def test_home_from_the_containers_passwd(rt, uid, env_home, want):
    env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + ([f"HOME={env_home}"] if env_home else [])
    p = rt.run(proc(rt, sh("echo HOME=${HOME-unset}"), env=env, user={"uid": uid, "gid": uid}))
    assert p.returncode == 0, p.stderr
    if rt.name == "crun" and uid == 1000 and env_home is None:
        want = "unset"  # crun 1.8.1 leaves HOME unset for a user without an entry
    assert p.stdout == f"HOME={want}\n"


def test_home_passwd_is_read_inside_the_root(rt, rootfs, tmp_root):
    # /etc/passwd a symlink to an absolute path: resolved in the container's
    # root, never the host's /etc/passwd (whose uid 1 is not at /usr/sbin here)
    etc = os.path.join(rootfs, "etc")
    os.makedirs(os.path.join(rootfs, "alt"))
    os.rename(os.path.join(etc, "passwd"), os.path.join(rootfs, "alt", "passwd"))
    with open(os.path.join(rootfs, "alt", "passwd"), "a") as f:
        f.write("svc:x:4242:4242::/srv/svc:/bin/sh\n")
    os.symlink("/alt/passwd", os.path.join(etc, "passwd"))
    p = rt.run(proc(rt, sh("echo HOME=$HOME"), env=["PATH=/bin"], user={"uid": 4242, "gid": 0}))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "HOME=/srv/svc\n"


def test_exec_home_and_stdio(rt, tmp_root):
    out = os.path.join(tmp_root, "detached-out")
    with open(out, "w") as f:
        p = rt.run(proc(rt, ["sleep", "60"], env=["PATH=/bin"]), args=("--detach",), stdout=f)
    assert p.returncode == 0, p.stderr
    cid = rt.ids[-1]
    e = rt.cmd("exec", "--user", "1:1", cid, "sh", "-c",
               "echo HOME=$HOME; echo hi > /proc/self/fd/1 && echo reopened")
    assert e.returncode == 0, e.stderr
    assert e.stdout == "HOME=/usr/sbin\nhi\nreopened\n"


def test_home_with_a_fifo_as_passwd_does_not_block(oci, rootfs):
    # an image's /etc/passwd is not trusted: a FIFO would block a plain open
    os.unlink(os.path.join(rootfs, "etc", "passwd"))
    os.mkfifo(os.path.join(rootfs, "etc", "passwd"))
    p, _ = oci.run(sh("echo HOME=$HOME"), config={
        **oci.config, "process": {**oci.config["process"], "env": ["PATH=/bin"]}}, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "HOME=/\n"


# ---- socket activation ----

def _marker(tmp_root, name, text):
    path = os.path.join(tmp_root, name)
    with open(path, "w") as f:
        f.write(text)
    return path


LISTEN_SCRIPT = ("env | grep ^LISTEN_ | sort; echo pid=$$; "
                 "[ -e /proc/$$/fd/3 ] && cat /proc/$$/fd/3; true")


@pytest.mark.parametrize("pidns", [True, False])
def test_listen_fds_for_the_runtime_reach_the_process(rt, tmp_root, pidns):
    cfg = proc(rt, sh(LISTEN_SCRIPT), env=["PATH=/bin"])
    if not pidns:
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]
    env = dict(os.environ, LISTEN_FDS="1")
    p = rt.run(cfg, env=env, fds={3: _marker(tmp_root, "l3", "listen-fd-3\n")},
               listen_pid_self=True)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    pid = lines[-2].split("=")[1]
    assert lines[-1] == "listen-fd-3"
    if rt.name == "crun":
        # crun 1.8.1 sets LISTEN_PID=1 (and no LISTEN_FDS) whatever the pid
        assert lines[:-2] == ["LISTEN_PID=1"]
    elif rt.name == "runc":
        # runc 1.1.5 always says 1, right only in a new pid namespace
        assert lines[:-2] == ["LISTEN_FDS=1", "LISTEN_PID=1"]
    else:
        # sd_listen_fds(3): the pid of the process that has the fds
        assert lines[:-2] == ["LISTEN_FDS=1", f"LISTEN_PID={pid}"]
    assert (pid == "1") == pidns


def test_listen_fds_meant_for_another_process_are_not_passed(rt, tmp_root):
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID="1")
    p = rt.run(proc(rt, sh(LISTEN_SCRIPT), env=["PATH=/bin"]), env=env,
               fds={3: _marker(tmp_root, "l3", "listen-fd-3\n")})
    assert p.returncode == 0, p.stderr
    if rt.name == "crun":
        # crun does not look at LISTEN_PID: it passes the fd
        assert p.stdout.splitlines() == ["LISTEN_PID=1", "pid=1", "listen-fd-3"]
    else:
        assert p.stdout.splitlines() == ["pid=1"]


def test_listen_fds_come_before_preserved_fds(rt, tmp_root):
    env = dict(os.environ, LISTEN_FDS="1")
    p = rt.run(proc(rt, sh("cat /proc/$$/fd/3 /proc/$$/fd/4"), env=["PATH=/bin"]),
               args=("--preserve-fds", "1"), env=env, listen_pid_self=True,
               fds={3: _marker(tmp_root, "l3", "listen-fd-3\n"),
                    4: _marker(tmp_root, "p4", "preserved-fd-4\n")})
    assert p.returncode == 0, p.stderr
    assert p.stdout == "listen-fd-3\npreserved-fd-4\n"


# ---- cwd ----

def test_missing_cwd_is_created_owned_by_root(rt, rootfs):
    p = rt.run(proc(rt, sh("pwd; stat -c '%u:%g %a' /new /new/dir"), env=["PATH=/bin"],
                    user={"uid": 1000, "gid": 1000}, cwd="/new/dir"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "/new/dir\n0:0 755\n0:0 755\n"
    assert os.path.isdir(os.path.join(rootfs, "new", "dir"))


def test_cwd_is_created_inside_the_root(rt, rootfs, tmp_root):
    # /up -> ../../.. would leave the rootfs if resolved on the host
    os.symlink("../../..", os.path.join(rootfs, "up"))
    p = rt.run(proc(rt, sh("pwd"), env=["PATH=/bin"], cwd="/up/made-by-cwd"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "/made-by-cwd\n"
    assert os.path.isdir(os.path.join(rootfs, "made-by-cwd"))
    assert not os.path.exists(os.path.join(os.path.dirname(rootfs), "made-by-cwd"))
    assert not os.path.exists("/made-by-cwd")


def test_cwd_through_a_dangling_symlink_is_an_error(rt, rootfs, tmp_root):
    outside = os.path.join(tmp_root, "outside")
    os.symlink(outside, os.path.join(rootfs, "lnk"))
    p = rt.run(proc(rt, sh("pwd"), env=["PATH=/bin"], cwd="/lnk/sub"))
    assert p.returncode != 0
    assert "lnk" in p.stderr
    assert not os.path.exists(outside)


# ---- stdio ----

def test_non_root_process_can_reopen_a_stdout_pipe(rt):
    p = rt.run(proc(rt, sh("echo hi > /proc/self/fd/1 && echo reopened"), env=["PATH=/bin"],
                    user={"uid": 1000, "gid": 1000}))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hi\nreopened\n"


def test_user_namespace_process_can_reopen_stdout(rt, rootfs, tmp_root):
    # the pipe's owner must be the host uid the container user maps to, which
    # only the runtime (outside the namespace) can set
    os.chmod(tmp_root, 0o755)  # the mapped root walks to the rootfs
    subprocess.run(["chown", "-R", "100000:100000", rootfs], check=True, timeout=60)
    cfg = proc(rt, sh("echo HOME=$HOME; echo hi > /proc/self/fd/1 && echo reopened"),
               env=["PATH=/bin"], user={"uid": 1, "gid": 1})
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    p = rt.run(cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "HOME=/usr/sbin\nhi\nreopened\n"


def test_non_root_process_can_reopen_a_stdout_file(rt, tmp_root):
    out = os.path.join(tmp_root, "stdout-" + rt.name)
    with open(out, "a") as f:  # O_APPEND: both opens write at the end
        p = rt.run(proc(rt, sh("echo hi >> /proc/self/fd/1 && echo reopened"),
                        env=["PATH=/bin"], user={"uid": 1000, "gid": 1000}), stdout=f)
    assert p.returncode == 0, p.stderr
    with open(out) as f:
        assert f.read() == "hi\nreopened\n"
    if rt.name != "runc":  # runc relays through a pipe of its own
        assert os.stat(out).st_uid == 1000  # crun's behaviour: the file is the user's


# ---- hooks ----

def _hook(tmp_root, name, body):
    path = os.path.join(tmp_root, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


def test_hook_environment_and_cwd(rt, tmp_root):
    out = os.path.join(tmp_root, "hookenv")
    # what is exported (sh has a PATH of its own when none is)
    hook = _hook(tmp_root, "hook.sh",
                 f'echo "$1 cwd=$(pwd)" $(env | grep -E "^(CALLER|FOO|PATH)=" | sort) >> {out}\n')
    cfg = proc(rt, sh("true"), env=["PATH=/bin"])
    cfg["hooks"] = {
        # no env: the runtime's own environment
        "prestart": [{"path": hook, "args": ["hook.sh", "inherit"]}],
        # env: exactly that, no PATH added
        "poststop": [{"path": hook, "args": ["hook.sh", "given"], "env": ["FOO=bar"]}],
    }
    env = {"CALLER": "yes", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    p = rt.run(cfg, env=env)
    assert p.returncode == 0, p.stderr
    with open(out) as f:
        got = f.read().splitlines()
    b = rt.bundle
    assert got == [f"inherit cwd={b} CALLER=yes PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                   f"given cwd={b} FOO=bar"]


def test_hook_output_is_not_the_containers(rt, tmp_root):
    hook = _hook(tmp_root, "noisy.sh", "echo hook-stdout; echo hook-stderr >&2\n")
    cfg = proc(rt, sh("echo container-stdout"), env=["PATH=/bin"])
    cfg["hooks"] = {k: [{"path": hook}] for k in ("prestart", "createRuntime", "poststart",
                                                    "poststop")}
    p = rt.run(cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "container-stdout\n"
    assert "hook-std" not in p.stderr


def test_failing_hook_error_shows_its_output(rt, tmp_root):
    hook = _hook(tmp_root, "fail.sh", "echo out-text; echo err-text >&2; exit 3\n")
    cfg = proc(rt, sh("echo container-stdout"), env=["PATH=/bin"])
    cfg["hooks"] = {"prestart": [{"path": hook}]}
    p = rt.run(cfg)
    assert p.returncode != 0
    assert "container-stdout" not in p.stdout
    if rt.name == "crun":
        assert "exit code: 3" in p.stderr  # crun names the status, not the output
    else:
        assert "out-text" in p.stderr and "err-text" in p.stderr, p.stderr


def test_hooks_stdout_stderr_annotations(rt, tmp_root):
    if rt.name == "runc":
        pytest.skip("run.oci.hooks.* are crun annotations; runc ignores them")
    hook = _hook(tmp_root, "noisy.sh", 'echo "out $1"; echo "err $1" >&2\n')
    hout, herr = os.path.join(tmp_root, "hooks.out"), os.path.join(tmp_root, "hooks.err")
    with open(hout, "w") as f:
        f.write("kept\n")  # appended to, not truncated
    cfg = proc(rt, sh("true"), env=["PATH=/bin"])
    cfg["hooks"] = {"prestart": [{"path": hook, "args": ["noisy.sh", "a"]}],
                    "poststop": [{"path": hook, "args": ["noisy.sh", "b"]}]}
    cfg["annotations"] = {"run.oci.hooks.stdout": hout, "run.oci.hooks.stderr": herr}
    p = rt.run(cfg)
    assert p.returncode == 0, p.stderr
    with open(hout) as f:
        assert f.read() == "kept\nout a\nout b\n"
    with open(herr) as f:
        assert f.read() == "err a\nerr b\n"


# ---- process.scheduler ----

SCHED = "exec grep -E '^(policy|prio) ' /proc/self/sched"


def _sched(out):
    return {k.strip(): int(v) for k, v in (line.split(":") for line in out.splitlines())}


@pytest.mark.parametrize("sched,want", [
    ({"policy": "SCHED_BATCH", "nice": 5}, {"policy": 3, "prio": 125}),
    ({"policy": "SCHED_IDLE"}, {"policy": 5, "prio": 120}),
    ({"policy": "SCHED_OTHER", "nice": -3}, {"policy": 0, "prio": 117}),
    # a SCHED_DEADLINE task cannot fork: the shell execs
    ({"policy": "SCHED_DEADLINE", "runtime": 10000000, "deadline": 20000000,
      "period": 30000000}, {"policy": 6, "prio": -1}),
])
def test_scheduler(rt, sched, want):
    p = rt.run(proc(rt, sh(SCHED), env=["PATH=/bin"], scheduler=sched))
    assert p.returncode == 0, p.stderr
    if rt.name != "isola-oci":
        want = {"policy": 0, "prio": 120}  # runc 1.1.5 and crun 1.8.1 ignore process.scheduler
    assert _sched(p.stdout) == want


def test_scheduler_fifo_outside_a_cgroup(oci, tmp_root, rootfs):
    rt = Runtime("isola-oci", oci, tmp_root, rootfs)
    try:
        p = rt.run(proc(rt, sh(SCHED), env=["PATH=/bin"],
                        scheduler={"policy": "SCHED_FIFO", "priority": 10,
                                   "flags": ["SCHED_FLAG_RESET_ON_FORK"]}),
                   glob=("--cgroup-manager", "disabled"))
    finally:
        rt.cleanup()
    assert p.returncode == 0, p.stderr
    assert _sched(p.stdout) == {"policy": 1, "prio": 89}  # 99 - priority


def test_scheduler_fifo_with_realtime_runtime_in_the_cgroup(oci, tmp_root, rootfs):
    rt = Runtime("isola-oci", oci, tmp_root, rootfs)
    cfg = proc(rt, sh(SCHED), env=["PATH=/bin"], scheduler={"policy": "SCHED_RR", "priority": 5})
    cfg["linux"]["resources"] = {"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}}
    try:
        p = rt.run(cfg)
    finally:
        rt.cleanup()
    assert p.returncode == 0, p.stderr
    assert _sched(p.stdout) == {"policy": 2, "prio": 94}


def test_scheduler_fifo_refused_says_why(oci, tmp_root, rootfs):
    if not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        pytest.skip("no RT group scheduling here: SCHED_FIFO is not refused in a cgroup")
    rt = Runtime("isola-oci", oci, tmp_root, rootfs)
    try:
        p = rt.run(proc(rt, sh(SCHED), env=["PATH=/bin"],
                        scheduler={"policy": "SCHED_FIFO", "priority": 10}))
    finally:
        rt.cleanup()
    assert p.returncode != 0
    assert "process.scheduler: sched_setattr SCHED_FIFO priority 10" in p.stderr
    assert "cpu.rt_runtime_us" in p.stderr
    assert "linux.resources.cpu.realtimeRuntime" in p.stderr


# ---- linux.memoryPolicy ----

def _need_numa():
    if not os.path.exists("/proc/self/numa_maps"):
        pytest.skip("kernel without NUMA (no /proc/self/numa_maps): set_mempolicy is ENOSYS")


@pytest.mark.parametrize("policy,want", [
    ({"mode": "MPOL_INTERLEAVE", "nodes": "0"}, "interleave:0"),
    ({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}, "bind=static:0"),
    ({"mode": "MPOL_PREFERRED", "nodes": "0"}, "prefer:0"),
    ({"mode": "MPOL_LOCAL"}, "local"),
])
def test_memory_policy(rt, policy, want):
    _need_numa()
    cfg = proc(rt, sh("exec head -1 /proc/self/numa_maps"), env=["PATH=/bin"])
    cfg["linux"]["memoryPolicy"] = policy
    p = rt.run(cfg)
    assert p.returncode == 0, p.stderr
    if rt.name != "isola-oci":
        want = "default"  # runc 1.1.5 and crun 1.8.1 ignore linux.memoryPolicy
    assert p.stdout.split()[1] == want


def test_memory_policy_on_a_node_that_is_not_online(oci, tmp_root, rootfs):
    _need_numa()
    with open("/sys/devices/system/node/online") as f:
        online = f.read().strip()
    rt = Runtime("isola-oci", oci, tmp_root, rootfs)
    try:
        cfg = proc(rt, sh("true"), env=["PATH=/bin"])
        cfg["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "1000"}
        p = rt.run(cfg)
    finally:
        rt.cleanup()
    if p.returncode == 0:
        pytest.skip(f"node 1000 is online here ({online})")
    assert f"linux.memoryPolicy: set_mempolicy MPOL_BIND" in p.stderr
    assert f"the online nodes are {online}" in p.stderr


@pytest.mark.parametrize("policy,msg", [
    ({"mode": "MPOL_BIND"}, "linux.memoryPolicy.nodes: MPOL_BIND needs nodes"),
    ({"mode": "MPOL_LOCAL", "nodes": "0"}, "linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes"),
    ({"mode": "MPOL_NOPE", "nodes": "0"}, "linux.memoryPolicy.mode: unknown mode `MPOL_NOPE`"),
    ({"mode": "MPOL_BIND", "nodes": "0-"}, "linux.memoryPolicy.nodes: `0-` is not a node list"),
    ({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES",
                                                   "MPOL_F_RELATIVE_NODES"]},
     "exclude each other"),
])
def test_memory_policy_errors(oci, policy, msg):
    cfg = copy.deepcopy(oci.config)
    cfg["linux"]["memoryPolicy"] = policy
    p, cid = oci.run(sh("true"), config=cfg)
    assert p.returncode != 0
    assert msg in p.stderr
    assert not oci.leftovers(cid)


# ---- crun's run.oci.* annotations ----

@pytest.mark.parametrize("keep", [True, False])
def test_keep_original_groups(rt, keep):
    cfg = proc(rt, sh("grep ^Groups: /proc/self/status"), env=["PATH=/bin"],
               user={"uid": 1000, "gid": 1000, "additionalGids": [5]})
    if keep:
        cfg["annotations"] = {"run.oci.keep_original_groups": "1"}
    p = rt.run(cfg, groups=[7, 8])  # the runtime's own supplementary groups
    assert p.returncode == 0, p.stderr
    kept = keep and rt.name != "runc"  # a crun annotation: runc ignores it
    assert p.stdout.split()[1:] == (["7", "8"] if kept else ["5"])


@pytest.mark.parametrize("fail_unknown", [True, False])
def test_seccomp_fail_unknown_syscall(rt, fail_unknown):
    cfg = proc(rt, sh("echo ran"), env=["PATH=/bin"])
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["acct", "no_such_syscall_isola"], "action": "SCMP_ACT_ERRNO"}]}
    if fail_unknown:
        cfg["annotations"] = {"run.oci.seccomp_fail_unknown_syscall": "1"}
    p = rt.run(cfg)
    if fail_unknown and rt.name != "runc":  # a crun annotation: runc ignores it
        assert p.returncode != 0
        assert "no_such_syscall_isola" in p.stderr
    else:
        assert p.returncode == 0, p.stderr
        assert p.stdout == "ran\n"


@pytest.mark.parametrize("key,value,msg", [
    ("run.oci.handler", "krun", "annotations.run.oci.handler: not supported by isola-oci"),
    ("run.oci.timens_offset", "monotonic 1 0", "use linux.timeOffsets"),
    ("run.oci.seccomp.receiver", "/run/x.sock", "use linux.seccomp.listenerPath"),
    ("run.oci.systemd.subgroup", "container", "systemd cgroup manager"),
    ("run.oci.no_such_thing", "1", "annotations.run.oci.no_such_thing: unknown crun annotation"),
    ("run.oci.hooks.stdout", "", "annotations.run.oci.hooks.stdout: empty path"),
])
def test_unsupported_annotations_are_refused(oci, key, value, msg):
    cfg = copy.deepcopy(oci.config)
    cfg["annotations"] = {key: value}
    p, cid = oci.run(sh("echo ran"), config=cfg)
    assert p.returncode != 0
    assert msg in p.stderr
    assert p.stdout == ""
    assert not oci.leftovers(cid)


@pytest.mark.parametrize("key,value", [
    ("run.oci.mount_context_type", "context"),  # only acts on SELinux labels
    ("run.oci.systemd.subgroup", ""),           # no sub-cgroup: what isola does
    ("io.example.other", "x"),                  # not crun's: kept in the state only
])
def test_annotations_without_effect_are_accepted(oci, key, value):
    cfg = copy.deepcopy(oci.config)
    cfg["annotations"] = {key: value}
    p, _ = oci.run(sh("echo ran"), config=cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "ran\n"


def test_features_list_memory_policy(oci):
    p = oci.cmd("features")
    assert p.returncode == 0, p.stderr
    mp = json.loads(p.stdout)["linux"]["memoryPolicy"]
    assert {"MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL", "MPOL_PREFERRED"} <= set(mp["modes"])
    assert set(mp["flags"]) == {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
                                "MPOL_F_STATIC_NODES"}


# ---- signals ----

def _blocked_and_ignored():
    """The runtime's caller blocks SIGTERM and SIGUSR1 and ignores SIGINT and
    SIGHUP (a monitor, a shell's nohup)."""
    import signal
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def test_process_starts_with_no_signal_blocked_or_ignored(rt, tmp_root):
    """The container process (init and exec) gets an empty signal mask and no
    ignored signal, whatever the runtime's caller had, as with crun."""
    probe = "grep -E '^Sig(Blk|Ign)' /proc/self/status"
    cfg = proc(rt, ["sh", "-c", probe + "; exec sleep 60"])
    with open(os.path.join(rt.bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    rt.n += 1
    cid = f"{rt.prefix}-{rt.n}"
    rt.ids.append(cid)
    out = os.path.join(tmp_root, f"sig-{rt.name}")
    # files, not pipes: the detached process keeps its stdio open
    with open(out, "w") as f, tempfile.TemporaryFile(mode="w+") as err:
        p = subprocess.run([*rt.argv, "--root", rt.root, "run", "--detach", "--bundle",
                            rt.bundle, cid], stdout=f, stderr=err,
                           stdin=subprocess.DEVNULL, text=True, timeout=60,
                           preexec_fn=_blocked_and_ignored)
        err.seek(0)
        assert p.returncode == 0, err.read()
    # grep itself, not under sh: busybox sh ignores SIGINT in a `sh -c` child
    e = subprocess.run([*rt.argv, "--root", rt.root, "exec", cid, "grep", "-E",
                        "^Sig(Blk|Ign)", "/proc/self/status"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                       stdin=subprocess.DEVNULL, preexec_fn=_blocked_and_ignored)
    assert e.returncode == 0, e.stderr
    zero = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    for _ in range(100):
        with open(out) as f:
            init = f.read()
        if init:
            break
        time.sleep(0.05)
    if rt.name == "runc":
        # runc 1.1.5's init keeps what Go's runtime left: checked, not compared
        assert "SigBlk" in init
        return
    assert init == zero, f"{rt.name} init: {init!r}"
    assert e.stdout == zero, f"{rt.name} exec: {e.stdout!r}"
