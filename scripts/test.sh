#!/bin/sh
# The test command: install dependencies, build (normal and sanitizer), check
# formatting, run the unit tests in both builds and the integration suite.
# Ends with "N passed, N failed, N skipped". Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh --asan
extra=""
if ! ./scripts/check-format.sh; then
    echo "format check failed (run scripts/check-format.sh --fix)"
    extra="--fail clang-format"
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# shellcheck disable=SC2086
/usr/bin/python3 tests/runner.py $extra --unit build --unit build-asan --integration build "$@"
