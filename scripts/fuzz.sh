#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into $FUZZ_BUILD_DIR (default
# build-fuzz/) and runs each one for FUZZ_SECONDS seconds (default 60; scripts/test.sh, the CI
# command, uses 30) starting from its seed corpus in tests/fuzz/corpus/<target>/. FUZZ_TARGETS
# (space-separated, e.g. "fuzz_wal fuzz_ejson") limits the run to those targets.
# Exits non-zero on any finding (the crashing input is left in $FUZZ_BUILD_DIR/findings/).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
dir=${FUZZ_BUILD_DIR:-build-fuzz}
targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls fuzz_*.cc | sed 's/\.cc$//')}
CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMG_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++ >/dev/null
# shellcheck disable=SC2086
cmake --build "$dir" -j"$(nproc)" --target $targets
mkdir -p "$dir"/findings
for name in $targets; do
  target=$dir/fuzz/$name
  corpus=tests/fuzz/corpus/$name
  work=$dir/corpus/$name
  mkdir -p "$work" "$corpus"
  echo "fuzz: $name for ${FUZZ_SECONDS}s"
  "$target" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$dir"/findings/"$name"- -print_final_stats=1 "$work" "$corpus" \
    2>"$dir"/"$name".log || { tail -40 "$dir"/"$name".log; exit 1; }
  grep -E "Done [0-9]+ runs|stat::number_of_executed_units" "$dir"/"$name".log || true
done
echo "fuzz: no findings"
