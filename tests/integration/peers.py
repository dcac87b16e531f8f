"""Real clients of isola-oci: podman and containerd, each in a private setup;
and a private Docker daemon, a peer of the `isola` engine.

All run with configuration, storage and sockets under one test directory, so
they touch nothing of the host's own podman or containerd. What they create on
the host (cgroups, mounts, shim processes) is removed in every outcome by
`close()`, which ends only processes started here, by pid; podman's bridge
lives in a network namespace of the test's own, deleted with it.
"""
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time

from conftest import cleanup_tree, run


def oci_archive(rootfs, out, ref):
    """Write an OCI image-layout tar of one uncompressed layer made of rootfs."""
    blobs = {}

    def add(data):
        d = hashlib.sha256(data).hexdigest()
        blobs[d] = data
        return {"digest": "sha256:" + d, "size": len(data)}

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(rootfs)):
            t.add(os.path.join(rootfs, name), arcname=name)
    layer = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(add(config), mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(add(layer), mediaType="application/vnd.oci.image.layer.v1.tar")],
    }
    mdesc = dict(add(json.dumps(manifest).encode()),
                 mediaType="application/vnd.oci.image.manifest.v1+json",
                 annotations={"org.opencontainers.image.ref.name": ref})
    index = {"schemaVersion": 2, "manifests": [mdesc]}
    with tarfile.open(out, "w") as t:
        def put(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        put("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        put("index.json", json.dumps(index).encode())
        for d, data in blobs.items():
            put("blobs/sha256/" + d, data)


def _kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _rmdir_tree(path):
    """Remove an (empty) cgroup directory and its empty children, deepest first."""
    if not os.path.isdir(path):
        return
    for sub, _dirs, _files in sorted(os.walk(path), key=lambda w: -len(w[0])):
        try:
            os.rmdir(sub)
        except OSError:
            pass


def _cgroup_pids(dirs):
    """The pids in the cgroups at or below dirs (all hierarchies of one parent)."""
    pids = set()
    for top in dirs:
        for sub, _dirs, _files in os.walk(top):
            try:
                with open(os.path.join(sub, "cgroup.procs")) as f:
                    pids.update(int(x) for x in f.read().split())
            except OSError:
                pass
    return sorted(pids)


def _pids_with_arg(needle):
    """Pids of processes whose command line contains needle (our own daemons' children)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if needle.encode() in f.read():
                    out.append(int(d))
        except OSError:
            pass
    return out


class Podman:
    """podman with private containers.conf, storage.conf and CNI network."""

    def __init__(self, root, runtime, tag):
        self.root = root
        self.runtime = runtime
        self.bridge = f"isola-pb{tag}"[:15]
        self.subnet = f"10.231.{tag % 250}"
        os.makedirs(os.path.join(root, "cni"))
        with open(os.path.join(root, "cni", "isolatest.conflist"), "w") as f:
            json.dump({
                "cniVersion": "0.4.0", "name": "isolatest",
                "plugins": [
                    {"type": "bridge", "bridge": self.bridge, "isGateway": True,
                     "ipMasq": False, "hairpinMode": True,
                     "ipam": {"type": "host-local", "dataDir": os.path.join(root, "ipam"),
                              "routes": [{"dst": "0.0.0.0/0"}],
                              "ranges": [[{"subnet": self.subnet + ".0/24",
                                           "gateway": self.subnet + ".1"}]]}},
                    {"type": "tuning"},
                ]}, f)
        with open(os.path.join(root, "containers.conf"), "w") as f:
            f.write(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{root}/events.log"
tmp_dir = "{root}/libpod-tmp"
[network]
network_backend = "cni"
network_config_dir = "{root}/cni"
default_network = "isolatest"
""")
        with open(os.path.join(root, "storage.conf"), "w") as f:
            f.write(f"""[storage]
driver = "overlay"
graphroot = "{root}/graph"
runroot = "{root}/run"
""")
        self.env = dict(os.environ, CONTAINERS_CONF=os.path.join(root, "containers.conf"),
                        CONTAINERS_STORAGE_CONF=os.path.join(root, "storage.conf"))
        # podman and its CNI plugins run in a network namespace of the test's
        # own, so the bridge and its routes never touch the host's network;
        # nsenter changes only the network namespace (podman's mounts stay
        # visible to the next command). Prefix every podman command with it.
        self.netns = f"isola-pn{tag}-{os.getpid()}"
        subprocess.run(["ip", "netns", "add", self.netns], check=True, timeout=30)
        subprocess.run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True,
                       timeout=30)
        self.prefix = ["nsenter", f"--net=/run/netns/{self.netns}"]

    def __call__(self, *args, timeout=120, input=None):
        return run([*self.prefix, "podman", "--runtime", self.runtime, *args], timeout=timeout,
                   env=self.env, input=input)

    def import_rootfs(self, rootfs, image):
        """`podman import` of a root file system directory as image."""
        tar = subprocess.run(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE,
                             check=True, timeout=60).stdout
        r = subprocess.run(["podman", "import", "-", image], input=tar, env=self.env,
                           capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def close(self):
        try:
            self("rm", "--all", "--force", "--time", "0", timeout=60)
        except subprocess.TimeoutExpired:
            pass
        # podman leaves its storage mounted (overlay) until reset.
        try:
            self("system", "reset", "--force", timeout=60)
        except subprocess.TimeoutExpired:
            pass
        # the bridge and any veth left go with the namespace
        subprocess.run(["ip", "netns", "del", self.netns], timeout=30)
        cleanup_tree(self.root)


class DockerUnavailable(Exception):
    """A private dockerd cannot run on this host (the reason is the message)."""


class Docker:
    """A private dockerd (Debian's docker.io) and its own containerd.

    Data root, exec root (containerd's socket and state, runc's state), the
    pidfile and the API socket all live under root, which should be short
    (containerd's socket path must fit sun_path). dockerd runs in a network
    namespace of the test's own, with no bridge and no iptables rules, so the
    host's network is left alone; its containers' cgroups go under a parent
    of their own (`--cgroup-parent`), removed by close(). close() ends only
    what this daemon started (dockerd by pid, its containerd and shims by the
    socket path on their command lines) and removes every mount and file it
    left, in every outcome. The client is Debian's /usr/bin/docker (its API
    matches the daemon's), with a private config directory.
    """

    CLIENT = "/usr/bin/docker"

    def __init__(self, root, tag, start_timeout=90):
        for b in ("dockerd", "containerd", "runc", self.CLIENT):
            if shutil.which(b) is None:
                raise DockerUnavailable(f"{b} is not installed (Debian's docker.io, "
                                        "scripts/install-deps.sh)")
        self.root = root
        self.sock = os.path.join(root, "docker.sock")
        self.exec_root = os.path.join(root, "x")
        self.containerd_sock = os.path.join(self.exec_root, "containerd", "containerd.sock")
        self.cgroup_parent = f"/isolatest-docker-{os.getpid()}-{tag}"
        self.netns = f"isola-dk{tag}-{os.getpid()}"
        self.proc = None
        self.log = None
        self.ids = set()
        os.makedirs(os.path.join(root, "config"), exist_ok=True)
        self.env = dict(os.environ, DOCKER_HOST="unix://" + self.sock,
                        DOCKER_CONFIG=os.path.join(root, "config"))
        try:
            subprocess.run(["ip", "netns", "add", self.netns], check=True, timeout=30,
                           capture_output=True)
            subprocess.run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True,
                           timeout=30)
            self.log = open(os.path.join(root, "dockerd.log"), "wb")
            # nsenter execs dockerd: self.proc.pid is dockerd's pid
            self.proc = subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{self.netns}", "dockerd",
                 "--data-root", os.path.join(root, "data"), "--exec-root", self.exec_root,
                 "--pidfile", os.path.join(root, "dockerd.pid"), "-H", "unix://" + self.sock,
                 "--bridge", "none", "--iptables=false", "--ip6tables=false",
                 "--ip-masq=false", "--storage-driver", "overlay2",
                 "--exec-opt", "native.cgroupdriver=cgroupfs",
                 "--cgroup-parent", self.cgroup_parent],
                stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
            deadline = time.monotonic() + start_timeout
            while True:
                if self.proc.poll() is not None:
                    raise DockerUnavailable("dockerd exited with "
                                            f"{self.proc.returncode}: {self.read_log()}")
                try:
                    if self("version", timeout=10).returncode == 0:
                        break
                except subprocess.TimeoutExpired:
                    pass
                if time.monotonic() > deadline:
                    raise DockerUnavailable(f"dockerd did not answer in {start_timeout} s: "
                                            + self.read_log())
                time.sleep(0.5)
        except BaseException:
            self.close()
            raise

    def read_log(self):
        try:
            with open(os.path.join(self.root, "dockerd.log"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def __call__(self, *args, timeout=120, input=None):
        return run([self.CLIENT, *args], timeout=timeout, env=self.env, input=input)

    def run(self, args, timeout=120, input=None):
        """`docker ARGS...` (a list), output captured, bounded in time."""
        return self(*args, timeout=timeout, input=input)

    def import_rootfs(self, rootfs, image):
        """`docker import` of a root file system directory as image."""
        tar = subprocess.run(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE,
                             check=True, timeout=60).stdout
        r = subprocess.run([self.CLIENT, "import", "-", image], input=tar, env=self.env,
                           capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def _container_ids(self):
        try:
            p = self("ps", "-a", "-q", "--no-trunc", timeout=30)
        except subprocess.TimeoutExpired:
            return []
        return p.stdout.split() if p.returncode == 0 else []

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            ids = self._container_ids()
            self.ids.update(ids)
            if ids:
                try:
                    self("rm", "-f", "-v", *ids, timeout=120)
                except subprocess.TimeoutExpired:
                    pass
        # containerd and the shims carry containerd's socket path on their
        # command lines (dockerd started them; none of them is the host's)
        children = _pids_with_arg(self.containerd_sock) + _pids_with_arg(self.exec_root)
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=30)
            _kill_pids(sorted(set(children) - {self.proc.pid}))
        if self.log is not None:
            self.log.close()
        # what killed shims could not remove: their sockets (containerd's
        # shim.SocketAddress: /run/containerd/s/sha256(ADDRESS/NAMESPACE/ID))
        for cid in self.ids:
            d = hashlib.sha256(os.path.join(self.containerd_sock, "moby", cid).encode())
            try:
                os.unlink(os.path.join("/run/containerd/s", d.hexdigest()))
            except OSError:
                pass
        # containers whose shim was killed (dockerd gone before `rm -f`) live
        # on in the cgroups below our parent: end them, then remove the cgroups
        dirs = [os.path.join("/sys/fs/cgroup", c, self.cgroup_parent.lstrip("/"))
                for c in os.listdir("/sys/fs/cgroup")]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = _cgroup_pids(dirs)
            if not pids:
                break
            _kill_pids(pids)
            time.sleep(0.1)
        subprocess.run(["ip", "netns", "del", self.netns], timeout=30,
                       stderr=subprocess.DEVNULL)
        cleanup_tree(self.root)
        for d in dirs:
            _rmdir_tree(d)


class Containerd:
    """A private containerd: config, root, state and sockets under one directory."""

    def __init__(self, root, runtime):
        self.root = root
        self.runtime = runtime
        self.sock = os.path.join(root, "containerd.sock")
        # A namespace of our own: the shim keeps the runtime's state under
        # /run/containerd/runc/<namespace>, which close() removes.
        self.ns = f"isolatest{os.getpid()}"
        os.makedirs(root, exist_ok=True)
        cfg = os.path.join(root, "config.toml")
        with open(cfg, "w") as f:
            f.write(f"""version = 2
root = "{root}/root"
state = "{root}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{self.sock}"
[ttrpc]
  address = "{self.sock}.ttrpc"
[debug]
  address = "{root}/debug.sock"
""")
        self.log = open(os.path.join(root, "containerd.log"), "wb")
        self.proc = subprocess.Popen(["containerd", "--config", cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("containerd did not start: " + self.read_log())
            time.sleep(0.05)

    def read_log(self):
        with open(os.path.join(self.root, "containerd.log"), errors="replace") as f:
            return f.read()[-4000:]

    def ctr(self, *args, timeout=120):
        return run(["ctr", "-a", self.sock, "-n", self.ns, *args], timeout=timeout)

    def close(self):
        # Shims started by this containerd carry its socket address on their
        # command line; they and the containers they hold end with it.
        shims = [p for p in _pids_with_arg(self.sock) if p != self.proc.pid]
        for ns_id in self._tasks():
            self.ctr("task", "kill", "-s", "SIGKILL", ns_id, timeout=30)
            self.ctr("task", "delete", "-f", ns_id, timeout=30)
            self.ctr("container", "delete", ns_id, timeout=30)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        _kill_pids(shims)
        self.log.close()
        cleanup_tree(os.path.join("/run/containerd/runc", self.ns))
        cleanup_tree(self.root)
        # containerd's cgroupfs manager puts a namespace's tasks under
        # /sys/fs/cgroup/[<controller>/]<namespace>/ and leaves that parent.
        for base in ["/sys/fs/cgroup"] + [os.path.join("/sys/fs/cgroup", c)
                                          for c in os.listdir("/sys/fs/cgroup")]:
            _rmdir_tree(os.path.join(base, self.ns))

    def _tasks(self):
        try:
            p = self.ctr("containers", "ls", "-q", timeout=30)
        except subprocess.TimeoutExpired:
            return []
        return p.stdout.split() if p.returncode == 0 else []
