# SPDX-License-Identifier: GPL-2.0-or-later
"""isola-oci mounts and devices next to crun and runc (issue 11, "Mounts and
devices"; issue 10, bind options): each bundle is run by isola-oci and by the
peers on this host, and what the container sees is compared.

crun 1.8.1 refuses this host's v1/v2 hybrid cgroups, so it runs in a private
mount namespace with /sys/fs/cgroup/unified unmounted (as bench/oci-run.sh
does). The peer configs carry no cgroup namespace and no cgroup mount (crun
needs the v2 tree for those)."""
import contextlib
import copy
import json
import os
import shutil
import stat
import subprocess

import pytest

from conftest import run
from test_oci_config import sh

USERNS_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def peer_config(oci, userns=False):
    """The same bundle for every runtime: no cgroup namespace or mount, the real
    rootfs path (runc refuses a symlink), ociVersion 1.0.2 (crun 1.8.1 knows no
    newer one). With userns, the rootfs and the test directory belong to the
    container's root (host uid 100000)."""
    cfg = copy.deepcopy(oci.config)
    cfg["ociVersion"] = "1.0.2"
    rootfs = os.path.realpath(os.path.join(oci.bundle, "rootfs"))
    cfg["root"]["path"] = rootfs
    cfg["mounts"] = [m for m in cfg["mounts"] if m["type"] != "cgroup"]
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]
    if userns:
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = copy.deepcopy(USERNS_MAP)
        cfg["linux"]["gidMappings"] = copy.deepcopy(USERNS_MAP)
        os.chmod(os.path.dirname(oci.bundle), 0o755)
        os.chmod(oci.bundle, 0o755)
        run(["chown", "-R", "100000:100000", rootfs], check=True)
    return cfg


def run_peer(name, oci, cfg, args, tmp_root):
    """Run cfg with args under runc or crun; returns the CompletedProcess, or
    None when the peer is not installed."""
    exe = shutil.which(name)
    if exe is None:
        return None
    c = copy.deepcopy(cfg)
    c["process"]["args"] = args
    oci.write(c)
    state = os.path.join(tmp_root, "state-" + name)
    cid = new_id(oci) + "-" + name
    if name == "crun":
        argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" --root "$1" run '
                '--bundle "$2" "$3"', exe, state, oci.bundle, cid]
    else:
        argv = [exe, "--root", state, "run", "--bundle", oci.bundle, cid]
    try:
        return run(argv, timeout=60)
    finally:
        subprocess.run([exe, "--root", state, "delete", "--force", cid], capture_output=True,
                       timeout=60)


def new_id(oci):
    """A container id from the test's name without pytest's parameter text."""
    oci.n += 1
    cid = "".join(c if c.isalnum() or c in "_-" else "_" for c in f"{oci.prefix}-{oci.n}")
    oci.ids.append(cid)
    return cid


def run_isola(oci, cfg, args):
    c = copy.deepcopy(cfg)
    c["process"]["args"] = args
    oci.write(c)
    return oci.cmd("run", "--bundle", oci.bundle, new_id(oci))


def run_all(oci, cfg, args, tmp_root, peers=("crun", "runc")):
    """{runtime: CompletedProcess} for isola-oci and each installed peer."""
    p = run_isola(oci, cfg, args)
    out = {"isola-oci": p}
    for name in peers:
        r = run_peer(name, oci, cfg, args, tmp_root)
        if r is not None:
            out[name] = r
    if len(out) == 1:
        pytest.skip("neither crun nor runc is installed: nothing to compare with")
    return out


@contextlib.contextmanager
def host_tmpfs(path, opts):
    """A tmpfs on the host at path for the test's duration."""
    os.makedirs(path, exist_ok=True)
    run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], check=True)
    try:
        yield path
    finally:
        run(["umount", "-l", path], timeout=30)


def mount_opts(text, dest):
    """The per-mount and super-block options of dest in a /proc/self/mountinfo dump."""
    for line in text.splitlines():
        f = line.split()
        if len(f) > 5 and f[4] == dest:
            sep = f.index("-")
            return set(f[5].split(",")), f[sep + 1], set(f[sep + 3].split(","))
    return None


