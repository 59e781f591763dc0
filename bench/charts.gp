# bench/charts.gp — gnuplot charts of the daemon suite, from the .dat files of bench/render.py.
# Usage: gnuplot -e "dir='docs/bench'" bench/charts.gp   (writes dir/*.svg)
if (!exists("dir")) dir = "docs/bench"
set terminal svg size 960,440 dynamic font "sans,12" background "white" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set yrange [0:*]
set bmargin 4
blue = "#2a6fbb"; grey = "#b0b0b0"; amber = "#e0a030"

set output dir."/throughput.svg"
set title "findOne throughput: memgoosed vs baselines measured in the same run (higher is better)"
set ylabel "operations per second"
set format y "%.0s%c"
plot dir."/throughput.dat" using 2:xtic(1) title "memgoosed" lc rgb blue, \
     "" using 3 title "baseline" lc rgb grey

set output dir."/writes.svg"
set title "writes: memgoosed over tcp (pipelined) vs the engine in-process (core suite, one at a time)"
set ylabel "documents or operations per second"
plot dir."/writes.dat" using 2:xtic(1) title "memgoosed" lc rgb blue, \
     "" using 3 title "engine in-process (0: not measured)" lc rgb grey

set output dir."/latency.svg"
set title "findOne latency, one request in flight (lower is better)"
set ylabel "microseconds"
set format y "%g"
plot dir."/latency.dat" using 2:xtic(1) title "memgoosed" lc rgb blue, \
     "" using 3 title "baseline" lc rgb grey

set output dir."/ratios.svg"
set title "ratios to the baselines, and the targets of issue 3"
set ylabel "ratio"
plot dir."/ratios.dat" using 2:xtic(1) title "measured" lc rgb blue, \
     "" using 3 title "target" lc rgb amber

# ---- per backend (backends suite) and compression (compression suite) ----
backends = "memory file_debounced file_immediate sqlite wiredtiger"
bcolor(i) = word("#2a6fbb #e0a030 #c04040 #50a050 #8060b0", i)
rows(f) = int(system("grep -vc '^#' ".f." 2>/dev/null || true"))

if (rows(dir."/backends.dat") > 0) {
  set output dir."/backends.svg"
  set title "writes per backend through memgoosed, same run (higher is better; log scale)"
  set ylabel "documents or operations per second"
  set logscale y
  set yrange [*:*]
  set format y "%.0s%c"
  plot for [i=2:6] dir."/backends.dat" using i:xtic(1) title word(backends, i-1) lc rgb bcolor(i-1)
  unset logscale y
  set yrange [0:*]
}

if (rows(dir."/backend_latency.dat") > 0) {
  set output dir."/backend_latency.svg"
  set title "findOne by a unique indexed field, 1 of 100k, one in flight (lower is better)"
  set ylabel "microseconds"
  set format y "%g"
  plot for [i=2:6] dir."/backend_latency.dat" using i:xtic(1) title word(backends, i-1) \
       lc rgb bcolor(i-1)
}

if (rows(dir."/compression.dat") > 0) {
  set output dir."/compression.svg"
  set title "WiredTiger table file (<Model>_docs.wt, no log) per compressor, 100k lorem documents"
  set ylabel "MB"
  set format y "%g"
  plot dir."/compression.dat" using 2:xtic(1) title "table file" lc rgb blue
}
