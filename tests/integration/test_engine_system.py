"""isola system df and system prune (docs/engine.md, "Containers"), with
Docker's columns, units and semantics; the counts are compared with Podman's
`system df` on the same scenario. Each test has a private store (ISOLA_ROOT),
run dir and network namespace (test_engine_cli.Engine)."""
import json
import os

from test_engine_cli import IMAGE, eng, podman, wait_until  # noqa: F401 (fixtures)


def df_rows(eng):
    out = eng.ok("system", "df", "--format", "json")
    return {r["Type"]: r for r in map(json.loads, out.splitlines())}


def scenario(eng):
    """One exited container that wrote 10,000 bytes in its own layer, one
    running one that wrote 5,000 bytes in a named volume, an unused named
    volume."""
    eng.ok("run", "-d", "--network", "none", "--name", "writer", IMAGE,
           "sh", "-c", "head -c 10000 /dev/zero > /f")
    eng.ok("wait", "writer", timeout=60)
    eng.ok("run", "-d", "--network", "none", "--name", "server", "-v", "data:/data", IMAGE,
           "sh", "-c", "head -c 5000 /dev/zero > /data/f; sleep 600")
    eng.ok("volume", "create", "spare")
    wait_until(lambda: "5kB" in eng.ok("system", "df"), "the volume's file")


def test_system_df_columns_counts_and_sizes(eng):
    scenario(eng)
    out = eng.ok("system", "df")
    lines = out.splitlines()
    # Docker's header and row order, Go's tabwriter (min width 10, padding 3)
    assert lines[0] == "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE", out
    assert [ln.split("  ")[0] for ln in lines[1:]] == \
        ["Images", "Containers", "Local Volumes", "Build Cache"], out
    rows = df_rows(eng)
    img = rows["Images"]
    assert (img["TotalCount"], img["Active"]) == ("1", "1"), img
    assert img["Reclaimable"] == "0B (0%)", img  # the only image is in use
    ctr = rows["Containers"]
    # units.HumanSize: decimal, 4 significant digits; the running one wrote
    # into its volume, not its layer
    assert (ctr["TotalCount"], ctr["Active"], ctr["Size"], ctr["Reclaimable"]) == \
        ("2", "1", "10kB", "10kB (100%)"), ctr
    vol = rows["Local Volumes"]
    assert (vol["TotalCount"], vol["Active"], vol["Size"], vol["Reclaimable"]) == \
        ("2", "1", "5kB", "0B (0%)"), vol
    assert rows["Build Cache"] == {"Type": "Build Cache", "TotalCount": "0", "Active": "0",
                                   "Size": "0B", "Reclaimable": "0B"}

    # -v: a row per object
    v = eng.ok("system", "df", "-v")
    sections = ["Images space usage:", "Containers space usage:",
                "Local Volumes space usage:", "Build cache usage: 0B"]
    assert [ln for ln in v.splitlines() if ln in sections] == sections, v
    writer = [ln for ln in v.splitlines() if ln.endswith("   writer")]
    assert len(writer) == 1 and " 10kB " in writer[0] and "Exited (0)" in writer[0], v
    server = [ln for ln in v.splitlines() if ln.endswith("   server")]
    assert len(server) == 1 and "   1   " in server[0], v  # one local volume
    assert [ln.split()[:3] for ln in v.splitlines() if ln.startswith(("data ", "spare "))] == \
        [["data", "1", "5kB"], ["spare", "0", "0B"]], v
    j = json.loads(eng.ok("system", "df", "-v", "--format", "json"))
    assert {c["Names"]: c["Size"] for c in j["Containers"]} == {"writer": "10kB",
                                                                "server": "0B"}
    assert {x["Name"]: x["Links"] for x in j["Volumes"]} == {"data": "1", "spare": "0"}
    assert [(i["Tags"], i["Containers"]) for i in j["Images"]] == [([f"{IMAGE}:latest"], "2")]
    assert eng.ok("system", "df", "--format", "{{.Type}}={{.TotalCount}}") == \
        "Images=1\nContainers=2\nLocal Volumes=2\nBuild Cache=0\n"


def dangling_image(eng, tmp_root):
    """An untagged image: `isola build` without -t."""
    ctx = os.path.join(tmp_root, "ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {IMAGE}\nLABEL dangling=yes\n")
    eng.ok("build", ctx, timeout=120)