def assert_same(results, fn):
    """fn(stdout) is the same for isola-oci and every peer that succeeded."""
    mine = results["isola-oci"]
    assert mine.returncode == 0, mine.stderr
    for name, r in results.items():
        assert r.returncode == 0, f"{name}: {r.stderr}"
        assert fn(r.stdout) == fn(mine.stdout), f"{name} != isola-oci"


# ---- mounts in a user namespace ----

@pytest.mark.parametrize("opts,dest", [
    (["ro"], "/m"), (["rw", "relatime"], "/m"), (["sync", "dirsync"], "/m"),
    (["nodev", "noexec", "size=2m"], "/m"), (["ro", "nosuid", "noatime", "size=128k"], "/m"),
])
def test_userns_tmpfs_options(oci, tmp_root, opts, dest):
    cfg = peer_config(oci, userns=True)
    cfg["mounts"].append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                          "options": opts})
    res = run_all(oci, cfg, sh("cat /proc/self/mountinfo"), tmp_root)
    # the mount's own flags, and the super block's options but for its ro/rw
    # (crun makes the mount read-only, not the tmpfs)
    assert_same(res, lambda out: (mount_opts(out, dest)[0], mount_opts(out, dest)[2] - {"ro", "rw"}))
    per, _, sb = mount_opts(res["isola-oci"].stdout, dest)
    for o in opts:
        if o.startswith("size="):
            assert "size=" + {"2m": "2048k", "128k": "128k"}[o[5:]] in sb
        elif o in ("sync", "dirsync"):
            assert o in sb
        elif o != "rw":
            assert o in per, per


def test_userns_bind_keeps_locked_flags(oci, tmp_root):
    # A nosuid,nodev,noexec source: remounting the bind read-only inside the
    # user namespace keeps the flags the kernel locked. runc 1.1.5 fails this
    # bundle (its remount drops them: EPERM); crun 1.8.1 prepares the mount in
    # the host's user namespace and clears them. isola-oci keeps the host's
    # restriction (docs/oci-runtime.md), so there is no peer to compare with.
    src = os.path.join(tmp_root, "locked")
    cfg = peer_config(oci, userns=True)
    cfg["mounts"].append({"destination": "/b", "type": "bind", "source": src,
                          "options": ["rbind", "ro"]})
    with host_tmpfs(src, "nosuid,nodev,noexec,size=1m"):
        p = run_isola(oci, cfg, sh("cat /proc/self/mountinfo"))
    assert p.returncode == 0, p.stderr
    per = mount_opts(p.stdout, "/b")[0]
    assert {"ro", "nosuid", "nodev", "noexec"} <= per, per


# ---- bind options, rro, propagation ----

def test_rro_is_recursive(oci, tmp_root):
    src = os.path.join(tmp_root, "tree")
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/t", "type": "bind", "source": src,
                          "options": ["rbind", "rro"]})
    with host_tmpfs(os.path.join(src, "sub"), "size=1m"):
        res = run_all(oci, cfg, sh("touch /t/x 2>/dev/null && echo top-rw || echo top-ro; "
                                   "touch /t/sub/x 2>/dev/null && echo sub-rw || echo sub-ro"),
                      tmp_root)
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout == "top-ro\nsub-ro\n"


def prop_tags(out, dest):
    """The propagation tags of dest in a mountinfo dump: shared, master, unbindable."""
    for line in out.splitlines():
        f = line.split()
        if f[4] == dest:
            return sorted(t.split(":")[0] for t in f[6:f.index("-")])
    return None


