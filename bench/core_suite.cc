// bench/core_suite.cc — `memgoose-bench core`: the engine in-process on the memory backend.
//
// Measures what issue 2 and memgoose's storage guide compare: insertMany in batches of 1000,
// findOne by a unique indexed field (p50/p99), count by an indexed equality matching a third
// of the documents, a findOne on a non-indexed field, updateOne and deleteOne by the unique
// field, and resident memory per document. Every figure is the median over --runs runs.
#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include "bench/shape.h"
#include "bench/stats.h"
#include "bench/suites.h"
#include "core/collection.h"
#include "storage/memory_storage.h"

namespace mg::bench {

namespace {

void measure_reads(Collection& coll, uint64_t n, uint64_t seed, std::map<std::string, double>& r);
void measure_writes(Collection& coll, uint64_t n, std::map<std::string, double>& r);

// Loads n documents (insertMany, batches of 1000), then measures reads and writes.
std::map<std::string, double> one_run(uint64_t n, uint64_t seed) {
  std::map<std::string, double> r;
  std::vector<std::string> docs;
  docs.reserve(n);
  for (uint64_t i = 0; i < n; ++i) docs.push_back(bench_doc(i));
  std::string schema = bench_schema();
  size_t rss0 = rss_bytes();
  auto c = std::make_unique<Collection>("Bench", make_memory_storage());
  if (!c->open(MpView(schema)).ok()) throw std::runtime_error("open failed");

  double t0 = now_s();
  std::vector<std::string_view> batch;
  for (uint64_t i = 0; i < n; i += 1000) {
    batch.assign(docs.begin() + int64_t(i), docs.begin() + int64_t(std::min(n, i + 1000)));
    auto res = c->insert_many(batch, nullptr);
    if (!res.ok()) throw std::runtime_error(res.status().message);
  }
  r["insert_many_docs_per_s"] = double(n) / (now_s() - t0);
  r["rss_bytes_per_doc"] = double(rss_bytes() - rss0) / double(n);
  r["encoded_bytes_per_doc"] = double(c->stats().doc_bytes) / double(n);
  measure_reads(*c, n, seed, r);
  measure_writes(*c, n, r);
  return r;
}

// findOne by the unique email (p50/p99), count on the status index, findOne on a field
// without an index.
void measure_reads(Collection& coll, uint64_t n, uint64_t seed, std::map<std::string, double>& r) {
  Collection* c = &coll;
  std::mt19937_64 rng(seed);
  std::vector<std::string> filters;
  for (int i = 0; i < 20000; ++i) filters.push_back(filter_eq("email", bench_email(rng() % n)));
  std::vector<double> lat;
  lat.reserve(filters.size());
  for (auto& f : filters) {
    double s = now_s();
    auto res = c->find(FindSpec{MpView(f), MpView(), 0, 1});
    lat.push_back(now_s() - s);
    if (!res.ok() || res->size() != 1) throw std::runtime_error("findOne missed");
  }
  r["find_one_indexed_p50_us"] = percentile(lat, 50) * 1e6;
  r["find_one_indexed_p99_us"] = percentile(lat, 99) * 1e6;

  std::string by_status = filter_eq("status", "active");
  lat.clear();
  uint64_t matched = 0;
  for (int i = 0; i < 200; ++i) {
    double s = now_s();
    matched = c->count(MpView(by_status)).value();
    lat.push_back(now_s() - s);
  }
  r["count_indexed_ms"] = percentile(lat, 50) * 1e3;
  r["count_indexed_matched"] = double(matched);

  lat.clear();
  for (int i = 0; i < 20; ++i) {
    std::string f = filter_eq("name", "User " + std::to_string(rng() % n));
    double s = now_s();
    auto res = c->find(FindSpec{MpView(f), MpView(), 0, 1});
    lat.push_back(now_s() - s);
  }
  r["find_one_unindexed_ms"] = percentile(lat, 50) * 1e3;
}

// updateOne ($set score) and deleteOne by the unique email, one at a time.
void measure_writes(Collection& coll, uint64_t n, std::map<std::string, double>& r) {
  Collection* c = &coll;
  uint64_t ops = std::min<uint64_t>(10000, n);
  std::string upd;
  {
    MpWriter w(upd);
    w.map_header(1), w.str("$set"), w.map_header(1), w.str("score"), w.float64(99.5);
  }
  double t1 = now_s();
  for (uint64_t i = 0; i < ops; ++i) {
    std::string f = filter_eq("email", bench_email(i));
    if (!c->update(MpView(f), MpView(upd), false, false, nullptr).ok())
      throw std::runtime_error("update failed");
  }
  r["update_one_ops_per_s"] = double(ops) / (now_s() - t1);
  double t2 = now_s();
  for (uint64_t i = 0; i < ops; ++i) {
    std::string f = filter_eq("email", bench_email(i));
    if (c->remove(MpView(f), false, nullptr).value() != 1) throw std::runtime_error("delete");
  }
  r["delete_one_ops_per_s"] = double(ops) / (now_s() - t2);
}

}  // namespace

// Runs one_run in a child process so each run starts with a fresh heap (RSS per document is
// only meaningful that way) and returns its metrics through a pipe.
std::map<std::string, double> isolated_run(uint64_t n, uint64_t seed) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      for (auto& [k, v] : one_run(n, seed)) out += k + " " + std::to_string(v) + "\n";
    } catch (const std::exception& e) {
      std::fprintf(stderr, "core run failed: %s\n", e.what());
      _exit(1);
    }
    if (write(fds[1], out.data(), out.size()) != ssize_t(out.size())) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t k; (k = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, size_t(k));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("run failed");
  std::map<std::string, double> r;
  std::istringstream in(text);
  std::string k;
  double v;
  while (in >> k >> v) r[k] = v;
  return r;
}

const std::vector<std::string>& core_metrics() {
  static const std::vector<std::string> names = {
      "insert_many_docs_per_s",  "rss_bytes_per_doc",       "encoded_bytes_per_doc",
      "find_one_indexed_p50_us", "find_one_indexed_p99_us", "count_indexed_ms",
      "count_indexed_matched",   "find_one_unindexed_ms",   "update_one_ops_per_s",
      "delete_one_ops_per_s"};
  return names;
}

Report run_core_suite(const SuiteOptions& opts) {
  std::map<std::string, std::vector<double>> all;
  for (int run = 0; run < opts.runs; ++run) {
    auto r = isolated_run(opts.docs, 42 + uint64_t(run));
    for (auto& [k, v] : r) all[k].push_back(v);
    std::fprintf(stderr, "core run %d/%d: insertMany %.0f docs/s, findOne p50 %.2f us\n", run + 1,
                 opts.runs, r["insert_many_docs_per_s"], r["find_one_indexed_p50_us"]);
  }
  Report rep("core", opts);
  for (auto& [k, v] : all) rep.add(k, median(v), v);
  return rep;
}

}  // namespace mg::bench
