// bench/report.cc — Report (see suites.h): the table on stdout, the JSON lines for
// scripts/bench.sh, and the check that every expected metric was measured.
//
// One JSON object per metric and line, for example:
//   {"suite":"daemon","metric":"find_one_p50_us","docs":100000,"median":41.2,
//    "runs":[40.1,41.2,44.0],"baseline":"echo_rtt_p50_us","ratio":"find_one_p50_vs_echo"}
//   {"suite":"daemon","metric":"find_one_p50_vs_echo",...,"target":"<=","target_value":1.3,
//    "met":true}
//   {"suite":"daemon","metric":"redis_get_50_clients_rps",...,"median":null,"runs":[],
//    "missing":"/usr/bin/redis-server is not installed"}
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "bench/stats.h"
#include "bench/suites.h"

namespace mg::bench {

namespace {

// A JSON string literal (metric names and reasons are plain text; quote what needs it).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

SuiteOptions with_defaults(SuiteOptions opts, uint64_t docs, int runs) {
  if (opts.docs == 0) opts.docs = opts.quick ? 3000 : docs;
  if (opts.runs <= 0) opts.runs = opts.quick ? 1 : runs;
  return opts;
}

bool Report::Row::met() const {
  if (!missing.empty() || target_op.empty()) return false;
  return target_op == "<=" ? median <= target : median >= target;
}

Report::Row& Report::add(const std::string& metric, double median,
                         const std::vector<double>& runs) {
  Row r;
  r.metric = metric, r.median = median, r.runs = runs;
  rows_.push_back(std::move(r));
  return rows_.back();
}

Report::Row& Report::add_missing(const std::string& metric, std::string reason, bool skippable) {
  Row r;
  r.metric = metric, r.missing = std::move(reason), r.skippable = skippable;
  rows_.push_back(std::move(r));
  return rows_.back();
}

Report::Row* Report::find(const std::string& metric) {
  for (auto& r : rows_)
    if (r.metric == metric) return &r;
  return nullptr;
}

void Report::print() const {
  std::printf("%-8s %-36s %14s %-12s %-4s  runs\n", "suite", "metric", "median", "target", "met");
  for (auto& r : rows_) {
    if (!r.missing.empty()) {
      std::printf("%-8s %-36s %14s   (%s)\n", suite_.c_str(), r.metric.c_str(), "missing",
                  r.missing.c_str());
      continue;
    }
    char target[32] = "";
    if (!r.target_op.empty())
      std::snprintf(target, sizeof target, "%s %g", r.target_op.c_str(), r.target);
    std::printf("%-8s %-36s %14.3f %-12s %-4s ", suite_.c_str(), r.metric.c_str(), r.median, target,
                r.target_op.empty() ? "" : (r.met() ? "yes" : "NO"));
    for (double v : r.runs) std::printf(" %.3f", v);
    std::printf("\n");
  }
  std::fflush(stdout);
  if (!opts_.json_path.empty()) write_json();
}

void Report::write_json() const {
  std::ofstream out(opts_.json_path, std::ios::app);
  out.precision(10);
  for (auto& r : rows_) {
    out << "{\"suite\":" << quoted(suite_) << ",\"metric\":" << quoted(r.metric)
        << ",\"docs\":" << opts_.docs << ",\"quick\":" << (opts_.quick ? "true" : "false");
    if (!r.missing.empty()) {
      out << ",\"median\":null,\"runs\":[],\"missing\":" << quoted(r.missing) << "}\n";
      continue;
    }
    out << ",\"median\":" << r.median << ",\"runs\":[";
    for (size_t i = 0; i < r.runs.size(); ++i) out << (i ? "," : "") << r.runs[i];
    out << "]";
    if (!r.baseline.empty())
      out << ",\"baseline\":" << quoted(r.baseline) << ",\"ratio\":" << quoted(r.ratio);
    if (!r.target_op.empty())
      out << ",\"target\":" << quoted(r.target_op) << ",\"target_value\":" << r.target
          << ",\"met\":" << (r.met() ? "true" : "false");
    out << "}\n";
  }
}

std::vector<std::string> Report::problems(const std::vector<std::string>& expected) const {
  std::vector<std::string> out;
  for (auto& name : expected) {
    const Row* row = nullptr;
    for (auto& r : rows_)
      if (r.metric == name) row = &r;
    if (!row) {
      out.push_back(suite_ + "/" + name + ": not reported");
    } else if (!row->missing.empty()) {
      if (!row->skippable) out.push_back(suite_ + "/" + name + ": missing (" + row->missing + ")");
    } else if (!std::isfinite(row->median) || row->median <= 0) {
      out.push_back(suite_ + "/" + name + ": " + std::to_string(row->median) +
                    " is not a finite positive number");
    }
  }
  return out;
}

void Report::add_runs(const std::vector<std::string>& expected,
                      const std::map<std::string, std::vector<double>>& runs,
                      const std::map<std::string, std::string>& skipped) {
  for (auto& name : expected) {
    if (auto it = runs.find(name); it != runs.end()) {
      add(name, median(it->second), it->second);
    } else if (auto sk = skipped.find(name); sk != skipped.end()) {
      add_missing(name, sk->second, true);
    } else {
      add_missing(name, "not measured", false);
    }
  }
  for (auto& [name, values] : runs)
    if (std::find(expected.begin(), expected.end(), name) == expected.end())
      add(name, median(values), values);
}

int Report::finish(const std::vector<std::string>& expected) const {
  print();
  auto found = problems(expected);
  for (auto& p : found) std::fprintf(stderr, "memgoose-bench: %s\n", p.c_str());
  return int(found.size());
}

}  // namespace mg::bench
