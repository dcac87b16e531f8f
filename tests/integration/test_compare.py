"""isola compare (docs/compare.md): each measure sane on known inputs (a workload
that sleeps 200 ms before its first output, one that holds 50 MiB), the report's
formats (JSON against docs/compare.schema.json, SVG, PNG, HTML, markdown), a
model that fails mid-run, and nothing left behind after a run or a Ctrl-C.
isola runs in a network namespace of the test's; the VM models report why they
do not run here (no `microvm`/`vm` isolation in this build, or no usable KVM)."""
import json
import os
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import ROOT, mounts_below, run

IMAGE = "comparebb"
SCHEMA = os.path.join(ROOT, "docs", "compare.schema.json")
# up after its first line, and stays up (memory, overhead, density need it)
IDLE = ["sh", "-c", "echo ready; exec sleep 3600"]
MiB = 1024 * 1024


class Compare:
    def __init__(self, isola, tmp_root, rootfs_template):
        self.isola = isola
        self.tmp = tmp_root
        self.run_dir = os.path.join(tmp_root, "run")
        self.store = os.path.join(tmp_root, "store")
        self.env = dict(os.environ, ISOLA_ROOT=self.store, ISOLA_RUN_DIR=self.run_dir)
        self.netns = f"isola-cmp-{os.getpid()}-{time.monotonic_ns() % 10**9}"
        run(["ip", "netns", "add", self.netns], timeout=10, check=True)
        self.ns = ["nsenter", f"--net=/run/netns/{self.netns}"]
        self.seen = set()
        self.order = []  # the ids in the order they appeared
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_ids, daemon=True)
        self._watch.start()
        p = self("import", rootfs_template, IMAGE)
        assert p.returncode == 0, p.stderr

    def _watch_ids(self):
        """The ids of the instances compare starts (their monitors' run dirs),
        to look for their cgroups afterwards."""
        d = os.path.join(self.run_dir, "c")
        while not self._stop.is_set():
            try:
                for cid in os.listdir(d):
                    if cid not in self.seen:
                        self.seen.add(cid)
                        self.order.append(cid)
            except OSError:
                pass
            time.sleep(0.01)

    def argv(self, *args):
        return [*self.ns, self.isola, *args]

    def __call__(self, *args, timeout=300):
        return run(self.argv(*args), env=self.env, timeout=timeout)

    def compare_json(self, *args, timeout=300, ok=True):
        p = self("compare", "--format", "json", "--no-cold", *args, timeout=timeout)
        if ok:
            assert p.returncode == 0, f"{p.returncode}\n{p.stdout}\n{p.stderr}"
        return p, json.loads(p.stdout) if p.stdout.strip() else None

    def monitors(self):
        """Monitor processes of this test's run dir still alive."""
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"isola-monitor") and \
                    any(self.run_dir.encode() in a for a in cmd):
                pids.append(int(pid))
        return pids

    def leftovers(self):
        """Whatever compare left: rows, run dirs, bundles, mounts, cgroups,
        monitors."""
        left = []
        ps = self("ps", "-a", "-q", "--no-trunc")
        assert ps.returncode == 0, ps.stderr
        left += [f"container {i}" for i in ps.stdout.split()]
        for sub in (os.path.join(self.run_dir, "c"), os.path.join(self.store, "containers"),
                    os.path.join(self.run_dir, "netns")):
            if os.path.isdir(sub):
                left += [f"{sub}/{n}" for n in os.listdir(sub)]
        left += [f"mount {m}" for m in mounts_below(self.tmp)]
        for cid in self.seen:
            for ctl in os.listdir("/sys/fs/cgroup"):
                p = os.path.join("/sys/fs/cgroup", ctl, "isola", cid)
                if os.path.exists(p):
                    left.append(f"cgroup {p}")
        left += [f"monitor {p}" for p in self.monitors()]
        return left

    def close(self):
        self._stop.set()
        self._watch.join(timeout=5)
        ids = self("ps", "-a", "-q", "--no-trunc").stdout.split()
        if ids:
            self("rm", "-f", *ids, timeout=300)
        for pid in self.monitors():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        run(["ip", "netns", "del", self.netns], timeout=10)


@pytest.fixture
def cmp(isola, tmp_root, rootfs_template):
    c = Compare(isola, tmp_root, rootfs_template)
    try:
        yield c
    finally:
        c.close()


def model(report, name):
    return next(m for m in report["models"] if m["name"] == name)