# crun 1.8.1 drops `runbindable` and `rshared` on a bind mount (the mount ends
# up private), runc keeps them: compare with runc there.
@pytest.mark.parametrize("prop,tags,peers", [
    ("rprivate", [], ("crun", "runc")),
    ("rshared", ["master", "shared"], ("runc",)),
    ("rslave", ["master"], ("runc",)),
    ("runbindable", ["unbindable"], ("runc",)),
])
def test_bind_propagation(oci, tmp_root, prop, tags, peers):
    src = os.path.join(tmp_root, "p")
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/p", "type": "bind", "source": src,
                          "options": ["rbind", prop]})
    # a shared source on the host, so that a slave has a master to follow
    with host_tmpfs(src, "size=1m"):
        run(["mount", "--make-shared", src], check=True)
        res = run_all(oci, cfg, sh("cat /proc/self/mountinfo"), tmp_root, peers=peers)
    assert_same(res, lambda out: prop_tags(out, "/p"))
    assert prop_tags(res["isola-oci"].stdout, "/p") == tags


def test_rootfs_propagation_unbindable(oci, tmp_root):
    cfg = peer_config(oci)
    cfg["linux"]["rootfsPropagation"] = "unbindable"
    # runc 1.1.5 fails here (it makes the host's / unbindable, then cannot
    # bind the rootfs): compare with crun.
    res = run_all(oci, cfg, sh("cat /proc/self/mountinfo"), tmp_root, peers=("crun",))
    assert_same(res, lambda out: prop_tags(out, "/"))
    assert prop_tags(res["isola-oci"].stdout, "/") == ["unbindable"]


def test_readonly_root_with_masked_paths(oci, tmp_root):
    cfg = peer_config(oci)
    cfg["root"]["readonly"] = True
    cfg["linux"]["maskedPaths"] = ["/proc/keys", "/proc/acpi", "/etc/hostname-masked",
                                   "/masked-dir"]
    os.makedirs(os.path.join(oci.bundle, "rootfs", "masked-dir"), exist_ok=True)
    with open(os.path.join(oci.bundle, "rootfs", "masked-dir", "secret"), "w") as f:
        f.write("secret\n")
    with open(os.path.join(oci.bundle, "rootfs", "etc", "hostname-masked"), "w") as f:
        f.write("secret\n")
    script = ("touch /x 2>/dev/null && echo root-rw || echo root-ro; "
              "cat /etc/hostname-masked | wc -c; ls /masked-dir | wc -l; "
              "touch /masked-dir/y 2>/dev/null && echo mask-rw || echo mask-ro; "
              "stat -c '%n %t:%T' /etc/hostname-masked /proc/keys")
    res = run_all(oci, cfg, sh(script), tmp_root)
    assert_same(res, lambda out: sorted(out.splitlines()))
    lines = res["isola-oci"].stdout.splitlines()
    assert lines == ["root-ro", "0", "0", "mask-ro", "/etc/hostname-masked 1:3",
                     "/proc/keys 1:3"], lines


# ---- mount destinations and types ----

def test_dangling_symlink_destination_created_inside_root(oci, tmp_root):
    root = os.path.join(oci.bundle, "rootfs")
    os.symlink("/var/made-by-mount", os.path.join(root, "dangling"))
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/dangling", "type": "tmpfs", "source": "tmpfs",
                          "options": ["size=1m"]})
    script = "touch /var/made-by-mount/f && grep -c ' /var/made-by-mount ' /proc/self/mountinfo"
    res = run_all(oci, cfg, sh(script), tmp_root)
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout == "1\n"
    assert not os.path.exists("/var/made-by-mount")


