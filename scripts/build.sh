#!/bin/sh
# Configure and build isola: build/ (release-like, -Werror) and, with --asan,
# build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer). Quiet on success;
# on failure the compiler's output is shown.
set -eu
cd "$(dirname "$0")/.."
asan=0
[ "${1:-}" = "--asan" ] && asan=1

quiet() {
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "build failed: $*" >&2
        exit 1
    fi
    rm -f "$log"
}

[ -d build ] || quiet meson setup build
quiet ninja -C build
if [ $asan = 1 ]; then
    [ -d build-asan ] || quiet meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
    quiet ninja -C build-asan
fi
