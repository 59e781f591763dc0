#!/usr/bin/env bash
# Builds memgoosed and its tests under a sanitizer in a build dir of its own and runs ctest there
# (docs/RELIABILITY.md):
#   scripts/sanitize.sh asan   ASan + UBSan (MG_SANITIZE) into build-asan/: the whole ctest suite
#                              except bench.quick (timings, and the slowest entry under ASan;
#                              memgoose-bench is not even built)
#   scripts/sanitize.sh tsan   ThreadSanitizer (MG_TSAN) into build-tsan/: the tests that run
#                              the actors and the front door (the daemon's threads): the
#                              integration tests, the crash matrix, the load test and pytest
# The daemon the integration tests start is the sanitized one, so a report in memgoosed fails
# the test that drove it (exit status, log). Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-asan}
shift || true
case "$kind" in
  asan)
    dir=build-asan
    flags=(-DMG_SANITIZE=ON)
    select=(-E '^bench\.')
    # Reports fail the run; leaks too. UBSan already aborts (-fno-sanitize-recover).
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/ubsan.supp}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
    ;;
  tsan)
    dir=build-tsan
    flags=(-DMG_TSAN=ON)
    select=(-R '^(integration|crash|load|python)\.')
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp}
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan|tsan [ctest args]" >&2
    exit 2
    ;;
esac
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" >/dev/null
# Everything ctest runs (the daemon, the CLI, every test program); not memgoose-bench.
cmake --build "$dir" -j"$(nproc)" --target memgoosed memgoose tests/all
cd "$dir"
ctest --output-on-failure -j"$(nproc)" --timeout 600 "${select[@]}" "$@"