def test_overlay_mount_type(oci, tmp_root):
    d = {k: os.path.join(tmp_root, "ov-" + k) for k in ("lower", "upper", "work")}
    for v in d.values():
        os.makedirs(v)
    with open(os.path.join(d["lower"], "from-lower"), "w") as f:
        f.write("lower\n")
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/ov", "type": "overlay", "source": "overlay",
                          "options": [f"lowerdir={d['lower']}", f"upperdir={d['upper']}",
                                      f"workdir={d['work']}"]})
    results = {}
    for name in ("isola-oci", "crun", "runc"):
        shutil.rmtree(d["upper"])
        shutil.rmtree(d["work"])
        os.makedirs(d["upper"])
        os.makedirs(d["work"])
        script = "cat /ov/from-lower; echo new > /ov/written; awk '$5 == \"/ov\" {print $(NF-2)}' " \
                 "/proc/self/mountinfo"
        if name == "isola-oci":
            p = run_isola(oci, cfg, sh(script))
        else:
            p = run_peer(name, oci, cfg, sh(script), tmp_root)
            if p is None:
                continue
        assert p.returncode == 0, f"{name}: {p.stderr}"
        with open(os.path.join(d["upper"], "written")) as f:
            assert f.read() == "new\n", name
        results[name] = p.stdout
    assert results["isola-oci"] == "lower\noverlay\n"
    for name, out in results.items():
        assert out == results["isola-oci"], name


# ---- devices ----

def test_devices_outside_dev_and_nosuid_noexec(oci, tmp_root):
    cfg = peer_config(oci)
    cfg["linux"]["devices"] = [
        {"path": "/opt/devs/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666,
         "uid": 0, "gid": 0},
        {"path": "/dev/kmsg-copy", "type": "c", "major": 1, "minor": 11, "fileMode": 0o600,
         "uid": 0, "gid": 0},
    ]
    script = ("echo hi > /opt/devs/mynull && echo null-ok; stat -c '%t:%T %a' /opt/devs/mynull; "
              "stat -c '%t:%T %a' /dev/kmsg-copy")
    res = run_all(oci, cfg, sh(script), tmp_root)
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout == "null-ok\n1:3 666\n1:b 600\n"


def test_userns_devices_made_by_the_runtime(oci, tmp_root):
    # In a user namespace the init cannot mknod; the node at a path must still
    # be the configured device, not whatever the host has there (host /dev/tty1
    # is 4:1) or nothing (no host /dev/mynull, /opt/devs/n)
    cfg = peer_config(oci, userns=True)
    cfg["linux"]["devices"] = [
        {"path": p, "type": "c", "major": 1, "minor": mi, "fileMode": 0o640, "uid": 0, "gid": 5}
        for p, mi in (("/dev/tty1", 5), ("/dev/mynull", 3), ("/opt/devs/n", 3))]
    script = ("stat -c '%n %t:%T %a %u:%g' /dev/tty1 /dev/mynull /opt/devs/n; "
              "head -c 3 /dev/tty1 | od -An -tx1; echo x > /opt/devs/n && echo ok")
    res = run_all(oci, cfg, sh(script), tmp_root, peers=("crun",))
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout.splitlines() == [
        "/dev/tty1 1:5 640 0:5", "/dev/mynull 1:3 640 0:5", "/opt/devs/n 1:3 640 0:5",
        " 00 00 00", "ok"], res["isola-oci"].stdout


def test_userns_devices_are_host_binds(oci, tmp_root):
    # In a user namespace mknod fails: the host's nodes are bound, and the
    # binds are nosuid,noexec (crun does so for the default devices; runc
    # 1.1.5 leaves them without).
    cfg = peer_config(oci, userns=True)
    cfg["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666,
         "uid": 0, "gid": 0},
    ]
    script = ("stat -c '%n %t:%T' /dev/fuse /dev/null; echo x > /dev/null && echo ok; "
              "awk '$5 ~ /^\\/dev\\/(fuse|null)$/ {print $5, $6}' /proc/self/mountinfo")

    def flags(out, dev):
        for ln in out.splitlines():
            if ln.startswith(dev + " ") and ":" not in ln:
                return set(ln.split()[1].split(",")) - {"relatime"}
        return None
    res = run_all(oci, cfg, sh(script), tmp_root, peers=("crun",))
    assert_same(res, lambda out: (out.splitlines()[:3], flags(out, "/dev/null")))
    out = res["isola-oci"].stdout
    assert out.splitlines()[:3] == ["/dev/fuse a:e5", "/dev/null 1:3", "ok"], out
    for dev in ("/dev/fuse", "/dev/null"):
        assert {"nosuid", "noexec"} <= flags(out, dev), out


