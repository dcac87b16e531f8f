"""Helpers for the image tests: OCI layouts written by hand (independent of
isola's own writer), podman configured privately, a busybox image."""
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

import pytest


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_of_dir(path, extra=None):
    """Uncompressed tar of a directory's contents (names without ./)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(path)):
            t.add(os.path.join(path, name), arcname=name)
        for info, data in (extra or []):
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def tar_of_entries(entries):
    """entries: list of (TarInfo, bytes or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def file_entry(name, data, mode=0o644, uid=0, gid=0):
    info = tarfile.TarInfo(name)
    info.mode, info.uid, info.gid, info.size = mode, uid, gid, len(data)
    return info, data


def write_layout(dest, layers, name="test:latest", config_extra=None, gz=True):
    """Write an OCI layout with the given uncompressed layer tars."""
    blobs = os.path.join(dest, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        d = sha256(data)
        with open(os.path.join(blobs, d[7:]), "wb") as f:
            f.write(data)
        return d

    descs, diff_ids = [], []
    for raw in layers:
        diff_ids.append(sha256(raw))
        data = gzip.compress(raw, mtime=0) if gz else raw
        mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else "")
        descs.append({"mediaType": mt, "digest": put(data), "size": len(data)})
    config = {"architecture": "amd64", "os": "linux",
              "created": "2026-01-01T00:00:00Z",
              "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created_by": f"test layer {i}"} for i in range(len(layers))]}
    if config_extra:
        config["config"].update(config_extra)
    cfg = json.dumps(config).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": put(cfg), "size": len(cfg)},
                "layers": descs}
    m = json.dumps(manifest).encode()
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(m),
         "size": len(m), "annotations": {"org.opencontainers.image.ref.name": name}}]}
    with open(os.path.join(dest, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(dest, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return sha256(m), sha256(cfg)


def podman_env(tmp):
    """Private podman configuration (cgroupfs, file events, storage in tmp)."""
    conf = os.path.join(tmp, "containers.conf")
    storage = os.path.join(tmp, "storage.conf")
    with open(conf, "w") as f:
        f.write('[containers]\ndefault_ulimits=["nofile=20000:20000","nproc=32768:32768"]\n'
                '[engine]\ncgroup_manager="cgroupfs"\nevents_logger="file"\n'
                f'events_logfile_path="{tmp}/events.log"\n'
                # the default /run/libpod is shared with every other podman
                # user of this host (and removed under us)
                f'tmp_dir="{tmp}/libpod-tmp"\n')
    with open(storage, "w") as f:
        f.write(f'[storage]\ndriver="overlay"\ngraphroot="{tmp}/graph"\n'
                f'runroot="{tmp}/run"\n')
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = conf
    env["CONTAINERS_STORAGE_CONF"] = storage
    env["TMPDIR"] = tmp
    return env


def need(tool):
    from shutil import which
    if which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/install-deps.sh)")
