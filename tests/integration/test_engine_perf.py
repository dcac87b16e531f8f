"""The engine's cost per container where it scales (docs/engine.md,
"Performance"; bench/engine.sh measures the times). No timing assertions: these
count the work a command does, which does not move with the host's load."""
import os
import re
import shutil
import sqlite3

import pytest

from conftest import run
from test_engine_cli import IMAGE, eng  # noqa: F401 (fixture)


def db_preads(eng, tmp_root, *args):
    """pread64 calls on the database file itself (not -wal or -shm) of one
    `isola ARGS`, and its stdout."""
    if not shutil.which("strace"):
        pytest.skip("strace is not installed (Debian's strace): cannot count reads")
    out = os.path.join(tmp_root, "strace.out")
    p = run(["strace", "-f", "-y", "-e", "trace=pread64", "-e", "signal=none", "-o", out,
             *eng.ns, eng.isola, *args], env=eng.env, timeout=120)
    assert p.returncode == 0, p.stderr
    db = os.path.join(eng.env["ISOLA_ROOT"], "isola.db")
    with open(out) as f:
        n = sum(1 for line in f if re.search(r"pread64\(\d+<" + re.escape(db) + r">", line))
    return n, p.stdout


def test_ps_a_reads_no_config_page_by_page(eng, tmp_root):
    """`ps -a` shows a listing's columns without copying out and parsing
    every row's composed config (each ~9 KB, here ~36 KB with a large
    environment): SQLite picks process.args and the annotations out of it, and
    reads the file through a mapping instead of a pread per page."""
    big = [a for i in range(8) for a in ("-e", f"BIG{i}={'x' * 4000}")]
    n = 12
    for i in range(n):
        eng.ok("create", "--network", "none", "--name", f"big{i}", "--label", f"n={i}", *big,
               IMAGE, "sh", "-c", f"echo {i}")
    # the rows' pages are in the main file, not the WAL (which is read with
    # pread whatever the mapping)
    with sqlite3.connect(os.path.join(eng.env["ISOLA_ROOT"], "isola.db")) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    reads, out = db_preads(eng, tmp_root, "ps", "-a")
    rows = out.splitlines()[1:]
    assert len(rows) == n, out
    # what a user checks: COMMAND and NAMES of each, newest first
    for i, row in enumerate(rows):
        assert f'"sh -c echo {n - 1 - i}"' in row and row.endswith(f"big{n - 1 - i}"), row
    assert eng.ok("ps", "-a", "-q", "--filter", "label=n=3") == \
        eng.ok("ps", "-a", "-q", "--filter", "name=big3")
    # each config spans ~9 pages: a pread per page would be > 100
    assert reads <= n, f"{reads} pread64 calls on the database for ps -a of {n} containers"


def test_run_d_and_rm_f_sync_only_the_store(eng, tmp_root):
    """`run -d` + `rm -f` leaves durable what must survive a power loss (the
    container's config in the store; the database's rows with SQLite's WAL
    at synchronous=NORMAL) and syncs nothing else: not the run dir's files
    (/run is emptied by a reboot anyway), and not a WAL checkpoint at every
    command's close (each CLI was the database's last connection)."""
    if not shutil.which("strace"):
        pytest.skip("strace is not installed (Debian's strace): cannot count syncs")
    # the database exists and the runtime's seccomp cache (written once) is
    # filled before the counted rounds
    eng.ok("create", "--network", "none", "--name", "warm", IMAGE, "true")
    eng.ok("rm", "-f", eng.ok("run", "-d", "--network", "none", IMAGE, "sleep", "600").strip())
    out = os.path.join(tmp_root, "strace.out")
    rounds = 3
    script = " && ".join([f'i=$("{eng.isola}" run -d --network none {IMAGE} sleep 600) && '
                          f'"{eng.isola}" rm -f "$i" >/dev/null'] * rounds)
    # -f follows the monitor too: it exits within rm -f
    p = run(["strace", "-f", "-y", "-e", "trace=fsync,fdatasync,sync_file_range,syncfs",
             "-e", "signal=none", "-o", out, *eng.ns, "sh", "-c", script],
            env=eng.env, timeout=300)
    assert p.returncode == 0, p.stderr
    # what a user checks: nothing is left
    assert eng.ok("ps", "-a", "--format", "{{.Names}}") == "warm\n"
    with open(out) as f:
        syncs = [line.strip() for line in f if re.search(r"\b(fsync|fdatasync|sync_file_range|syncfs)\(",
                                                         line)]
    run_dir = eng.env["ISOLA_RUN_DIR"]
    assert not [s for s in syncs if run_dir in s], "\n".join(syncs)
    # the config.json of each container and its directory; a WAL checkpoint
    # (2) may fall in the window. Before: 14 a round.
    assert len(syncs) <= 2 * rounds + 2, "\n".join(syncs)
