// bench/backend_suite.cc — `memgoose-bench backends` (see backend_suites.h).
//
// Each run starts one fresh memgoosed, asks `hello` which storages it has, warms the daemon up
// with one load into a memory database dropped again (the first load into a fresh process
// pays for growing its heap), then for each configuration (backends.h) creates the database
// `bench_<label>`, defines two models with bench_schema and measures, in this order:
//   insert_one        --docs/10 (10k) documents of the shape, insertOne pipelined, 64 in
//                     flight, into model One: docs/s, p50/p99 (send to reply, so including
//                     the wait behind the requests ahead in the window)
//   insert_many       --docs (100k) documents, insertMany ×1000, 4 batches in flight, into
//                     model Bulk: docs/s, p50/p99 per batch, and (information) the daemon's
//                     CPU time per document during it (user + system, every thread) and the
//                     documents per group commit (`stats` commits: its transaction size), and
//                     this process's (the client's) CPU time per document
//   find_one_indexed  findOne by the unique email of a random document, 1 in flight: p50/p99
//   find_one_unindexed  findOne by `name` (no index: a scan until the match), 1 in flight
//   count_indexed     count {status: "active"} (a third of the documents) on its index
//   update_one / delete_one  updateOne ($set score) and deleteOne by email of 10k documents,
//                     pipelined, 64 in flight: ops/s, p50/p99
// and drops the database again. Configuration-specific rows:
//   file_immediate    1 writer vs 16 writers doing insertOne, each with one request in flight
//                     (16 direct connections served by one thread, as redis-benchmark
//                     serves its clients; the single writer direct too; every document of
//                     both sides encoded before the clock starts):
//                     group commit at work (issue 4: >= 8x), and
//                     the writes one commit served (`stats` commits), the daemon's and the
//                     clients' CPU time per write (for information)
//   sqlite            right after it, the raw SQLite loader over the same 100k documents
//                     (issue 5: the daemon's insertMany >= 0.7x of it)
//   wiredtiger        right after it, the raw WiredTiger loader likewise (issue 6: >= 0.7x);
//                     the loader also runs when the daemon has no wiredtiger, as a baseline
//                     (both loaders also report this process's CPU time per document, to
//                     set beside the daemon's); then the same load through WiredTigerStorage
//                     in this process (raw_loaders.h strategy_wiredtiger_load): the backend's
//                     own cost, apart from the daemon's pipeline
//   file_debounced    its insertMany docs/s over memory's, same run (issue 4: >= 0.5)
// Every reply is checked (found, matched, deleted, counted); a wrong one fails the run.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "bench/backend_suites.h"
#include "bench/backends.h"
#include "bench/daemon_measure.h"
#include "bench/procs.h"
#include "bench/raw_loaders.h"
#include "bench/shape.h"
#include "bench/stats.h"