# ---- idmapped mounts ----

def idmap_source(tmp_root):
    """A host directory holding a file owned by uid/gid 1000."""
    src = os.path.join(tmp_root, "idsrc")
    os.makedirs(src)
    os.chmod(src, 0o777)
    f = os.path.join(src, "owned")
    with open(f, "w") as fh:
        fh.write("x\n")
    os.chown(f, 1000, 1000)
    return src


def test_idmapped_bind_without_userns(oci, tmp_root):
    # on disk 1000 -> seen as 2000 (the mapping is containerID -> hostID, as
    # written to a user namespace's uid_map)
    src = idmap_source(tmp_root)
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/id", "type": "bind", "source": src,
                          "options": ["rbind", "idmap"],
                          "uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 1}],
                          "gidMappings": [{"containerID": 1000, "hostID": 3000, "size": 1}]})
    res = run_all(oci, cfg, sh("stat -c '%u:%g' /id/owned; grep -c ' /id .*idmapped' "
                               "/proc/self/mountinfo"), tmp_root, peers=("crun",))
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout == "2000:3000\n1\n"


def test_idmapped_bind_in_userns_takes_the_containers_mapping(oci, tmp_root):
    # host root's files, idmapped with the container's own mapping: owned by
    # the container's root, who can write there; what it creates is host root's
    src = idmap_source(tmp_root)
    os.chown(os.path.join(src, "owned"), 0, 0)
    os.chmod(src, 0o755)
    cfg = peer_config(oci, userns=True)
    cfg["mounts"].append({"destination": "/id", "type": "bind", "source": src,
                          "options": ["rbind", "idmap"]})
    script = "stat -c '%u:%g' /id/owned; echo y > $(mktemp /id/created-XXXXXX) && echo wrote"
    res = run_all(oci, cfg, sh(script), tmp_root, peers=("crun",))
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout == "0:0\nwrote\n"
    created = [f for f in os.listdir(src) if f.startswith("created-")]
    assert len(created) == len(res), created
    for f in created:
        st = os.stat(os.path.join(src, f))
        assert (st.st_uid, st.st_gid) == (0, 0), f


def test_idmapped_mount_refused_where_the_kernel_cannot(oci, tmp_root):
    # proc has no FS_ALLOW_IDMAP: a clear error naming the mount and the fs
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/id", "type": "bind", "source": "/proc/self",
                          "options": ["bind"],
                          "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                          "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]})
    p = run_isola(oci, cfg, sh("true"))
    assert p.returncode != 0
    assert "mounts[5]: idmapped mount `/id`: the kernel cannot idmap `/proc/self` (a proc file " \
           "system)" in p.stderr, p.stderr
    assert oci.leftovers(oci.ids[-1]) == []


def test_idmap_option_without_any_mapping_refused(oci, tmp_root):
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/id", "type": "bind", "source": tmp_root,
                          "options": ["bind", "idmap"]})
    p = run_isola(oci, cfg, sh("true"))
    assert p.returncode != 0
    assert "idmapped mount `/id`: no uidMappings/gidMappings on the mount and no user " \
           "namespace" in p.stderr, p.stderr


# crun 1.8.1 drops `noexec` on a plain `bind` in a user namespace; runc keeps it.
@pytest.mark.parametrize("opts,peers", [
    (["rbind", "ro", "nodev"], ("crun", "runc")),
    (["rbind", "rro", "nosuid"], ("crun", "runc")),
    (["bind", "relatime", "noexec"], ("runc",)),
])
def test_userns_bind_options(oci, tmp_root, opts, peers):
    src = os.path.join(tmp_root, "plain")
    os.makedirs(src)
    cfg = peer_config(oci, userns=True)
    cfg["mounts"].append({"destination": "/b", "type": "bind", "source": src, "options": opts})
    res = run_all(oci, cfg, sh("cat /proc/self/mountinfo"), tmp_root, peers=peers)
    assert_same(res, lambda out: mount_opts(out, "/b")[0])
    per = mount_opts(res["isola-oci"].stdout, "/b")[0]
    assert {"ro" if o == "rro" else o for o in opts} - {"bind", "rbind"} <= per, per


