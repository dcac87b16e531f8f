#!/bin/sh
# Start-up cost of the `isola` front end (results in docs/development.md,
# "Start-up cost"): wall time (hyperfine -N) and peak RSS (/usr/bin/time %M) of
# commands that need neither libcurl nor libarchive, with the static isola-oci
# as the floor. With BEFORE (another build's src/cli directory, holding isola
# and isola-vmm) the same commands run with that build too.
#   bench/cli-startup.sh [RUNS] [BEFORE_DIR]       (needs hyperfine; builds first)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-200}
before=${2:-}
work=$(mktemp -d /tmp/isola-bench-startup-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root"

set -- "$PWD/build/src/cli"
[ -n "$before" ] && set -- "$before" "$@"
cmds="--version|images --root $work/root|vm run --kernel $work/missing-kernel"

# Each command once per build, same order: hyperfine -N (no shell), warm cache.
for d in "$@"; do
    echo "== $d"
    ldd "$d/isola" | wc -l | sed 's/^/shared libraries (ldd): /'
done
header=1
IFS='|'
for c in $cmds; do
    set --
    for d in ${before:+"$before"} "$PWD/build/src/cli"; do
        set -- "$@" "$d/isola $c"
    done
    IFS=' '
    hyperfine -N -i -w 10 -r "$runs" --export-markdown "$work/md" "$@" >/dev/null 2>&1
    [ $header = 1 ] && head -n 2 "$work/md"
    header=0
    tail -n +3 "$work/md"
    for x in "$@"; do
        # shellcheck disable=SC2086
        /usr/bin/time -f "%M KiB peak RSS: $x" $x >/dev/null 2>"$work/t" || true
        tail -n 1 "$work/t"
    done
    IFS='|'
done
IFS=' '
hyperfine -N -w 10 -r "$runs" --export-markdown "$work/md" "$PWD/build/src/cli/isola-oci --version" \
    >/dev/null 2>&1
tail -n +3 "$work/md"
/usr/bin/time -f "%M KiB peak RSS: isola-oci --version" build/src/cli/isola-oci --version \
    >/dev/null 2>"$work/t"
tail -n 1 "$work/t"