namespace mg::bench {

namespace {

// One client thread over the 16 writers' connections: with 4, the clients' own wake-ups cost
// twice the CPU per write (25 against 12.5 us), taken from the daemon on two shared cores.
constexpr int kWriters = 16, kWriterThreads = 1;

struct Sizes {
  size_t insert_one, bulk, find_n, unindexed_n, count_n, crud;
  int one_writer, per_writer;  // file immediate: inserts of the single writer, and of each of 16
};

Sizes sizes_for(const SuiteOptions& o) {
  size_t bulk = o.docs, tenth = std::max<size_t>(bulk / 10, 1);
  if (o.quick) return {tenth, bulk, 300, 3, 5, tenth, 30, 5};
  return {tenth, bulk, 5000, 20, 20, tenth, 500, 250};
}

// Everything encoded before any clock starts, shared by every run and configuration.
struct Data {
  std::vector<std::string> one_docs;           // insertOne: documents 0 .. insert_one-1
  std::vector<std::vector<std::string>> bulk;  // insertMany: documents 0 .. bulk-1, 1000 each
  std::vector<std::string> email_filters;      // {email} of random bulk documents
  std::vector<std::string> name_filters;       // {name} of random bulk documents (no index)
  std::vector<std::string> crud_filters;       // {email} of documents 0 .. crud-1
  std::vector<std::string> writer_docs;        // the single writer's documents
  std::vector<std::string> writers_docs;       // the 16 writers': writer k's i-th at k*per+i
};

Data make_data(const Sizes& sz) {
  Data d;
  for (size_t i = 0; i < sz.insert_one; ++i) d.one_docs.push_back(bench_doc(i));
  d.bulk = doc_batches(0, sz.bulk, 1000, bench_doc);
  std::mt19937_64 rng(7);
  for (size_t i = 0; i < sz.find_n; ++i)
    d.email_filters.push_back(filter_eq("email", bench_email(rng() % sz.bulk)));
  for (size_t i = 0; i < sz.unindexed_n; ++i)
    d.name_filters.push_back(filter_eq("name", "User " + std::to_string(rng() % sz.bulk)));
  for (size_t i = 0; i < sz.crud; ++i) d.crud_filters.push_back(filter_eq("email", bench_email(i)));
  for (int i = 0; i < sz.one_writer; ++i) d.writer_docs.push_back(bench_doc(10'000'000 + i));
  for (int i = 0; i < kWriters * sz.per_writer; ++i)
    d.writers_docs.push_back(bench_doc(20'000'000 + uint64_t(i)));
  return d;
}

struct Rig {
  const SuiteOptions& opts;
  Sizes sz;
  Data data;
  zmq::context_t ctx{1};
};

void measure_writers(Rig& rig, Client& c, const std::string& ep, pid_t pid, const std::string& db,
                     Metrics& m) {
  c.define_model(db, "Writers", bench_schema());
  // Both sides on direct connections (ClientOptions::direct, as the 50-client findOne case):
  // libzmq's client-side I/O thread cost the 16 clients ~40 us of CPU per insertOne, which on
  // two shared cores bounded the daemon's rate, not its syncs.
  client::ClientOptions direct = client_options(1, &rig.ctx);
  direct.direct = true;
  Client one(ep, direct);
  m["file_immediate_1_writer_docs_per_s"] =
      insert_one_pipelined(one, db, "Writers", rig.data.writer_docs).per_s;
  int per = rig.sz.per_writer;
  int64_t commits0 = model_stats(c, db, "Writers").commits;
  double daemon0 = process_cpu_s(pid), self0 = process_cpu_s(getpid());
  double r16 = many_clients(
      rig.ctx, ep, kWriters, kWriterThreads, per,
      [&](int k, int i) {
        return client::Request("insertOne", db, "Writers")
            .arg("doc", rig.data.writers_docs[size_t(k * per + i)]);
      },
      [](const client::Reply& r, Failures& f) {
        if (!r.ok()) f.add(r.error().what());
      },
      "insertOne (16 writers)", /*direct=*/true);
  m["file_immediate_16_writers_docs_per_s"] = r16;
  // CPU per write of the daemon and of this process (the 16 clients): with the wall time per
  // write, whether the two cores or the syncs are the limit. For information only (not in the
  // expected metrics): counted in clock ticks, a quick run's few writes can show 0.
  double writes = double(kWriters) * per;
  m["file_immediate_16_writers_daemon_cpu_us_per_doc"] =
      (process_cpu_s(pid) - daemon0) * 1e6 / writes;
  m["file_immediate_16_writers_client_cpu_us_per_doc"] =
      (process_cpu_s(getpid()) - self0) * 1e6 / writes;
  // How many writes one fdatasync served (group commit at work), from the model's `stats`.
  int64_t commits = model_stats(c, db, "Writers").commits - commits0;
  m["file_immediate_16_writers_writes_per_commit"] =
      commits > 0 ? double(kWriters) * per / double(commits) : 0;
  m["file_immediate_16_vs_1_writers"] = r16 / m["file_immediate_1_writer_docs_per_s"];
}

// The reads of one configuration on model Bulk.
void measure_reads(Rig& rig, Client& c, const std::string& db, const std::string& p, Metrics& m) {
  auto& d = rig.data;
  find_one_latencies(c, db, "Bulk", d.email_filters, 0, std::min<size_t>(200, rig.sz.find_n));
  put_percentiles(m, p + "find_one_indexed",
                  find_one_latencies(c, db, "Bulk", d.email_filters, 0, rig.sz.find_n), 1e6, "us");
  put_percentiles(m, p + "find_one_unindexed",
                  find_one_latencies(c, db, "Bulk", d.name_filters, 0, rig.sz.unindexed_n), 1e3,
                  "ms");
  std::string active = filter_eq("status", "active");
  int64_t want = int64_t((rig.sz.bulk + 2) / 3);
  std::vector<double> lat;
  for (size_t i = 0; i < rig.sz.count_n; ++i) {
    double s = now_s();
    int64_t n = c.count(db, "Bulk", active);
    lat.push_back(now_s() - s);
    if (n != want)
      throw std::runtime_error(db + ": count of status active is " + std::to_string(n) + ", not " +
                               std::to_string(want));
  }
  put_percentiles(m, p + "count_indexed", lat, 1e3, "ms");
}

void put_timed(Metrics& m, const std::string& name, const char* rate, const Timed& t, double scale,
               const char* unit) {
  m[name + "_" + rate] = t.per_s;
  put_percentiles(m, name, t.latencies, scale, unit);
}

void measure_backend(Rig& rig, Client& c, const std::string& ep, pid_t pid, const Backend& b,
                     Metrics& m) {
  std::string db = "bench_" + b.label, p = b.label + "_";
  auto& d = rig.data;
  c.create_database(db, b.storage, b.options);
  c.define_model(db, "One", bench_schema());
  c.define_model(db, "Bulk", bench_schema());
  put_timed(m, p + "insert_one", "docs_per_s", insert_one_pipelined(c, db, "One", d.one_docs), 1e6,
            "us");
  {
    Client loader(ep, client_options(4, &rig.ctx));
    int64_t commits0 = model_stats(c, db, "Bulk").commits;
    double cpu0 = process_cpu_s(pid), ccpu0 = process_cpu_s(getpid());
    Timed t = insert_many(loader, db, "Bulk", d.bulk);
    double ccpu = process_cpu_s(getpid()) - ccpu0;
    // The transaction size the daemon really used (its group commits), beside the raw loaders'
    // one transaction per batch of 1000.
    int64_t commits = model_stats(c, db, "Bulk").commits - commits0;
    m[p + "insert_many_docs_per_commit"] = commits > 0 ? double(rig.sz.bulk) / double(commits) : 0;
    m[p + "insert_many_daemon_cpu_us_per_doc"] =
        (process_cpu_s(pid) - cpu0) * 1e6 / double(rig.sz.bulk);
    // This process's (the client's) CPU time beside it, on the same two cores.
    m[p + "insert_many_client_cpu_us_per_doc"] = ccpu * 1e6 / double(rig.sz.bulk);
    m[p + "insert_many_docs_per_s"] = t.per_s;
    put_percentiles(m, p + "insert_many_batch", t.latencies, 1e3, "ms");
  }
  measure_reads(rig, c, db, p, m);
  put_timed(m, p + "update_one", "ops_per_s", update_one_pipelined(c, db, "Bulk", d.crud_filters),
            1e6, "us");
  put_timed(m, p + "delete_one", "ops_per_s", delete_one_pipelined(c, db, "Bulk", d.crud_filters),
            1e6, "us");
  if (b.label == "file_immediate") measure_writers(rig, c, ep, pid, db, m);
  c.drop_database(db);
}

void measure_raw_sqlite(Rig& rig, Metrics& m) {
  TempDir dir("memgoose-bench-raw-sqlite-");
  double cpu0 = process_cpu_s(getpid());
  RawLoad r = raw_sqlite_load(dir.path(), rig.data.bulk);
  m["sqlite_raw_cpu_us_per_doc"] = (process_cpu_s(getpid()) - cpu0) * 1e6 / double(rig.sz.bulk);
  m["sqlite_raw_insert_docs_per_s"] = r.docs_per_s;
  if (m.count("sqlite_insert_many_docs_per_s"))
    m["sqlite_insert_many_vs_raw"] = m["sqlite_insert_many_docs_per_s"] / r.docs_per_s;
}

// Waits (at most 3 s) until the daemon's CPU time stops growing for 50 ms: after a database is
// dropped the daemon still frees its models' documents and removes the files, and a loader run
// meanwhile shares the two cores with that (the raw WiredTiger loader measured 0.53-0.86M
// docs/s so, 1.18-1.29M on an idle daemon). Returns the time waited.
double settle(pid_t daemon) {
  double t0 = now_s(), last = process_cpu_s(daemon);
  for (;;) {
    usleep(50000);
    double c = process_cpu_s(daemon);
    if (c == last || now_s() - t0 > 3) break;
    last = c;
  }
  return now_s() - t0;
}

// The raw loader runs on an idle daemon (settle): its rate is the limit of WiredTiger on this
// machine at this moment, not of whatever the daemon still does.
void measure_raw_wiredtiger(Rig& rig, pid_t daemon, Metrics& m) {
  m["wiredtiger_raw_settle_ms"] = settle(daemon) * 1e3;
  TempDir dir("memgoose-bench-raw-wt-");
  double cpu0 = process_cpu_s(getpid()), dcpu0 = process_cpu_s(daemon);
  RawLoad r = raw_wiredtiger_load(dir.path(), rig.data.bulk);
  m["wiredtiger_raw_cpu_us_per_doc"] =
      (process_cpu_s(getpid()) - cpu0) * 1e6 / double(rig.sz.bulk);  // close included
  m["wiredtiger_raw_daemon_cpu_ms"] = (process_cpu_s(daemon) - dcpu0) * 1e3;
  m["wiredtiger_raw_insert_docs_per_s"] = r.docs_per_s;
  m["wiredtiger_raw_close_s"] = r.close_s;
  m["wiredtiger_raw_table_bytes_per_doc"] = double(r.table_bytes) / double(rig.sz.bulk);
  if (m.count("wiredtiger_insert_many_docs_per_s"))
    m["wiredtiger_insert_many_vs_raw"] = m["wiredtiger_insert_many_docs_per_s"] / r.docs_per_s;
  TempDir sdir("memgoose-bench-strategy-wt-");
  cpu0 = process_cpu_s(getpid());
  RawLoad st = strategy_wiredtiger_load(sdir.path(), rig.data.bulk);
  m["wiredtiger_strategy_cpu_us_per_doc"] =
      (process_cpu_s(getpid()) - cpu0) * 1e6 / double(rig.sz.bulk);  // close included
  m["wiredtiger_strategy_insert_docs_per_s"] = st.docs_per_s;
  m["wiredtiger_strategy_vs_raw"] = st.docs_per_s / r.docs_per_s;
}

Metrics one_run(Rig& rig, Hello& hello) {
  Daemon daemon(rig.opts.memgoosed);
  std::string ep = daemon.endpoint();
  Metrics m;
  Client c(ep, client_options(64, &rig.ctx));
  hello = selected(hello_of(c), rig.opts.storages);
  {  // warm-up: not measured
    c.create_database("bench_warmup", "memory");
    Client loader(ep, client_options(4, &rig.ctx));
    insert_many(loader, "bench_warmup", "Bulk", rig.data.bulk);
    c.drop_database("bench_warmup");
  }
  bool raw_wt_done = false;
  for (auto& b : backends_listed(hello)) {
    measure_backend(rig, c, ep, daemon.pid(), b, m);
    if (b.label == "sqlite") measure_raw_sqlite(rig, m);
    if (b.label == "wiredtiger") measure_raw_wiredtiger(rig, daemon.pid(), m), raw_wt_done = true;
  }
  if (!raw_wt_done) measure_raw_wiredtiger(rig, daemon.pid(), m);
  if (m.count("memory_insert_many_docs_per_s") && m.count("file_debounced_insert_many_docs_per_s"))
    m["file_debounced_insert_many_vs_memory"] =
        m["file_debounced_insert_many_docs_per_s"] / m["memory_insert_many_docs_per_s"];
  daemon.stop();
  return m;
}

// The per-configuration metric names (without the label prefix).
const std::vector<std::string>& per_backend() {
  static const std::vector<std::string> names = {
      "insert_one_docs_per_s",     "insert_one_p50_us",        "insert_one_p99_us",
      "insert_many_docs_per_s",    "insert_many_batch_p50_ms", "insert_many_batch_p99_ms",
      "find_one_indexed_p50_us",   "find_one_indexed_p99_us",  "find_one_unindexed_p50_ms",
      "find_one_unindexed_p99_ms", "count_indexed_p50_ms",     "count_indexed_p99_ms",
      "update_one_ops_per_s",      "update_one_p50_us",        "update_one_p99_us",
      "delete_one_ops_per_s",      "delete_one_p50_us",        "delete_one_p99_us"};
  return names;
}

// Every metric the suite must report for the configurations `hello` lists and the known ones
// it does not (those are skipped, with the reason, in `skipped`).
std::vector<std::string> expected_metrics(const Hello& hello,
                                          std::map<std::string, std::string>& skipped) {
  std::vector<std::string> out;
  auto expect = [&](const std::string& name, const std::string& skip_reason) {
    out.push_back(name);
    if (!skip_reason.empty()) skipped[name] = skip_reason;
  };
  std::vector<Backend> listed = backends_listed(hello);
  std::set<std::string> labels;
  for (auto& b : listed) labels.insert(b.label);
  std::vector<Backend> all = listed;
  for (auto& b : known_backends())
    if (!labels.count(b.label)) all.push_back(b);
  auto absent = [&](const std::string& label) -> std::string {
    if (labels.count(label)) return "";
    return "memgoosed's hello does not list the storage '" +
           (label.rfind("file", 0) == 0 ? std::string("file") : label) +
           "' (or --storage left it out)";
  };
  for (auto& b : all)
    for (auto& name : per_backend()) expect(b.label + "_" + name, absent(b.label));
  std::string no_file = absent("file_debounced"), no_mem = absent("memory");
  expect("file_debounced_insert_many_vs_memory", no_file.empty() ? no_mem : no_file);
  for (const char* n :
       {"file_immediate_1_writer_docs_per_s", "file_immediate_16_writers_docs_per_s",
        "file_immediate_16_vs_1_writers", "file_immediate_16_writers_writes_per_commit"})
    expect(n, absent("file_immediate"));
  expect("sqlite_raw_insert_docs_per_s", "");
  expect("sqlite_insert_many_vs_raw", absent("sqlite"));
  expect("wiredtiger_raw_insert_docs_per_s", "");
  expect("wiredtiger_insert_many_vs_raw", absent("wiredtiger"));
  expect("wiredtiger_strategy_insert_docs_per_s", "");
  expect("wiredtiger_strategy_vs_raw", "");
  return out;
}

struct Note {
  const char* metric;
  const char* baseline;
  const char* ratio;
  double at_least;  // 0: no target
};

constexpr Note kNotes[] = {
    {"file_debounced_insert_many_docs_per_s", "memory_insert_many_docs_per_s",
     "file_debounced_insert_many_vs_memory", 0},
    {"file_debounced_insert_many_vs_memory", nullptr, nullptr, 0.5},
    {"file_immediate_16_writers_docs_per_s", "file_immediate_1_writer_docs_per_s",
     "file_immediate_16_vs_1_writers", 0},
    {"file_immediate_16_vs_1_writers", nullptr, nullptr, 8},
    {"sqlite_insert_many_docs_per_s", "sqlite_raw_insert_docs_per_s", "sqlite_insert_many_vs_raw",
     0},
    {"sqlite_insert_many_vs_raw", nullptr, nullptr, 0.7},
    {"wiredtiger_insert_many_docs_per_s", "wiredtiger_raw_insert_docs_per_s",
     "wiredtiger_insert_many_vs_raw", 0},
    {"wiredtiger_insert_many_vs_raw", nullptr, nullptr, 0.7},
    {"wiredtiger_strategy_insert_docs_per_s", "wiredtiger_raw_insert_docs_per_s",
     "wiredtiger_strategy_vs_raw", 0},
};

}  // namespace

int run_backend_suite(const SuiteOptions& opts) {
  if (!opts.endpoint.empty()) {
    std::fprintf(stderr, "backends: skipped with --endpoint (it needs a daemon of its own)\n");
    return 0;
  }
  Rig rig{opts, sizes_for(opts), make_data(sizes_for(opts))};
  std::map<std::string, std::vector<double>> all;
  Hello hello;
  for (int run = 0; run < opts.runs; ++run) {
    Metrics m = one_run(rig, hello);
    for (auto& [k, v] : m) all[k].push_back(v);
    std::fprintf(stderr, "backends run %d/%d: insertMany docs/s:", run + 1, opts.runs);
    for (auto& b : backends_listed(hello))
      std::fprintf(stderr, " %s %.0f", b.label.c_str(),
                   value_of(m, b.label + "_insert_many_docs_per_s"));
    std::fprintf(stderr, "; raw sqlite %.0f, raw wiredtiger %.0f\n",
                 value_of(m, "sqlite_raw_insert_docs_per_s"),
                 value_of(m, "wiredtiger_raw_insert_docs_per_s"));
  }
  std::map<std::string, std::string> skipped;
  std::vector<std::string> expected = expected_metrics(hello, skipped);
  Report rep("backends", opts);
  rep.add_runs(expected, all, skipped);
  for (auto& n : kNotes) {
    Report::Row* r = rep.find(n.metric);
    if (!r || !r->missing.empty()) continue;
    if (n.baseline) r->versus(n.baseline, n.ratio);
    if (n.at_least > 0) r->at_least(n.at_least);
  }
  return rep.finish(expected);
}

}  // namespace mg::bench