def test_start_counts_the_time_to_first_output(cmp):
    """A workload that sleeps 200 ms before its first output starts in >= 200 ms,
    in every run, the first one cold where the page cache may be dropped."""
    p = cmp("compare", "--format", "json", "--runs", "2", "--models", "container", IMAGE,
            "sh", "-c", "sleep 0.2; echo ready; exec sleep 3600")
    assert p.returncode == 0, p.stderr
    slow = json.loads(p.stdout)
    c = model(slow, "container")
    assert c["status"] == "ok", c
    assert c["start"]["allMs"]["n"] == 2
    assert c["start"]["allMs"]["min"] >= 200, c["start"]
    if os.access("/proc/sys/vm/drop_caches", os.W_OK):
        assert c["start"]["coldMs"] >= 200, c["start"]
        assert "drop_caches" in c["start"]["coldNote"]
        assert c["start"]["warmMs"]["n"] == 1
    else:
        assert c["start"]["coldMs"] is None
        assert "cannot be written" in c["start"]["coldNote"], c["start"]
    # --ready CMD: started when the file exists, written 300 ms after the first output
    _, ready = cmp.compare_json(
        "--runs", "1", "--models", "container", "--ready", "test -e /tmp/up", IMAGE,
        "sh", "-c", "echo early; sleep 0.3; touch /tmp/up; exec sleep 3600")
    assert model(ready, "container")["start"]["allMs"]["min"] >= 300
    assert cmp.leftovers() == []


def test_ready_probes_a_server(cmp):
    """--ready tcp:PORT and http:URL: a server that listens 300 ms after it
    starts, and prints nothing, is started once it answers."""
    server = ["sh", "-c", "sleep 0.3; exec /usr/sbin/httpd -f -p 8080 -h /"]
    for ready in ("tcp:8080", "http://localhost:8080/"):
        _, rep = cmp.compare_json("--runs", "1", "--models", "container", "--ready", ready,
                                  IMAGE, *server)
        c = model(rep, "container")
        assert c["status"] == "ok", c
        assert c["start"]["allMs"]["min"] >= 300, (ready, c["start"])
        # the server stays up: its memory was measured
        assert c["memory"]["pssBytes"]["n"] == 1
    # a port nobody listens on is never ready: the model fails, with the reason
    p, rep = cmp.compare_json("--runs", "1", "--models", "container", "--ready", "tcp:9",
                              "--timeout", "2", IMAGE, *IDLE, ok=False)
    assert p.returncode == 3, p.stderr
    assert "not ready after 2000 ms" in model(rep, "container")["reason"]
    assert cmp.leftovers() == []


def test_server_image_built_with_isola_build(cmp, tmp_root):
    """A small HTTP server image from a Dockerfile (`isola build`), compared with
    its own command and --ready http: the docs' second example."""
    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {IMAGE}\n"
                "RUN mkdir -p /www && echo hello > /www/index.html\n"
                "EXPOSE 8080\n"
                'CMD ["/usr/sbin/httpd", "-f", "-p", "8080", "-h", "/www"]\n')
    b = cmp("build", "-t", "compareweb", ctx)
    assert b.returncode == 0, b.stderr
    _, rep = cmp.compare_json("--runs", "2", "--models", "container", "--ready",
                              "http://localhost:8080/", "compareweb")
    assert rep["command"] == [] and "http://localhost:8080/" in rep["ready"]
    c = model(rep, "container")
    assert c["status"] == "ok" and c["runsCompleted"] == 2, c
    assert c["overhead"]["tcpRttUs"]["n"] == 2
    assert cmp.leftovers() == []


def test_progress_on_a_terminal(cmp):
    """A progress line on stderr when it is a terminal, none otherwise."""
    master, slave = os.openpty()
    try:
        p = subprocess.run(cmp.argv("compare", "--no-cold", "--runs", "1", "--models",
                                    "container", IMAGE, *IDLE),
                           env=cmp.env, stdout=subprocess.PIPE, stderr=slave, timeout=120)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:
                break
            if not b:
                break
            chunks.append(b)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert p.returncode == 0
    tty = b"".join(chunks).decode(errors="replace")
    assert "compare: container: run 1/1" in tty, tty
    piped = cmp("compare", "--no-cold", "--runs", "1", "--models", "container", IMAGE, *IDLE)
    assert "run 1/1" not in piped.stderr, piped.stderr


def test_memory_counts_what_the_workload_holds(cmp):
    """A shell holding 50 MiB in a variable shows a PSS >= 50 MiB; the same shell
    without it shows less, so the measure is the workload's, not a constant."""
    hold = "x=$(head -c 52428800 /dev/zero | tr '\\0' a); echo ready; sleep 3600; echo ${#x}"
    _, big = cmp.compare_json("--runs", "1", "--models", "container", IMAGE, "sh", "-c", hold)
    _, small = cmp.compare_json("--runs", "1", "--models", "container", IMAGE,
                                "sh", "-c", "echo ready; sleep 3600")
    pss_big = model(big, "container")["memory"]["pssBytes"]["min"]
    pss_small = model(small, "container")["memory"]["pssBytes"]["max"]
    assert pss_big >= 50 * MiB, model(big, "container")["memory"]
    assert pss_small < 50 * MiB, model(small, "container")["memory"]
    # the cgroup's charge and peak see it too
    assert model(big, "container")["memory"]["peakBytes"]["max"] >= 50 * MiB
    assert cmp.leftovers() == []


