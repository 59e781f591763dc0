#!/usr/bin/env bash
# Builds memgoosed (Release, build/), runs every benchmark suite and renders the results:
#   docs/bench/results.json   one JSON object per metric (memgoose-bench --json)
#   docs/bench/results.txt    the tables memgoose-bench printed
#   docs/bench/machine.txt    CPU, cores, RAM, kernel, date, command, load before and after
#   docs/bench/tables.md      Markdown tables for docs/BENCHMARKS.md (bench/render.py)
#   docs/bench/*.svg          charts (bench/charts.gp, gnuplot-nox from scripts/setup.sh)
#
# Usage: scripts/bench.sh [--runs N] [--quick] [SUITE]
#   --runs N   repetitions of every suite; each metric is the median over them (default: RUNS,
#              or else each suite's own: core, daemon, changes, backends 5; scale and
#              compression 1 — the slow ones)
#   --quick    small sizes, one run (what ctest bench.quick runs), into docs/bench as well
#   SUITE      all (default), core, daemon, backends, scale or compression
# `all` at the default sizes takes a long while: the scale suite loads 1M documents into every
# persistent backend and restarts it, once per run; the compression suite writes 100k 3.8 KB
# documents per compressor. Speed targets never fail this script; a metric that could not be
# measured does (memgoose-bench exits 3), after the files above are written.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-}
QUICK=()
SUITE=all
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --runs=*) RUNS=${1#--runs=}; shift ;;
    --quick) QUICK=(--quick); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) SUITE=$1; shift ;;
  esac
done
OUT=docs/bench
mkdir -p "$OUT"

scripts/build.sh

machine() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cores: $(nproc)"
  echo "ram: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "kernel: $(uname -r)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
}
RUNS_ARG=()
[ -n "$RUNS" ] && RUNS_ARG=(--runs "$RUNS")
CMD=(build/bin/memgoose-bench "$SUITE" "${RUNS_ARG[@]}" "${QUICK[@]}" --json "$OUT/results.json")
{
  machine
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: ${CMD[*]}"
} > "$OUT/machine.txt"

rm -f "$OUT/results.json"
status=0
"${CMD[@]}" | tee "$OUT/results.txt" || status=$?
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

if [ -s "$OUT/results.json" ]; then
  /usr/bin/python3 bench/render.py "$OUT/results.json" "$OUT"
  if command -v gnuplot >/dev/null; then
    gnuplot -e "dir='$OUT'" bench/charts.gp
  else
    echo "bench.sh: gnuplot not installed (scripts/setup.sh installs gnuplot-nox): no charts" >&2
  fi
fi
cat "$OUT/machine.txt"
exit "$status"
