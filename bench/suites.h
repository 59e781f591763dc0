// bench/suites.h — the suites of memgoose-bench and how they report.
//
// Each suite runs its measurements --runs times and reports, per metric, the median and every
// run's value, as a table on stdout and (with --json FILE) as JSON for scripts/bench.sh. A row
// may name its baseline metric and the ratio metric that compares them, and carry a target
// (`<= 1.3`, `>= 0.6`): the table then says whether the median meets it. Targets are reported,
// never asserted; what a suite asserts is only that every expected metric was measured
// (present, finite, > 0), so that `memgoose-bench all --quick` can run as a test.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mg::bench {

struct SuiteOptions {
  uint64_t docs = 0;      // documents to load; 0 = the suite's default (quick: a few thousand)
  int runs = 0;           // repetitions; 0 = the suite's default (quick: 1)
  bool quick = false;     // small sizes and one run: seconds in total, for CI
  std::string json_path;  // append results here when set
  std::string memgoosed;  // the daemon binary the daemon suite starts
  std::string endpoint;   // a running memgoosed to measure instead of starting one
  std::vector<std::string> storages;  // backends and scale: only these storages (empty: all)
  // daemon: only these measurements (latency, pipelined, clients, isolation, crud; the load
  // always runs) and not the changes suite; empty: everything.
  std::vector<std::string> only;
};

// `opts` with the suite's defaults filled in for docs and runs.
SuiteOptions with_defaults(SuiteOptions opts, uint64_t docs, int runs);

class Report {
 public:
  struct Row {
    std::string metric;
    double median = 0;
    std::vector<double> runs;
    std::string missing;     // why it was not measured; empty when it was
    bool skippable = false;  // missing for a reason outside the code under test
    std::string baseline;    // name of the baseline metric this row is compared with
    std::string ratio;       // name of the metric holding that comparison
    std::string target_op;   // "<=" or ">=" (empty: no target)
    double target = 0;

    Row& versus(std::string base, std::string ratio_metric) {
      baseline = std::move(base), ratio = std::move(ratio_metric);
      return *this;
    }
    Row& at_most(double v) { return target_op = "<=", target = v, *this; }
    Row& at_least(double v) { return target_op = ">=", target = v, *this; }
    bool met() const;
  };

  Report(std::string suite, const SuiteOptions& opts) : suite_(std::move(suite)), opts_(opts) {}
  Row& add(const std::string& metric, double median, const std::vector<double>& runs);
  // A metric that could not be measured, with the reason (printed and written to JSON).
  Row& add_missing(const std::string& metric, std::string reason, bool skippable);
  // The row of `metric`, or nullptr.
  Row* find(const std::string& metric);
  const std::vector<Row>& rows() const { return rows_; }
  // Prints the table, and appends one JSON object per metric to opts.json_path.
  void print() const;
  // One line per expected metric that is absent, missing (unless skippable), not finite or
  // not > 0; empty when every expected metric was measured.
  std::vector<std::string> problems(const std::vector<std::string>& expected) const;

  // Adds every metric of `expected`, in that order, from `runs` (the median of its values and
  // the values); one absent from `runs` is added as missing: skippable with the reason in
  // `skipped` when it is there, else "not measured". Then adds the other metrics of `runs`
  // (information rows) in name order.
  void add_runs(const std::vector<std::string>& expected,
                const std::map<std::string, std::vector<double>>& runs,
                const std::map<std::string, std::string>& skipped);
  // Prints the report, names each problem of `expected` on stderr, and returns their number.
  int finish(const std::vector<std::string>& expected) const;

 private:
  void write_json() const;

  std::string suite_;
  SuiteOptions opts_;
  std::vector<Row> rows_;
};

// The metrics each suite must report (what `problems` checks).
const std::vector<std::string>& core_metrics();
const std::vector<std::string>& daemon_metrics();
const std::vector<std::string>& aggregate_metrics();  // bench/aggregate_suite.cc

// Each suite measures and returns its report (not yet printed).
Report run_core_suite(const SuiteOptions& opts);
Report run_daemon_suite(const SuiteOptions& opts);
Report run_aggregate_suite(const SuiteOptions& opts);

}  // namespace mg::bench
