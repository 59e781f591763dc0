#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test (ctest: Boost.Test and
# pytest), then runs each libFuzzer target for FUZZ_SECONDS (default 60) over its corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
FUZZ_SECONDS=${FUZZ_SECONDS:-60} bash scripts/fuzz.sh
