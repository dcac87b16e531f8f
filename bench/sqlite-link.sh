#!/bin/sh
# What linking libsqlite3 costs every `isola` command (docs/engine.md, "State"):
# relinks build/src/cli/isola with libsqlite3 NEEDED (--no-as-needed) and
# compares `isola --version` with and without it: wall time (hyperfine -N,
# median and min), CPU time (user + sys, less sensitive to a busy host than wall
# time) and peak RSS.
#   bench/sqlite-link.sh [RUNS]        (needs hyperfine; builds first)
#
# 2026-12-07, 2-core VM shared with other jobs (load 6-8), five rounds of 300-1000
# runs; difference with - without:
#   min wall time  +0.27 +0.70 +0.21 +0.60 +0.92 ms  (mean +0.54)
#   user+sys (CPU) +0.41 +1.02 +0.50 +0.87 +0.97 ms  (mean +0.75)
#   median wall    +2.7  +4.8  +0.5  +2.9  +3.2 ms   (the busy host's noise)
#   peak RSS 3636-3744 -> 4236-4504 KiB (+0.6 MB; libsqlite3.so.0.8.6 is 1.4 MB)
# i.e. under the ~1 ms at which the project opens a library with dl_load()
# instead (src/util/dl.h), if not by much.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-1000}
work=$(mktemp -d /tmp/isola-bench-sqlite-XXXXXX)
trap 'rm -rf "$work"' EXIT
ninja -C build src/cli/isola >/dev/null
cp build/src/cli/isola "$work/without"
link=$(cd build && ninja -t commands src/cli/isola | tail -n 1)
(cd build && eval "$(echo "$link" | sed "s# -o src/cli/isola # -o $work/with #") -Wl,--no-as-needed -lsqlite3")
readelf -d "$work/with" | grep -q libsqlite3 || { echo "relink did not add libsqlite3" >&2; exit 1; }
hyperfine -N -i -w 20 -r "$runs" --export-json "$work/j.json" \
    "$work/without --version" "$work/with --version" >/dev/null 2>&1
python3 - "$work/j.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%-8s median %.2f ms  min %.2f ms  user+sys %.2f ms" % (
        r["command"].split("/")[-1].split()[0], r["median"] * 1e3, r["min"] * 1e3,
        (r["user"] + r["system"]) * 1e3))
PY
for x in without with; do
    /usr/bin/time -f "%M KiB peak RSS: $x" "$work/$x" --version >/dev/null 2>"$work/t"
    tail -n 1 "$work/t"
done
