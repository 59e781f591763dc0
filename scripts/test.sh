#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test (ctest: Boost.Test,
# pytest, fuzz corpus replays, the crash-matrix and load short runs), runs each libFuzzer target
# for FUZZ_SECONDS (default 30) over its corpus, then builds and runs the whole ctest suite
# under ASan + UBSan (scripts/sanitize.sh asan; MG_SANITIZE_CI=0 skips it).
# docs/RELIABILITY.md has what each step costs on 2 cores (the CI budget is 30 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash scripts/fuzz.sh
if [ "${MG_SANITIZE_CI:-1}" != 0 ]; then
  bash scripts/sanitize.sh asan
fi