@pytest.mark.parametrize("opts,asked", [(["rbind", "noatime"], "noatime"),
                                        (["rbind", "rro", "rstrictatime"], "strictatime")])
def test_userns_bind_locked_atime_is_a_clear_error(oci, tmp_root, opts, asked):
    # The kernel locks the atime setting of a host mount in a user namespace.
    # runc fails with a bare EPERM, crun 1.8.1 drops the option silently.
    src = os.path.join(tmp_root, "plain")
    cfg = peer_config(oci, userns=True)
    cfg["mounts"].append({"destination": "/b", "type": "bind", "source": src, "options": opts})
    with host_tmpfs(src, "relatime,size=1m"):
        p = run_isola(oci, cfg, sh("true"))
    assert p.returncode != 0
    assert (f"mounts[5]: remount `/b`: in a user namespace the kernel keeps the source mount's "
            f"atime setting (`relatime`); `{asked}` cannot be set") in p.stderr, p.stderr


def test_userns_readonly_root_masked_and_idmapped_tmpfs(oci, tmp_root):
    src = os.path.join(tmp_root, "tsrc")
    cfg = peer_config(oci, userns=True)
    cfg["root"]["readonly"] = True
    cfg["mounts"].append({"destination": "/t", "type": "bind", "source": src,
                          "options": ["rbind", "idmap"]})
    script = ("touch /x 2>/dev/null && echo root-rw || echo root-ro; stat -c '%u' /t/f; "
              "ls /sys/firmware | wc -l; stat -c '%t:%T' /proc/keys")
    with host_tmpfs(src, "size=1m"):
        with open(os.path.join(src, "f"), "w") as f:
            f.write("x")
        res = run_all(oci, cfg, sh(script), tmp_root, peers=("crun",))
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout == "root-ro\n0\n0\n1:3\n"


def test_features_report_idmapped_mounts(oci):
    p = oci.cmd("features")
    assert p.returncode == 0, p.stderr
    f = json.loads(p.stdout)
    assert f["linux"]["mountExtensions"]["idmap"]["enabled"] is True
    assert {"idmap", "ridmap", "rro"} <= set(f["mountOptions"])


