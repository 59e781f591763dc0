// bench/suites.h — the suites of memgoose-bench and how they report.
//
// Each suite runs its measurements --runs times and reports, per metric, the median and every
// run's value, as a table on stdout and (with --json FILE) as JSON for scripts/bench.sh.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mg::bench {

struct SuiteOptions {
  uint64_t docs = 100000;
  int runs = 5;
  std::string json_path;  // append results here when set
};

class Report {
 public:
  Report(std::string suite, const SuiteOptions& opts) : suite_(std::move(suite)), opts_(opts) {}
  void add(const std::string& metric, double median, const std::vector<double>& runs) {
    rows_.push_back({metric, median, runs});
  }
  // Prints the table, and appends one JSON object per metric to opts.json_path.
  void print() const;

 private:
  struct Row {
    std::string metric;
    double median;
    std::vector<double> runs;
  };
  std::string suite_;
  SuiteOptions opts_;
  std::vector<Row> rows_;
};

int run_core_suite(const SuiteOptions& opts);

}  // namespace mg::bench
