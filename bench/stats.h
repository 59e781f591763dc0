// bench/stats.h — timing helpers: a monotonic clock, percentiles, medians, process RSS, and
// the per-run metrics map every suite fills (name -> value; the suite reports medians).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace mg::bench {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The q-th percentile (0..100) of `v` (sorted in place).
inline double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = size_t(q / 100.0 * double(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

inline double median(std::vector<double> v) {
  return percentile(v, 50);
}

// One run's figures of a suite, by metric name.
using Metrics = std::map<std::string, double>;

// The value of `name` in `m`, 0 when absent (without adding it, as operator[] would).
inline double value_of(const Metrics& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? 0 : it->second;
}

// Sets `<name>_p50_<unit>` and `<name>_p99_<unit>` from latencies in seconds, times `scale`
// (1e6 for "us", 1e3 for "ms").
inline void put_percentiles(Metrics& m, const std::string& name, std::vector<double> seconds,
                            double scale, const std::string& unit) {
  m[name + "_p50_" + unit] = percentile(seconds, 50) * scale;
  m[name + "_p99_" + unit] = percentile(seconds, 99) * scale;
}

// Resident set size of this process in bytes.
inline size_t rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long pages = 0, resident = 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return size_t(resident) * 4096;
}

}  // namespace mg::bench
