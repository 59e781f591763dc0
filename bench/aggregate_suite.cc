// bench/aggregate_suite.cc — `memgoose-bench aggregate`: the aggregation pipeline in-process on
// the memory backend (issue 11's two figures).
//
//   group_avg_docs_per_s       {$group: {_id: "$city", avg: {$avg: "$score"}}} over 1,000,000
//                              documents of the benchmark shape: documents scanned per second
//                              (target >= 10M/s)
//   match_index_group_ms       {$match: {status: "active"}} (the status index, a third of the
//                              documents) + the same $group over 100,000 documents: one pipeline
//   match_index_group_docs_per_s   the documents that pipeline matched, per second
//
// Each figure is the median over --runs runs (each run: several pipelines, best kept).
#include <stdexcept>

#include "bench/shape.h"
#include "bench/stats.h"
#include "bench/suites.h"
#include "core/aggregate.h"
#include "storage/memory_storage.h"

namespace mg::bench {

namespace {

std::unique_ptr<Collection> load(uint64_t n) {
  std::string schema = bench_schema();
  auto c = std::make_unique<Collection>("Bench", make_memory_storage());
  if (!c->open(MpView(schema)).ok()) throw std::runtime_error("open failed");
  std::vector<std::string> docs;
  std::vector<std::string_view> batch;
  for (uint64_t i = 0; i < n; i += 1000) {
    docs.clear();
    for (uint64_t j = i; j < std::min(n, i + 1000); ++j) docs.push_back(bench_doc(j));
    batch.assign(docs.begin(), docs.end());
    auto r = c->insert_many(batch, nullptr);
    if (!r.ok()) throw std::runtime_error(r.status().message);
  }
  return c;
}

// Seconds for one run of `pipeline` over `c`; `count` gets the number of result documents.
double time_pipeline(Collection& c, const std::string& pipeline, size_t& count) {
  double t0 = now_s();
  auto a = Aggregation::compile(MpView(pipeline));
  if (!a.ok()) throw std::runtime_error(a.status().message);
  auto r = a.value()->run(c);
  if (!r.ok() || !r.value()) throw std::runtime_error("aggregate failed");
  double dt = now_s() - t0;
  count = a.value()->result_count();
  return dt;
}

std::string group_pipeline(bool match) {
  std::string p;
  MpWriter w(p);
  w.array_header(match ? 2 : 1);
  if (match) w.map_header(1), w.str("$match"), w.raw(filter_eq("status", "active"));
  w.map_header(1), w.str("$group"), w.map_header(2);
  w.str("_id"), w.str("$city");
  w.str("avg"), w.map_header(1), w.str("$avg"), w.str("$score");
  return p;
}

Metrics one_run(uint64_t big, uint64_t small) {
  Metrics m;
  size_t groups = 0;
  {
    auto c = load(big);
    double best = 1e9;
    for (int i = 0; i < 3; ++i)
      best = std::min(best, time_pipeline(*c, group_pipeline(false), groups));
    if (groups != std::min<uint64_t>(big, 10)) throw std::runtime_error("wrong group count");
    m["group_avg_docs_per_s"] = double(big) / best;
  }
  auto c = load(small);
  std::string p = group_pipeline(true);
  double best = 1e9;
  for (int i = 0; i < 5; ++i) best = std::min(best, time_pipeline(*c, p, groups));
  m["match_index_group_ms"] = best * 1e3;
  m["match_index_group_docs_per_s"] = double((small + 2) / 3) / best;
  return m;
}

}  // namespace

const std::vector<std::string>& aggregate_metrics() {
  static const std::vector<std::string> names = {"group_avg_docs_per_s", "match_index_group_ms",
                                                 "match_index_group_docs_per_s"};
  return names;
}

Report run_aggregate_suite(const SuiteOptions& opts) {
  uint64_t big = opts.quick ? 20000 : (opts.docs ? opts.docs : 1000000);
  uint64_t small = opts.quick ? 3000 : 100000;
  int runs = opts.runs > 0 ? opts.runs : (opts.quick ? 1 : 3);
  std::map<std::string, std::vector<double>> all;
  for (int r = 0; r < runs; ++r)
    for (auto& [k, v] : one_run(big, small)) all[k].push_back(v);
  Report rep("aggregate", opts);
  for (auto& name : aggregate_metrics()) {
    auto& row = rep.add(name, median(all[name]), all[name]);
    if (name == "group_avg_docs_per_s") row.at_least(1e7);
  }
  return rep;
}

}  // namespace mg::bench
