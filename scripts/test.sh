#!/bin/sh
# The test command: install dependencies, build (normal and sanitizer), check
# formatting, run the unit tests in both builds and the integration suite.
# Ends with "N passed, N failed, N skipped". Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh --asan
fmt_fail=0
if ! ./scripts/check-format.sh; then
    fmt_fail=1
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
set +e
/usr/bin/python3 tests/runner.py --unit build --unit build-asan --integration build "$@"
rc=$?
set -e
if [ $fmt_fail = 1 ]; then
    echo "format check failed (run scripts/check-format.sh --fix)"
    exit 1
fi
exit $rc