@pytest.mark.parametrize("opt,sub_uid", [("ridmap", "2000"), ("idmap", "1000")])
def test_ridmap_reaches_submounts(oci, tmp_root, opt, sub_uid):
    # No peer to compare with on this host: crun 1.8.1 loses the submount of an
    # `rbind` with `ridmap`, runc 1.1.5 ignores the mappings of a mount.
    src = idmap_source(tmp_root)
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/id", "type": "bind", "source": src,
                          "options": ["rbind", opt],
                          "uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 1}],
                          "gidMappings": [{"containerID": 1000, "hostID": 2000, "size": 1}]})
    with host_tmpfs(os.path.join(src, "sub"), "size=1m"):
        f = os.path.join(src, "sub", "f")
        open(f, "w").close()
        os.chown(f, 1000, 1000)
        p = run_isola(oci, cfg, sh("stat -c %u /id/owned /id/sub/f"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["2000", sub_uid]


def test_overlay_mount_in_userns(oci, tmp_root):
    # overlay is mountable in a user namespace (Linux 5.11); its directories
    # belong to the container's root
    d = {k: os.path.join(tmp_root, "ov-" + k) for k in ("lower", "upper", "work")}
    cfg = peer_config(oci, userns=True)
    cfg["mounts"].append({"destination": "/ov", "type": "overlay", "source": "overlay",
                          "options": [f"lowerdir={d['lower']}", f"upperdir={d['upper']}",
                                      f"workdir={d['work']}"]})
    script = "cat /ov/from-lower; echo new > /ov/written && cat /ov/written"
    results, errors = {}, {}
    for name in ("isola-oci", "crun"):
        for k, v in d.items():
            shutil.rmtree(v, ignore_errors=True)
            os.makedirs(v)
            os.chown(v, 100000, 100000)
        with open(os.path.join(d["lower"], "from-lower"), "w") as f:
            f.write("lower\n")
        p = run_isola(oci, cfg, sh(script)) if name == "isola-oci" else \
            run_peer(name, oci, cfg, sh(script), tmp_root)
        if p is None:
            continue
        results[name], errors[name] = (p.returncode, p.stdout), p.stderr
        if p.returncode == 0:
            assert os.stat(os.path.join(d["upper"], "written")).st_uid == 100000
    assert results["isola-oci"] == (0, "lower\nnew\n"), errors["isola-oci"]
    assert results.get("crun", results["isola-oci"]) == results["isola-oci"]


def test_idmapped_bind_in_a_joined_userns_takes_its_mapping(oci, tmp_root):
    src = idmap_source(tmp_root)
    os.chown(os.path.join(src, "owned"), 0, 0)
    cfg = peer_config(oci, userns=True)
    # a user namespace held by a process of ours; we write its maps
    holder = subprocess.Popen(["unshare", "-U", "sh", "-c", "read x"], stdin=subprocess.PIPE)
    try:
        path = f"/proc/{holder.pid}/ns/user"
        for _ in range(200):  # until sh runs in the new namespace
            if os.readlink(path) != os.readlink("/proc/self/ns/user"):
                break
            subprocess.run(["sleep", "0.05"], timeout=5)
        for m in ("uid_map", "gid_map"):
            with open(f"/proc/{holder.pid}/{m}", "w") as f:
                f.write("0 100000 65536\n")
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "user"]
        cfg["linux"]["namespaces"].append({"type": "user", "path": path})
        del cfg["linux"]["uidMappings"], cfg["linux"]["gidMappings"]
        cfg["mounts"].append({"destination": "/id", "type": "bind", "source": src,
                              "options": ["rbind", "idmap"]})
        res = run_all(oci, cfg, sh("stat -c '%u:%g' /id/owned"), tmp_root, peers=("crun",))
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout == "0:0\n"


def test_dangling_relative_symlink_to_a_file_destination(oci, tmp_root):
    # a file bind whose destination is a relative dangling symlink (etc/x -> ../srv/x)
    root = os.path.join(oci.bundle, "rootfs")
    os.symlink("../srv/deep/x", os.path.join(root, "etc", "x"))
    src = os.path.join(tmp_root, "file-src")
    with open(src, "w") as f:
        f.write("bound\n")
    cfg = peer_config(oci)
    cfg["mounts"].append({"destination": "/etc/x", "type": "bind", "source": src,
                          "options": ["bind", "ro"]})
    res = run_all(oci, cfg, sh("cat /srv/deep/x; grep -c ' /srv/deep/x ' /proc/self/mountinfo"),
                  tmp_root)
    assert_same(res, lambda out: out)
    assert res["isola-oci"].stdout == "bound\n1\n"


def test_bound_dev_is_left_as_it_is(oci, tmp_root):
    """A /dev bound from elsewhere (usually the host's own) gets no device node
    replaced and no link added (runc's needsSetupDev). The test binds a private
    directory, never the host's /dev."""
    fake = os.path.join(tmp_root, "fakedev")
    os.makedirs(fake)
    with open(os.path.join(fake, "null"), "w") as f:
        f.write("a regular file, not a node\n")
    cfg = peer_config(oci)
    cfg["mounts"] = [m for m in cfg["mounts"] if not m["destination"].startswith("/dev")]
    cfg["mounts"].append({"destination": "/dev", "type": "bind", "source": fake,
                          "options": ["rbind", "rw"]})
    res = run_all(oci, cfg, sh("ls -A /dev; cat /dev/null"), tmp_root, peers=("runc",))
    assert_same(res, lambda out: out)
    assert "a regular file" in res["isola-oci"].stdout
    assert sorted(os.listdir(fake)) == ["null"]
    assert stat.S_ISREG(os.lstat(os.path.join(fake, "null")).st_mode)
