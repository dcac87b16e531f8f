#!/bin/sh
# Configure and build isola: build/ (release-like, -Werror) and, with --asan,
# build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer).
set -eu
cd "$(dirname "$0")/.."
asan=0
[ "${1:-}" = "--asan" ] && asan=1
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
if [ $asan = 1 ]; then
    [ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
    ninja -C build-asan >/dev/null
fi