def test_system_prune_removes_what_docker_does(eng, tmp_root, rootfs_template):
    scenario(eng)
    anon = eng.ok("volume", "create").strip()
    dangling_image(eng, tmp_root)
    # tagged and unused (kept without -a): another image on the same layer
    eng.ok("import", rootfs_template, "spareimg:1", "/bin/sh", "-c", "echo spare")
    images_before = eng.ok("images", "--format", "json")
    assert len(json.loads(images_before)) == 3, images_before

    # no: nothing goes
    p = eng("system", "prune", "--volumes")
    assert p.returncode == 0 and "Are you sure you want to continue? [y/N]" in p.stdout
    assert "all anonymous volumes not used by at least one container" in p.stdout
    assert "all dangling images" in p.stdout
    assert eng.ok("ps", "-a", "-q", "--filter", "name=writer") != ""

    out = eng.ok("system", "prune", "-f", "--volumes")
    sections = [ln for ln in out.splitlines() if ln.endswith(":")]
    assert sections == ["Deleted Containers:", "Deleted Volumes:", "Deleted Images:"], out
    cid = out.split("Deleted Containers:\n")[1].split("\n")[0]
    assert len(cid) == 64 and "writer" not in eng.ok("ps", "-a", "--format", "{{.Names}}")
    assert out.split("Deleted Volumes:\n")[1].split("\n\n")[0] == anon, out
    deleted = out.split("Deleted Images:\n")[1].split("\n\n")[0].splitlines()
    assert len(deleted) == 1 and deleted[0].startswith("deleted: sha256:"), out
    # the writer's 10 kB layer, the dangling image's config and manifest
    total = out.splitlines()[-1]
    assert total.startswith("Total reclaimed space: ") and total != "Total reclaimed space: 0B"
    vols = eng.ok("volume", "ls", "-q").split()
    assert sorted(vols) == ["data", "spare"]  # named ones stay (Docker 23+)
    names = {i.get("name") for i in json.loads(eng.ok("images", "--format", "json"))}
    assert names == {f"{IMAGE}:latest", "spareimg:1"}, names

    # -a: every image no container is made from; the running one's stays
    out = eng.ok("system", "prune", "-a", "-f")
    assert [ln for ln in out.splitlines() if ln.endswith(":")] == ["Deleted Images:"], out
    deleted = out.split("Deleted Images:\n")[1].split("\n\n")[0].splitlines()
    assert deleted[0] == "untagged: spareimg:1" and deleted[1].startswith("deleted: sha256:") \
        and len(deleted) == 2, out
    names = {i.get("name") for i in json.loads(eng.ok("images", "--format", "json"))}
    assert names == {f"{IMAGE}:latest"}, (names, out)
    assert eng.ok("ps", "--format", "{{.Names}}") == "server\n"
    assert eng.ok("exec", "server", "cat", "/data/f", timeout=60) == "\0" * 5000

    # nothing left to remove: Docker's empty report
    assert eng.ok("system", "prune", "-f") == "Total reclaimed space: 0B\n"


def test_system_df_counts_like_podman(eng, podman):
    """The same scenario under Podman: the same TOTAL and ACTIVE per type
    (Podman has no Build Cache row, and counts sizes its own way)."""
    scenario(eng)
    for args in (["run", "-d", "--network", "none", "--name", "writer", IMAGE,
                  "sh", "-c", "head -c 10000 /dev/zero > /f"],
                 ["wait", "writer"],
                 ["run", "-d", "--network", "none", "--name", "server", "-v", "data:/data",
                  IMAGE, "sh", "-c", "head -c 5000 /dev/zero > /data/f; sleep 600"],
                 ["volume", "create", "spare"]):
        p = podman(*args)
        assert p.returncode == 0, p.stderr
    # podman 4.3 knows no `--format json` here: a template
    p = podman("system", "df", "--format", "{{.Type}}|{{.Total}}|{{.Active}}")
    assert p.returncode == 0, p.stderr
    theirs = {t: (n, a) for t, n, a in (ln.split("|") for ln in p.stdout.splitlines())}
    ours = {t: (r["TotalCount"], r["Active"]) for t, r in df_rows(eng).items()}
    for t in ("Images", "Containers", "Local Volumes"):
        assert ours[t] == theirs[t], (t, ours, theirs)