def test_report_formats_and_charts(cmp, tmp_root):
    """JSON valid against the schema; SVG parses, PNG opens, HTML embeds the
    charts and the tables; the VM models are in the report with a reason."""
    import jsonschema
    from PIL import Image

    svg, png, html = (os.path.join(tmp_root, f"c.{e}") for e in ("svg", "png", "html"))
    p, rep = cmp.compare_json("--runs", "2", "--density", "6m", "--density-max", "3",
                              "-o", svg, "-o", png, "-o", html, IMAGE, *IDLE)
    with open(SCHEMA) as f:
        jsonschema.validate(rep, json.load(f))
    c = model(rep, "container")
    assert c["status"] == "ok" and c["runsCompleted"] == 2
    assert c["isolation"]["sharedKernel"] is True
    assert c["isolation"]["kernel"] == os.uname().release
    assert c["disk"]["sharedBytes"]["min"] > 0 and c["disk"]["uniqueBytes"]["min"] > 0
    assert c["overhead"]["relative"]["cpuMs"] == 1.0
    assert c["overhead"]["tcpRttUs"]["n"] == 2
    d = c["density"]
    assert 1 <= d["instances"] <= 3 and d["stoppedBy"] in ("budget", "limit"), d
    for name in ("vm-container", "vm"):
        m = model(rep, name)
        # never silently dropped: either it ran, or why not
        assert m["status"] == "ok" or m["reason"], m
    verdicts = {x["claim"]: x["verdict"] for x in rep["claims"]}
    assert verdicts["Containers start in milliseconds"] in ("holds", "does not hold")
    assert rep["machine"]["kernel"] == os.uname().release

    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    with Image.open(png) as im:
        im.verify()
    with Image.open(png) as im:
        assert im.size[0] >= 800 and im.size[1] >= 800
        # not blank: bars in the container's colour
        assert len(im.convert("RGB").getcolors(1 << 20)) > 10
    with open(html) as f:
        text = f.read()
    # cairo is opened when charts are asked for, not linked (docs/compare.md)
    elf = run(["readelf", "-d", cmp.isola], timeout=30)
    assert "libcairo" not in elf.stdout
    assert "<svg" in text and "<table>" in text and "Claims" in text and "not run" in text

    # the table and markdown say the same
    t = cmp("compare", "--no-cold", "--runs", "1", "--models", "container,vm", IMAGE, *IDLE)
    assert t.returncode == 0, t.stderr
    assert "start, warm" in t.stdout and "Claims" in t.stdout
    if model(rep, "vm")["status"] != "ok":
        assert "vm: not run: " in t.stdout
    md = cmp("compare", "--no-cold", "--runs", "1", "--models", "container", "--format",
             "markdown", IMAGE, *IDLE)
    assert md.returncode == 0, md.stderr
    assert "| MEASURE | container |" in md.stdout and "| --- |" in md.stdout
    assert cmp.leftovers() == []


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def status_of(cmp, cid):
    try:
        with open(os.path.join(cmp.run_dir, "c", cid, "status")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def test_model_failing_mid_run_is_marked_failed(cmp):
    """The monitor of the second run's instance is killed before it is ready: the
    model is `failed` with the reason, the first run's numbers are kept, the other
    models are reported, exit code 3, nothing is left."""
    proc = subprocess.Popen(
        cmp.argv("compare", "--format", "json", "--no-cold", "--runs", "3", IMAGE,
                 "sh", "-c", "sleep 1; echo ready; exec sleep 3600"),
        env=cmp.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        second = wait_for(lambda: cmp.order[1:2], 60, "the second instance")[0]
        st = wait_for(lambda: status_of(cmp, second), 30, "its monitor")
        os.kill(st["monitorPid"], signal.SIGKILL)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, err
    rep = json.loads(out)
    c = model(rep, "container")
    assert c["status"] == "failed", c
    assert "run 2 of 3" in c["reason"], c["reason"]
    assert c["runsCompleted"] == 1 and c["start"]["allMs"]["n"] == 1
    assert c["start"]["allMs"]["min"] >= 1000
    assert {m["name"] for m in rep["models"]} == {"container", "vm-container", "vm"}
    for name in ("vm-container", "vm"):
        assert model(rep, name)["status"] in ("ok", "not run")
    assert cmp.leftovers() == []


@pytest.mark.parametrize("when", [4, 7])
def test_ctrl_c_removes_every_instance(cmp, when):
    """Ctrl-C (SIGINT to compare's whole process group, as a terminal sends it)
    while instances run (the density test holds several, and one is being
    started): compare exits 130 and removes them all."""
    proc = subprocess.Popen(
        cmp.argv("compare", "--no-cold", "--runs", "1", "--models", "container",
                 "--density", "1g", "--density-max", "20", IMAGE, *IDLE),
        env=cmp.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        # the density test has started a few
        wait_for(lambda: len(cmp.seen) >= when, 120, "density instances")
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err
    assert cmp.leftovers() == []
