"""Docker-compatibility gaps closed, against a private dockerd
(test_engine_docker.py's fixtures; all in this one module, so that a pytest
session starts one dockerd): `ps -l/-n/-s`, and `isola inspect`'s Docker
fields that users script against (Config.User, .Entrypoint, .ExposedPorts,
.OpenStdin, HostConfig.Privileged, .ReadonlyRootfs, .CapAdd, .CapDrop,
.NetworkMode, .PortBindings, .Binds, ResolvConfPath, HostsPath,
HostnamePath, Platform, Driver): the same commands given to isola and to
dockerd give the same JSON types and values. Each engine's containers are
removed in every outcome (the engines fixture).
"""
import json
import os
import re
import time

from test_engine_docker import (IMAGE as DIMAGE, disagree, engines, get, json_type,  # noqa: F401
                                net, podman, uname)
from test_network_run import IMAGE, ne  # noqa: F401 (fixture)

FIELDS = ["Config.User", "Config.Entrypoint", "Config.ExposedPorts", "Config.OpenStdin",
          "HostConfig.Privileged", "HostConfig.ReadonlyRootfs", "HostConfig.CapAdd",
          "HostConfig.CapDrop", "HostConfig.NetworkMode", "HostConfig.PortBindings",
          "HostConfig.Binds", "ResolvConfPath", "HostsPath", "HostnamePath", "Platform",
          "Driver"]
VALUES = [f for f in FIELDS if f not in ("ResolvConfPath", "HostsPath", "HostnamePath",
                                         "Driver")]


def test_inspect_docker_fields(engines, tmp_root):
    src = os.path.join(tmp_root, "bindsrc")
    os.makedirs(src)
    res = {}
    for who, e in engines.items():
        if who == "podman":
            continue  # Docker is the reference here
        plain, full = uname(), uname()
        p = e("create", "--name", plain, "--network", "none", DIMAGE, "sleep", "100")
        assert p.returncode == 0, p.stderr
        p = e("create", "--name", full, "--network", "none", "-i", "-u", "1000",
              "--entrypoint", "/bin/sh", "--read-only", "--cap-add", "NET_ADMIN",
              "--cap-drop", "CHOWN", "-v", f"{src}:/mnt:ro", DIMAGE, "-c", "sleep 100")
        assert p.returncode == 0, p.stderr
        docs = [json.loads(e("inspect", n).stdout)[0] for n in (plain, full)]
        e("rm", "-f", plain, full)
        r = {}
        for i, o in enumerate(docs):
            for k in FIELDS:
                v = get(o, k)
                r[(i, k, "type")] = "missing" if v is KeyError else json_type(v)
            for k in VALUES:
                v = get(o, k)
                r[(i, k)] = "missing" if v is KeyError else v
        r["driver"] = docs[0].get("Driver")
        res[who] = r
    assert res["isola"]["driver"] == "overlay2"
    del res["isola"]["driver"], res["docker"]["driver"]  # dockerd's own storage driver
    for k in res["isola"]:
        disagree({who: r[k] for who, r in res.items()}, f"inspect {k}")
    got = res["isola"]
    assert (got[(1, "Config.User")], got[(1, "Config.Entrypoint")],
            got[(1, "Config.OpenStdin")], got[(1, "HostConfig.ReadonlyRootfs")],
            got[(1, "HostConfig.CapAdd")], got[(1, "HostConfig.Binds")]) == \
        ("1000", ["/bin/sh"], True, True, ["NET_ADMIN"], [f"{src}:/mnt:ro"])


def test_inspect_published_ports(ne):
    """Docker's ExposedPorts, PortBindings and NetworkMode of -p on a user
    network (isola only: the private dockerd has no bridge to publish on)."""
    ne.ok("network", "create", "--subnet", "10.94.0.0/24", "ipn")
    ne.ok("create", "--name", "ip1", "--network", "ipn", "-p", "18080:80",
          "-p", "127.0.0.1:18081:81/udp", IMAGE, "sleep", "100")
    o = ne.inspect("ip1")
    assert o["Config"]["ExposedPorts"] == {"80/tcp": {}, "81/udp": {}}
    assert o["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": "18080"}],
        "81/udp": [{"HostIp": "127.0.0.1", "HostPort": "18081"}]}
    assert o["HostConfig"]["NetworkMode"] == "ipn"
    for k, f in (("ResolvConfPath", "resolv.conf"), ("HostsPath", "hosts"),
                 ("HostnamePath", "hostname")):
        assert os.path.basename(o[k]) == f and os.path.exists(o[k]), (k, o[k])
    ne.ok("rm", "-f", "ip1")
    ne.ok("network", "rm", "ipn")


def test_ps_latest_last_and_size(engines):
    """-l, -n N and -s against a private dockerd (test_engine_docker.py)."""
    size_re = re.compile(r"^\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?[kMG]?B\)$")
    res = {}
    for who, e in engines.items():
        if who == "podman":
            continue  # Docker is the reference here
        names = [uname() for _ in range(3)]
        for i, n in enumerate(names):
            if i == 1:
                p = e("run", "-d", "--name", n, *net(who), DIMAGE, "sleep", "100")
            else:
                p = e("create", "--name", n, *net(who), DIMAGE, "sleep", "100")
            assert p.returncode == 0, p.stderr
            time.sleep(1.1)  # distinct creation seconds, for Docker's order

        def idx(out):
            return [names.index(x) if x in names else x for x in out.split()]

        r = {"latest": idx(e("ps", "-l", "--format", "{{.Names}}").stdout),
             "latest-long": idx(e("ps", "--latest", "--format", "{{.Names}}").stdout),
             "last2": idx(e("ps", "-n", "2", "--format", "{{.Names}}").stdout),
             "last5": idx(e("ps", "--last", "5", "--format", "{{.Names}}").stdout),
             "last-filtered": idx(e("ps", "-n", "1", "--filter", "status=running",
                                    "--format", "{{.Names}}").stdout)}
        table = e("ps", "-s", "-a", "--filter", f"name={names[1]}").stdout.splitlines()
        r["size-header"] = re.split(r"\s{2,}", table[0].strip())
        cells = re.split(r"\s{2,}", table[1].strip())
        r["size-cell"] = bool(size_re.match(cells[-1])) or cells[-1]
        e("rm", "-f", *names)
        res[who] = r
    for k in res["isola"]:
        disagree({who: r[k] for who, r in res.items()}, f"ps {k}")
    assert res["isola"]["latest"] == [2] and res["isola"]["last2"] == [2, 1]
    assert res["isola"]["size-header"][-1] == "SIZE"
