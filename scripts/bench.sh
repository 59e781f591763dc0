#!/usr/bin/env bash
# Builds memgoosed (Release, build/), runs every benchmark suite and renders the results:
#   docs/bench/results.json   one JSON object per metric (memgoose-bench --json)
#   docs/bench/results.txt    the tables memgoose-bench printed
#   docs/bench/machine.txt    CPU, cores, RAM, kernel, date, load before and after
#   docs/bench/tables.md      Markdown tables for docs/BENCHMARKS.md (bench/render.py)
#   docs/bench/*.svg          charts (bench/charts.gp, gnuplot-nox from scripts/setup.sh)
# RUNS (default 5) is passed to --runs. Speed targets never fail this script; a metric that
# could not be measured does (memgoose-bench exits 3), after the files above are written.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
OUT=docs/bench
mkdir -p "$OUT"

scripts/build.sh

machine() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cores: $(nproc)"
  echo "ram: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "kernel: $(uname -r)"
}
{
  machine
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: build/bin/memgoose-bench all --runs $RUNS --json $OUT/results.json"
} > "$OUT/machine.txt"

rm -f "$OUT/results.json"
status=0
build/bin/memgoose-bench all --runs "$RUNS" --json "$OUT/results.json" | tee "$OUT/results.txt" ||
  status=$?
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

if [ -s "$OUT/results.json" ]; then
  python3 bench/render.py "$OUT/results.json" "$OUT"
  if command -v gnuplot >/dev/null; then
    gnuplot -e "dir='$OUT'" bench/charts.gp
  else
    echo "bench.sh: gnuplot not installed (scripts/setup.sh installs gnuplot-nox): no charts" >&2
  fi
fi
cat "$OUT/machine.txt"
exit "$status"
