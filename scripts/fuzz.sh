#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/ and runs each one for
# FUZZ_SECONDS seconds starting from its seed corpus in tests/fuzz/corpus/<target>/.
# Exits non-zero on any finding (the crashing input is left in build-fuzz/findings/).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMG_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $(cd tests/fuzz && ls fuzz_*.cc | sed 's/\.cc$//')
mkdir -p build-fuzz/findings
for target in build-fuzz/fuzz/fuzz_*; do
  name=$(basename "$target")
  corpus=tests/fuzz/corpus/$name
  work=build-fuzz/corpus/$name
  mkdir -p "$work" "$corpus"
  echo "fuzz: $name for ${FUZZ_SECONDS}s"
  "$target" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/findings/"$name"- -print_final_stats=0 "$work" "$corpus" \
    2>build-fuzz/"$name".log || { tail -40 build-fuzz/"$name".log; exit 1; }
  grep -E "Done [0-9]+ runs" build-fuzz/"$name".log || true
done
echo "fuzz: no findings"
