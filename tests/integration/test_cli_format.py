"""--format with Docker's Go-template subset (src/cli/cli_template.c) for ps,
images, inspect, volume ls and network ls: fields, nested fields, json,
lower/upper, pipes, `table` with Docker's headers and tabwriter columns,
and an unknown field as an error (exit 125); ps's table shape compared with
podman's."""
import json
import re

from test_engine_cli import IMAGE, eng, podman  # noqa: F401 (fixtures)


def test_ps_templates(eng):
    cid = eng.ok("create", "--name", "fmt-one", "--label", "tier=db", IMAGE, "true").strip()
    eng.ok("create", "--name", "fmt-two-longer-name", IMAGE, "true")
    out = eng.ok("ps", "-a", "--format", "{{.ID}} {{.Names}} {{.Status}} {{.Image}}")
    assert f"{cid[:12]} fmt-one Created {IMAGE}\n" in out
    assert eng.ok("ps", "-a", "--filter", "name=fmt-one", "--format",
                  "{{upper .Names}}|{{.Names | lower}}|{{.Label \"tier\"}}|{{.Labels}}") == \
        "FMT-ONE|fmt-one|db|tier=db\n"
    row = json.loads(eng.ok("ps", "-a", "--filter", "name=fmt-one", "--format", "{{json .}}"))
    assert row["Names"] == "fmt-one" and row["ID"] == cid[:12]
    # literal text and the \t, \n escapes as Docker's CLI replaces them
    assert eng.ok("ps", "-a", "--filter", "name=fmt-one", "--format",
                  r"name:\t{{.Names}}\nstate:\t{{.State}}") == "name:\tfmt-one\nstate:\tcreated\n"
    # table: Docker's headers, columns as its tabwriter (widest + 3, at least 10)
    lines = eng.ok("ps", "-a", "--format", r"table {{.ID}}\t{{.Names}}\t{{.Status}}").splitlines()
    assert lines[0] == "CONTAINER ID   NAMES                 STATUS"
    assert len(lines) == 3
    assert lines[1].index("fmt-") == lines[0].index("NAMES")
    assert lines[1].index("Created") == lines[0].index("STATUS")
    # no container: the header alone
    assert eng.ok("ps", "--format", r"table {{.ID}}\t{{.RunningFor}}") == \
        "CONTAINER ID   CREATED\n"


def test_unknown_fields_and_bad_templates(eng):
    eng.ok("create", "--name", "fmt-bad", IMAGE, "true")
    for args in (["ps", "-a"], ["images"], ["volume", "ls"], ["network", "ls"],
                 ["inspect", "fmt-bad"]):
        if args[0] == "volume":
            eng.ok("volume", "create", "fmt-vol")
        p = eng(*args[:-1] if args[0] == "inspect" else args, "--format", "{{.Nope}}",
                *(args[-1:] if args[0] == "inspect" else []))
        assert p.returncode == 125, (args, p.stdout, p.stderr)
        assert "can't evaluate field Nope" in p.stderr, (args, p.stderr)
    p = eng("ps", "-a", "--format", "{{.Names")
    assert p.returncode == 125 and "unclosed action" in p.stderr
    p = eng("ps", "-a", "--format", "{{frob .Names}}")
    assert p.returncode == 125 and 'function "frob" not defined' in p.stderr


def test_inspect_nested_fields(eng):
    eng.ok("create", "--name", "fmt-insp", "--label", "k=v", "-e", "A=1", IMAGE, "echo", "hi")
    doc = eng.inspect("fmt-insp")
    out = eng.ok("inspect", "--format", "{{.State.Status}} {{.Name}} {{index .Config.Labels \"k\"}}",
                 "fmt-insp")
    assert out == "created /fmt-insp v\n"
    assert json.loads(eng.ok("inspect", "-f", "{{json .Config}}", "fmt-insp")) == doc["Config"]
    # Go's %v of a list
    assert eng.ok("inspect", "-f", "{{.Config.Cmd}}", "fmt-insp") == "[echo hi]\n"
    assert eng.ok("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", "fmt-insp") == \
        "false 0\n"
    assert eng.ok("container", "inspect", "-f", "{{.State.Status}}", "fmt-insp") == "created\n"
    p = eng("container", "inspect", "--format", "{{.State.Nope}}", "fmt-insp")
    assert p.returncode == 125 and "can't evaluate field Nope" in p.stderr
    # one line per object; an image too
    out = eng.ok("inspect", "-f", "{{.Id}}", "fmt-insp", IMAGE).splitlines()
    assert out[0] == doc["Id"] and out[1].startswith("sha256:")


def test_images_volumes_networks(eng):
    out = eng.ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    assert re.fullmatch(rf"{IMAGE}:latest [0-9a-f]{{12}}\n", out), out
    lines = eng.ok("images", "--format", r"table {{.Repository}}\t{{.ID}}\t{{.Size}}").splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["REPOSITORY", "IMAGE ID", "SIZE"]
    assert lines[1].startswith(IMAGE)
    eng.ok("volume", "create", "--label", "x=y", "fmt-v1")
    assert eng.ok("volume", "ls", "--format", "{{.Name}} {{.Driver}} {{.Labels}}") == \
        "fmt-v1 local x=y\n"
    lines = eng.ok("volume", "ls", "--format", r"table {{.Name}}\t{{.Driver}}").splitlines()
    assert lines == ["VOLUME NAME   DRIVER", "fmt-v1        local"]
    lines = eng.ok("network", "ls", "--format", r"table {{.ID}}\t{{.Name}}").splitlines()
    assert lines[0] == "NETWORK ID     NAME"
    assert "bridge" in eng.ok("network", "ls", "--format", "{{.Name}}").split()


def test_ps_table_shape_like_podman(eng, podman):
    """The same `table` template gives the same header words, one row per
    container, and the same cells, with isola and podman."""
    fmt = r"table {{.Names}}\t{{.Image}}\t{{.Status}}"
    shapes = {}
    for who, cmd in (("isola", eng), ("podman", podman)):
        extra = ["--network", "none"] if who == "podman" else []
        p = cmd("create", *extra, "--name", f"fmtp-{who}", IMAGE, "true")
        assert p.returncode == 0, p.stderr
        p = cmd("ps", "-a", "--format", fmt)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        shapes[who] = [re.split(r"\s{2,}", ln.strip()) for ln in lines]
        p = cmd("ps", "-a", "--format", "{{.Names}}/{{.Status}}")
        shapes[who + "-plain"] = p.stdout.replace(who, "X")
    assert shapes["isola"][0] == shapes["podman"][0] == ["NAMES", "IMAGE", "STATUS"]
    assert len(shapes["isola"]) == len(shapes["podman"]) == 2
    assert shapes["isola"][1][0] == "fmtp-isola" and shapes["podman"][1][0] == "fmtp-podman"
    assert shapes["isola"][1][2] == shapes["podman"][1][2] == "Created"
    assert shapes["isola-plain"] == shapes["podman-plain"] == "fmtp-X/Created\n"


def test_stats_table_template(eng):
    eng.ok("create", "--name", "fmt-st", IMAGE, "true")
    lines = eng.ok("stats", "--no-stream", "-a", "--format",
                   r"table {{.Name}}\t{{.CPUPerc}}\t{{.PIDs}}", timeout=60).splitlines()
    assert lines == ["NAME      CPU %     PIDS", "fmt-st    0.00%     0"]
