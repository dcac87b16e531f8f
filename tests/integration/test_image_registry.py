"""Registry pull/push against Debian's docker-registry (plain, basic auth, TLS
with a test CA) and a small in-process fake registry for bearer tokens and faults."""
import base64
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time

import imagelib
import pytest
from conftest import run


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"docker-registry exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"docker-registry did not listen on {port}")


def make_ca(d):
    """A test CA and a server certificate for 127.0.0.1 and localhost."""
    def ossl(*a):
        subprocess.run(["openssl", *a], check=True, capture_output=True, timeout=60)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=isola test CA",
         "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", f"{d}/srv.key", "-out", f"{d}/srv.csr")
    with open(f"{d}/ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ossl("x509", "-req", "-in", f"{d}/srv.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", f"{d}/ext", "-out", f"{d}/srv.pem")


class Registry:
    def __init__(self, tmp, auth=False, tls=False):
        imagelib.need("docker-registry")
        self.dir = os.path.join(tmp, "registry")
        os.makedirs(self.dir)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        cfg = ["version: 0.1", "log:", "  level: error", "storage:", "  filesystem:",
               f"    rootdirectory: {self.dir}/data", "http:", f"  addr: 127.0.0.1:{self.port}"]
        if tls:
            make_ca(self.dir)
            cfg += ["  tls:", f"    certificate: {self.dir}/srv.pem", f"    key: {self.dir}/srv.key"]
            self.ca = f"{self.dir}/ca.pem"
        if auth:
            with open(f"{self.dir}/htpasswd", "w") as f:
                f.write("alice:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)) + "\n")
            cfg += ["auth:", "  htpasswd:", "    realm: isola-test", f"    path: {self.dir}/htpasswd"]
        with open(f"{self.dir}/config.yml", "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log = open(f"{self.dir}/log", "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", f"{self.dir}/config.yml"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def image_store(isola, rootfs, tmp_root):
    store = os.path.join(tmp_root, "store")
    lay = os.path.join(tmp_root, "layout")
    base = imagelib.tar_of_dir(rootfs)
    extra = imagelib.tar_of_entries([imagelib.file_entry("etc/motd", b"layer two\n")])
    imagelib.write_layout(lay, [base, extra], name="src:1")
    assert run([isola, "load", "--root", store, "-i", lay]).returncode == 0
    return store


def iso(isola, *args, env=None):
    return run([isola, *args], timeout=180, env=env)


def roundtrip(isola, image_store, tmp_root, host, opts):
    ref = f"{host}/isola/test{os.getpid()}:v1"
    p = iso(isola, "push", "--root", image_store, *opts, "src:1", ref)
    assert p.returncode == 0, p.stderr
    assert "pushed" in p.stdout
    p = iso(isola, "push", "--root", image_store, *opts, "src:1", ref)
    assert p.returncode == 0 and "exists" in p.stdout and "pushed" not in p.stdout
    store2 = os.path.join(tmp_root, "store2")
    p = iso(isola, "pull", "--root", store2, *opts, ref)
    assert p.returncode == 0, p.stderr
    a = json.loads(iso(isola, "inspect", "--root", image_store, "src:1").stdout)[0]
    b = json.loads(iso(isola, "inspect", "--root", store2, ref).stdout)[0]
    assert a["Id"] == b["Id"] and a["Digest"] == b["Digest"]
    # Present blobs are not fetched again.
    p = iso(isola, "pull", "--root", store2, *opts, ref)
    assert p.returncode == 0 and "fetched" not in p.stdout and "present" in p.stdout
    assert iso(isola, "image", "check", "--root", store2).returncode == 0
    return ref


def test_push_pull_plain(isola, image_store, tmp_root):
    reg = Registry(tmp_root)
    try:
        ref = roundtrip(isola, image_store, tmp_root, reg.host, [])
        p = run(["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"])
        assert p.returncode == 0 and len(json.loads(p.stdout)["Layers"]) == 2
    finally:
        reg.stop()


def test_push_pull_basic_auth(isola, image_store, tmp_root):
    reg = Registry(tmp_root, auth=True)
    try:
        p = iso(isola, "push", "--root", image_store, "src:1", f"{reg.host}/x/y:1")
        assert p.returncode == 1 and "--creds" in p.stderr
        p = iso(isola, "push", "--root", image_store, "--creds", "alice:wrong", "src:1",
                f"{reg.host}/x/y:1")
        assert p.returncode == 1 and "401" in p.stderr
        roundtrip(isola, image_store, tmp_root, reg.host, ["--creds", "alice:s3cret"])
    finally:
        reg.stop()


def test_push_pull_tls_custom_ca(isola, image_store, tmp_root):
    reg = Registry(tmp_root, tls=True)
    host = f"localhost:{reg.port}"
    try:
        # Without the CA, the certificate is not trusted; no silent HTTP fallback works
        # either (the server speaks only TLS).
        p = iso(isola, "pull", "--root", image_store, f"{host}/none:1")
        assert p.returncode == 1
        roundtrip(isola, image_store, tmp_root, host, ["--ca-file", reg.ca])
    finally:
        reg.stop()


def test_non_loopback_http_needs_insecure(isola, tmp_root):
    # A name that is not loopback is never tried over plain HTTP without --insecure.
    p = iso(isola, "pull", "--root", tmp_root, "registry.invalid:1/x:1")
    assert p.returncode == 1 and "https://registry.invalid:1" in p.stderr


class Fake(http.server.BaseHTTPRequestHandler):
    """Serves one OCI layout; bearer tokens; modes: ok, error, drop (every large
    blob cut in half), resume (the first one cut, Range honoured), norange (the
    first one cut, Range ignored), stall (every large blob: half of it, then nothing
    until `release` is set)."""
    protocol_version = "HTTP/1.1"
    layout = None
    mode = "ok"
    port = 0
    ranges = []     # Range headers received
    dropped = False  # a blob was cut off already (modes resume, norange)
    release = threading.Event()  # mode stall: send the rest

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/token"):
            want = "Basic " + base64.b64encode(b"bob:pw").decode()
            if self.headers.get("Authorization") != want:
                return self.send(401)
            return self.send(200, json.dumps({"token": "tok-123"}).encode())
        if self.headers.get("Authorization") != "Bearer tok-123":
            return self.send(401, b"", [("WWW-Authenticate",
                                         f'Bearer realm="http://127.0.0.1:{self.port}/token",'
                                         'service="fake",scope="repository:r:pull"')])
        if self.path == "/v2/":
            return self.send(200, b"{}")
        parts = self.path.split("/")
        if Fake.mode == "error" and "manifests" in parts:
            return self.send(500, json.dumps({"errors": [{"code": "UNKNOWN",
                                                          "message": "storage on fire"}]}).encode())
        idx = json.load(open(os.path.join(self.layout, "index.json")))
        if "manifests" in parts:
            d = idx["manifests"][0]["digest"]
            data = open(os.path.join(self.layout, "blobs", "sha256", d[7:]), "rb").read()
            return self.send(200, data, [("Content-Type",
                                          "application/vnd.oci.image.manifest.v1+json")])
        if "blobs" in parts:
            p = os.path.join(self.layout, "blobs", "sha256", parts[-1][7:])
            if not os.path.exists(p):
                return self.send(404)
            data = open(p, "rb").read()
            rng = self.headers.get("Range")
            if rng:
                Fake.ranges.append(rng)
            if Fake.mode == "resume" and rng and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0])
                return self.send(206, data[start:], [
                    ("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")])
            if Fake.mode == "stall" and len(data) > 100000:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                Fake.release.wait(timeout=120)
                self.wfile.write(data[len(data) // 2:])
                return
            if (Fake.mode == "drop" or (Fake.mode in ("resume", "norange") and not Fake.dropped)) \
                    and len(data) > 100000:
                Fake.dropped = True
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            return self.send(200, data)
        return self.send(404)


@pytest.fixture
def fake(rootfs, tmp_root):
    lay = os.path.join(tmp_root, "fake-layout")
    imagelib.write_layout(lay, [imagelib.tar_of_dir(rootfs)], name="x")
    Fake.layout, Fake.mode, Fake.ranges, Fake.dropped = lay, "ok", [], False
    Fake.release = threading.Event()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    Fake.port = srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"127.0.0.1:{Fake.port}"
    finally:
        Fake.release.set()
        srv.shutdown()
        srv.server_close()


def test_bearer_token_and_faults(isola, fake, tmp_root):
    store = os.path.join(tmp_root, "store")
    ref = f"{fake}/r:1"
    p = iso(isola, "pull", "--root", store, ref)
    assert p.returncode == 1 and "token" in p.stderr and "401" in p.stderr
    creds = ["--creds", "bob:pw"]
    Fake.mode = "error"
    p = iso(isola, "pull", "--root", store, *creds, ref)
    assert p.returncode == 1 and "HTTP 500" in p.stderr and "storage on fire" in p.stderr
    Fake.mode = "drop"
    p = iso(isola, "pull", "--root", store, *creds, ref)
    assert p.returncode == 1 and "pull" in p.stderr, p.stderr
    # No partial image, nothing half-written, the store is consistent.
    assert json.loads(iso(isola, "images", "--root", store, "--format", "json").stdout) == []
    assert os.listdir(os.path.join(store, "tmp")) == []
    assert iso(isola, "image", "check", "--root", store).returncode == 0
    # The interrupted pull restarts cleanly.
    Fake.mode = "ok"
    p = iso(isola, "pull", "--root", store, *creds, ref)
    assert p.returncode == 0, p.stderr
    assert iso(isola, "image", "check", "--root", store).returncode == 0


def test_kill_mid_pull_leaves_consistent_store(isola, fake, tmp_root):
    store = os.path.join(tmp_root, "store")
    Fake.mode = "ok"
    p = subprocess.Popen([isola, "pull", "--root", store, "--creds", "bob:pw", f"{fake}/r:1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.05)
    p.kill()
    p.wait(timeout=30)
    names = json.loads(iso(isola, "images", "--root", store, "--format", "json").stdout)
    # Either nothing or the whole image: never a tag on missing blobs.
    assert len(names) <= 1 and all(n["name"] == f"{fake}/r:1" for n in names)
    assert iso(isola, "image", "check", "--root", store).returncode == 0
    assert iso(isola, "image", "prune", "--root", store).returncode == 0
    p = iso(isola, "pull", "--root", store, "--creds", "bob:pw", f"{fake}/r:1")
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("mode", ["resume", "norange"])
def test_dropped_blob_resumes_with_range(isola, fake, tmp_root, mode):
    """A connection dropped mid-blob is resumed with a Range request from the
    partial file (206), or restarted from zero when the server ignores Range."""
    store = os.path.join(tmp_root, "store")
    Fake.mode = mode
    p = iso(isola, "pull", "--root", store, "--creds", "bob:pw", f"{fake}/r:1")
    assert p.returncode == 0, p.stderr
    assert Fake.dropped
    assert len(Fake.ranges) >= 1 and Fake.ranges[0].startswith("bytes="), Fake.ranges
    assert int(Fake.ranges[0][6:].split("-")[0]) > 0
    assert "fetched" in p.stdout
    assert iso(isola, "image", "check", "--root", store).returncode == 0
    assert os.listdir(os.path.join(store, "tmp")) == []
    names = json.loads(iso(isola, "images", "--root", store, "--format", "json").stdout)
    assert [n["name"] for n in names] == [f"{fake}/r:1"]


def partial_blobs(store, count, procs):
    """Wait (bounded) until ROOT/tmp holds `count` temporary blobs of the stalled
    layer (more than 50 kB: mode stall sends half of a blob of more than 100 kB;
    the small config and manifests pass through tmp too), i.e. the pulls are
    mid-blob; returns their names."""
    tmp = os.path.join(store, "tmp")
    for _ in range(600):
        names = []
        for n in os.listdir(tmp) if os.path.isdir(tmp) else []:
            try:
                if os.path.getsize(os.path.join(tmp, n)) > 50000:
                    names.append(n)
            except FileNotFoundError:  # a complete blob renamed away
                pass
        names.sort()
        if len(names) >= count:
            return names
        for p in procs:
            assert p.poll() is None, f"pull ended early: {p.returncode}"
        time.sleep(0.05)
    raise AssertionError(f"no {count} partial blobs in {tmp}: {os.listdir(tmp)}")


def start_pull(isola, store, ref):
    return subprocess.Popen([isola, "pull", "--root", store, "--creds", "bob:pw", "-q", ref],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["INT", "TERM", "HUP"])
def test_signal_mid_blob_removes_the_partial_blob(isola, fake, tmp_root, sig):
    """Ctrl-C (or SIGTERM, SIGHUP) mid-blob: the pull dies of the signal and its
    partial blob is gone from ROOT/tmp (docs/images.md)."""
    store = os.path.join(tmp_root, "store")
    Fake.mode = "stall"
    p = start_pull(isola, store, f"{fake}/r:1")
    try:
        partial_blobs(store, 1, [p])
        p.send_signal(sig)
        assert p.wait(timeout=30) == -sig
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)
    assert os.listdir(os.path.join(store, "tmp")) == []
    assert json.loads(iso(isola, "images", "--root", store, "--format", "json").stdout) == []


def test_killed_pull_is_cleaned_by_the_next_store_command(isola, fake, tmp_root):
    """A SIGKILLed pull cannot clean up: the next command that opens the store
    removes its partial blob, but not that of a pull still running, which then
    completes."""
    store = os.path.join(tmp_root, "store")
    ref = f"{fake}/r:1"
    Fake.mode = "stall"
    alive = start_pull(isola, store, ref)
    killed = None
    try:
        [mine] = partial_blobs(store, 1, [alive])
        killed = start_pull(isola, store, ref)
        both = partial_blobs(store, 2, [alive, killed])
        killed.kill()
        killed.wait(timeout=30)
        assert len(both) == 2 and mine in both
        assert iso(isola, "images", "--root", store).returncode == 0
        assert os.listdir(os.path.join(store, "tmp")) == [mine]
        Fake.release.set()
        assert alive.wait(timeout=120) == 0
    finally:
        for p in (alive, killed):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    assert os.listdir(os.path.join(store, "tmp")) == []
    names = json.loads(iso(isola, "images", "--root", store, "--format", "json").stdout)
    assert [n["name"] for n in names] == [ref]
    assert iso(isola, "image", "check", "--root", store).returncode == 0


def test_pull_quiet_prints_only_the_reference(isola, fake, tmp_root):
    """`pull -q`, as `docker pull -q`: no progress, just the reference, for scripts."""
    store = os.path.join(tmp_root, "store")
    ref = f"{fake}/r:1"
    p = iso(isola, "pull", "--root", store, "--creds", "bob:pw", "-q", ref)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"{ref}\n"
    p = iso(isola, "pull", "--root", store, "--creds", "bob:pw", ref)
    assert p.returncode == 0 and f"Pulled {ref}" in p.stdout and "present" in p.stdout
