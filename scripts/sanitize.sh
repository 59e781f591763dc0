#!/usr/bin/env bash
# Builds memgoosed and its tests under a sanitizer in a build dir of its own and runs ctest there
# (docs/RELIABILITY.md §4):
#   scripts/sanitize.sh asan   ASan + UBSan (MG_SANITIZE) into build-asan/: the whole ctest
#                              suite but bench.quick (speed); scripts/test.sh runs it, so CI
#                              does
#   scripts/sanitize.sh tsan   ThreadSanitizer (MG_TSAN) into build-tsan/: the tests that run
#                              the actors and the front door (the daemon's threads): the
#                              integration tests, the crash matrix, the load test, pytest, and
#                              the storages with threads of their own
# The daemon the integration tests start is the sanitized one, so a report in memgoosed fails
# the test that drove it (exit status, log). Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-asan}
shift || true
# Let a sanitizer's abort end a Boost.Test program: its signal handler otherwise catches
# SIGABRT, and the program can hang after the report (seen under ASan).
export BOOST_TEST_CATCH_SYSTEM_ERRORS=no
case "$kind" in
  asan)
    dir=build-asan
    flags=(-DMG_SANITIZE=ON)
    # Left out under ASan: bench.quick, which measures speed (memgoose-bench is not even built
    # here; it runs in the Release ctest pass of scripts/test.sh). load.short runs with its RSS
    # growth check off (tests/load/CMakeLists.txt: ASan's shadow memory and quarantine grow
    # RSS by design); the SIGKILL loops run in full (docs/RELIABILITY.md §4).
    select=(-E '^bench\.quick$')
    # Everything the rest of ctest runs (the daemon, the CLI, every test program, the plugins
    # the redis example loads); not memgoose-bench.
    targets=(memgoosed memgoose tests/all memgoose_redis_storage memgoose_stale_abi_plugin)
    # Reports fail the run; leaks too. UBSan already aborts (-fno-sanitize-recover).
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/ubsan.supp}
    # print_suppressions=0: the used-suppression table would land in the daemon logs that tests read.
    export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0:suppressions=$PWD/tests/lsan.supp}
    ;;
  tsan)
    dir=build-tsan
    flags=(-DMG_TSAN=ON)
    select=(-R '^(integration\.|crash\.|load\.|python\.|unit\.(file|wiredtiger)_storage_test$)')
    # The daemon and the programs that drive it; of the unit tests only the storages that run
    # threads of their own (file's background compactor, wiredtiger's).
    targets=(memgoosed memgoose tests/integration/all tests/crash/all tests/load/all
             file_storage_test wiredtiger_storage_test)
    # ignore_noninstrumented_modules=1: an intercepted call (recv, memcpy) made from inside an
    # uninstrumented library (libzmq's I/O thread filling a message) is not recorded as that
    # library's access. Its hand-off to our thread goes through its own lock-free queue, which
    # TSan cannot see, and when the writer's stack had left TSan's history ("failed to restore
    # the stack", seen under backpressure_test's flood) race:libzmq.so.5 could not match it.
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$PWD/tests/tsan.supp}
    # TSan makes the daemon 5-15x slower: the tests wait that much longer (their deadlines and
    # client timeouts; harness.h time_scale(), tests/python/mgwire.py), and the build's ctest
    # timeouts are 8x (MG_TEST_TIMEOUT_SCALE). What they assert does not change.
    export MG_TEST_TIME_SCALE=${MG_TEST_TIME_SCALE:-8}
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan|tsan [ctest args]" >&2
    exit 2
    ;;
esac
# -O1 -g1 rather than RelWithDebInfo's -O2 -g: cheaper to compile and link (this build runs
# in CI), and -g1 keeps the line tables that reports need.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" "${flags[@]}" >/dev/null
t0=$SECONDS
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"
echo "== sanitize.sh $kind: build took $((SECONDS - t0)) s"
cd "$dir"
ctest --output-on-failure -j"$(nproc)" --timeout 600 "${select[@]}" "$@"
