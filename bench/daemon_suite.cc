// bench/daemon_suite.cc — `memgoose-bench daemon`: memgoosed over tcp loopback, against
// baselines measured in the same run (issue 3, "Speed").
//
// Each run starts a fresh memgoosed (or uses --endpoint), loads --docs documents of
// memgoose's benchmark shape into a model defined with bench_schema, and measures:
//   a) insertMany in batches of 1000, 4 batches in flight: docs/s (and daemon RSS per doc);
//   b) findOne by unique email, one in flight: p50/p99, beside the ZeroMQ echo baseline
//      (echo.h) driven by the same client with replies of the same size, in alternating
//      blocks so that both see the same machine;
//   c) findOne with 64 in flight on one client, against the echo with the same window;
//   d) findOne from 50 clients (one thread polling 50 direct connections, one request in flight
//      on each), against redis-benchmark GET with 50 clients;
//   e) isolation: findOne p99 on model A while another client ingests into model B, against
//      model A's idle p99 just before (the probe and the ingest are two clients with
//      connections of their own: daemon_measure.h);
//   f) insertOne pipelined (window 64), count on the status index, updateOne and deleteOne by
//      email, pipelined.
// A ratio is computed per run from figures of that run, then its median is reported.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>

#include "bench/daemon_measure.h"
#include "bench/echo.h"
#include "bench/procs.h"
#include "bench/shape.h"
#include "bench/stats.h"
#include "bench/suites.h"

namespace mg::bench {

namespace {

// Case d) has the shape of redis-benchmark -c 50, its baseline: one thread driving 50
// connections, each with one request in flight; the clients speak ZMTP on their own sockets
// (ClientOptions::direct), as redis-benchmark speaks RESP on its own.
constexpr int kClients = 50, kClientThreads = 1;

struct Sizes {
  size_t latency_n, pipelined_n, isolation_n, crud_n, count_reps;
  int per_client, redis_n;
};

Sizes sizes_for(const SuiteOptions& o) {
  if (o.quick) return {1000, 5000, 1000, std::min<size_t>(1000, o.docs), 5, 40, 20000};
  return {20000, 100000, 20000, std::min<size_t>(10000, o.docs), 20, 4000, 200000};
}

// Everything encoded before any clock starts, shared by every run.
struct Data {
  std::vector<std::vector<std::string>> batches;  // the load, 1000 documents each
  std::vector<std::string> filters;               // {email} of random loaded documents
  std::vector<std::string> new_docs;              // for insertOne: documents n, n+1, ...
  std::vector<std::string> crud_filters;          // {email} of documents 0 .. crud_n-1
};

Data make_data(uint64_t n, const Sizes& sz) {
  Data d;
  for (uint64_t i = 0; i < n; i += 1000) {
    d.batches.emplace_back();
    for (uint64_t k = i; k < std::min(n, i + 1000); ++k) d.batches.back().push_back(bench_doc(k));
  }
  std::mt19937_64 rng(42);
  for (int i = 0; i < 50000; ++i) d.filters.push_back(filter_eq("email", bench_email(rng() % n)));
  for (size_t i = 0; i < sz.crud_n; ++i) {
    d.new_docs.push_back(bench_doc(n + i));
    d.crud_filters.push_back(filter_eq("email", bench_email(i)));
  }
  return d;
}

// What lives across runs: the options, the echo server, the shared ZeroMQ context.
struct Rig {
  SuiteOptions opts;
  Sizes sz;
  Data data;
  EchoServer echo;
  zmq::context_t ctx{1};
  std::string redis_missing;  // why the Redis baseline is missing, if it is
  bool redis_skippable = false;
};

client::ClientOptions window(Rig& rig, int w) {
  return client_options(w, &rig.ctx);
}

// a) the load, and the daemon's resident memory per loaded document when it is ours.
void measure_load(Rig& rig, const std::string& ep, const std::string& model, pid_t pid,
                  Metrics& m) {
  Client loader(ep, window(rig, 4));
  size_t rss0 = pid > 0 ? rss_of(pid) : 0;
  m["load_insert_many_docs_per_s"] = load_docs(loader, model, rig.data.batches);
  if (pid > 0)
    m["rss_bytes_per_doc"] = (double(rss_of(pid)) - double(rss0)) / double(rig.opts.docs);
}

// b) one in flight, memgoosed and echo in alternating blocks; the echo's replies carry the
// document memgoosed returns, so that both replies have the same size.
void measure_latency(Rig& rig, Client& mg, Client& echo, const std::string& model, Metrics& m) {
  auto& f = rig.data.filters;
  client::Reply sample = mg.call(find_one_request(model, f[0]));
  rig.echo.set_doc(std::string(sample.get("doc").bytes()));
  m["find_one_reply_bytes"] = double(sample.bytes().size());
  find_one_latencies(echo, model, f, 0, 500);  // warm-up
  find_one_latencies(mg, model, f, 0, 500);
  std::vector<double> lm, le;
  size_t n = rig.sz.latency_n, block = std::max<size_t>(n / 4, 1);
  for (size_t i = 0; i < n; i += block) {
    auto e = find_one_latencies(echo, model, f, i, i + block);
    auto g = find_one_latencies(mg, model, f, i, i + block);
    le.insert(le.end(), e.begin(), e.end());
    lm.insert(lm.end(), g.begin(), g.end());
  }
  m["echo_rtt_p50_us"] = percentile(le, 50) * 1e6;
  m["echo_rtt_p99_us"] = percentile(le, 99) * 1e6;
  m["find_one_p50_us"] = percentile(lm, 50) * 1e6;
  m["find_one_p99_us"] = percentile(lm, 99) * 1e6;
  m["find_one_p50_vs_echo"] = m["find_one_p50_us"] / m["echo_rtt_p50_us"];
  m["find_one_p99_vs_echo"] = m["find_one_p99_us"] / m["echo_rtt_p99_us"];
}

// c) 64 in flight on one client, memgoosed and echo in two alternating halves.
void measure_pipelined(Rig& rig, Client& mg, Client& echo, const std::string& model, Metrics& m) {
  size_t half = rig.sz.pipelined_n / 2;
  double te = 0, tm = 0;
  for (size_t i = 0; i < 2; ++i) {
    te += double(half) / find_one_pipelined(echo, model, rig.data.filters, i * half, half);
    tm += double(half) / find_one_pipelined(mg, model, rig.data.filters, i * half, half);
  }
  m["echo_pipelined_ops_per_s"] = double(2 * half) / te;
  m["find_one_pipelined_ops_per_s"] = double(2 * half) / tm;
  m["find_one_pipelined_vs_echo"] = te / tm;
}

// d) 50 clients, then redis-benchmark GET with 50 clients. Beside the rate, the CPU time per
// request of the bench (the clients) and of the daemon: a figure the machine's noise moves far
// less than a rate, and the one that says which side to make cheaper.
void measure_clients(Rig& rig, const std::string& ep, const std::string& model, pid_t pid,
                     Metrics& m) {
  double client0 = process_cpu_s(getpid()), daemon0 = pid > 0 ? process_cpu_s(pid) : 0;
  double ops = find_one_many_clients(rig.ctx, ep, model, rig.data.filters, kClients, kClientThreads,
                                     rig.sz.per_client, /*direct=*/true);
  m["find_one_50_clients_ops_per_s"] = ops;
  double requests = double(kClients) * rig.sz.per_client;
  m["find_one_50_clients_client_cpu_us"] = (process_cpu_s(getpid()) - client0) / requests * 1e6;
  if (pid > 0)
    m["find_one_50_clients_daemon_cpu_us"] = (process_cpu_s(pid) - daemon0) / requests * 1e6;
  RedisResult redis = redis_get_rps(rig.sz.redis_n);
  if (!redis.rps) {
    rig.redis_missing = redis.why, rig.redis_skippable = redis.skippable;
    std::fprintf(stderr, "daemon: Redis baseline missing: %s\n", redis.why.c_str());
    return;
  }
  m["redis_get_50_clients_rps"] = *redis.rps;
  m["find_one_50_clients_vs_redis"] = ops / *redis.rps;
}

// e) findOne on model A, idle and then during an ingest into model B.
void measure_isolation(Rig& rig, const std::string& ep, const std::string& a, const std::string& b,
                       Metrics& m) {
  Isolation iso = isolation(ep, a, b, rig.data.filters, rig.sz.isolation_n);
  m["isolation_p50_idle_us"] = percentile(iso.idle, 50) * 1e6;
  m["isolation_p99_idle_us"] = percentile(iso.idle, 99) * 1e6;
  m["isolation_p50_loaded_us"] = percentile(iso.loaded, 50) * 1e6;
  m["isolation_p99_loaded_us"] = percentile(iso.loaded, 99) * 1e6;
  m["isolation_p99_loaded_vs_idle"] = m["isolation_p99_loaded_us"] / m["isolation_p99_idle_us"];
  m["isolation_ingest_docs_per_s"] = iso.ingest_docs_per_s;
}

// f) insertOne, count on the status index, updateOne and deleteOne.
void measure_crud(Rig& rig, Client& mg, const std::string& model, Metrics& m) {
  auto& d = rig.data;
  m["insert_one_pipelined_ops_per_s"] = insert_one_pipelined(mg, "", model, d.new_docs).per_s;
  std::string active = filter_eq("status", "active");
  std::vector<double> lat;
  int64_t matched = 0;
  for (size_t i = 0; i < rig.sz.count_reps; ++i) {
    double s = now_s();
    matched = mg.count("", model, active);
    lat.push_back(now_s() - s);
  }
  m["count_indexed_ms"] = percentile(lat, 50) * 1e3;
  m["count_indexed_matched"] = double(matched);
  m["update_one_pipelined_ops_per_s"] = update_one_pipelined(mg, "", model, d.crud_filters).per_s;
  m["delete_one_pipelined_ops_per_s"] = delete_one_pipelined(mg, "", model, d.crud_filters).per_s;
}

Metrics one_run(Rig& rig, int run) {
  std::optional<Daemon> daemon;
  std::string ep = rig.opts.endpoint;
  if (ep.empty()) ep = daemon.emplace(rig.opts.memgoosed).endpoint();
  pid_t pid = daemon ? daemon->pid() : -1;
  std::string a = "BenchA_" + std::to_string(getpid()) + "_" + std::to_string(run);
  std::string b = "BenchB_" + std::to_string(getpid()) + "_" + std::to_string(run);
  Metrics m;
  {
    Client mg(ep, window(rig, 64)), echo(rig.echo.endpoint(), window(rig, 64));
    mg.define_model("", a, bench_schema());
    mg.define_model("", b, bench_schema());
    auto wanted = [&](const char* what) {
      auto& only = rig.opts.only;
      return only.empty() || std::find(only.begin(), only.end(), what) != only.end();
    };
    measure_load(rig, ep, a, pid, m);
    if (wanted("latency")) measure_latency(rig, mg, echo, a, m);
    if (wanted("pipelined")) measure_pipelined(rig, mg, echo, a, m);
    if (wanted("clients")) measure_clients(rig, ep, a, pid, m);
    if (wanted("isolation")) measure_isolation(rig, ep, a, b, m);
    if (wanted("crud")) measure_crud(rig, mg, a, m);
    mg.drop_model("", a);
    mg.drop_model("", b);
  }
  if (daemon) daemon->stop();
  return m;
}

// Targets of issue 3, and which baseline and ratio each figure is compared with.
struct Note {
  const char* metric;
  const char* baseline;  // with `ratio`, or null
  const char* ratio;
  const char* op;  // "<=", ">=" or null
  double target;
};

constexpr Note kNotes[] = {
    {"load_insert_many_docs_per_s", nullptr, nullptr, ">=", 1e6},
    {"find_one_p50_us", "echo_rtt_p50_us", "find_one_p50_vs_echo", nullptr, 0},
    {"find_one_p50_vs_echo", nullptr, nullptr, "<=", 1.3},
    {"find_one_p99_us", "echo_rtt_p99_us", "find_one_p99_vs_echo", nullptr, 0},
    {"find_one_pipelined_ops_per_s", "echo_pipelined_ops_per_s", "find_one_pipelined_vs_echo",
     nullptr, 0},
    {"find_one_pipelined_vs_echo", nullptr, nullptr, ">=", 0.6},
    {"find_one_50_clients_ops_per_s", "redis_get_50_clients_rps", "find_one_50_clients_vs_redis",
     nullptr, 0},
    {"find_one_50_clients_vs_redis", nullptr, nullptr, ">=", 1.0},
    {"isolation_p99_loaded_us", "isolation_p99_idle_us", "isolation_p99_loaded_vs_idle", nullptr,
     0},
    {"isolation_p99_loaded_vs_idle", nullptr, nullptr, "<=", 3.0},
};

void annotate(Report& rep) {
  for (auto& n : kNotes) {
    Report::Row* r = rep.find(n.metric);
    if (!r) continue;
    if (n.baseline) r->versus(n.baseline, n.ratio);
    if (n.op && std::string_view(n.op) == "<=") r->at_most(n.target);
    if (n.op && std::string_view(n.op) == ">=") r->at_least(n.target);
  }
}

}  // namespace

const std::vector<std::string>& daemon_metrics() {
  static const std::vector<std::string> names = {"load_insert_many_docs_per_s",
                                                 "rss_bytes_per_doc",
                                                 "find_one_reply_bytes",
                                                 "echo_rtt_p50_us",
                                                 "echo_rtt_p99_us",
                                                 "find_one_p50_us",
                                                 "find_one_p99_us",
                                                 "find_one_p50_vs_echo",
                                                 "find_one_p99_vs_echo",
                                                 "echo_pipelined_ops_per_s",
                                                 "find_one_pipelined_ops_per_s",
                                                 "find_one_pipelined_vs_echo",
                                                 "find_one_50_clients_ops_per_s",
                                                 "find_one_50_clients_client_cpu_us",
                                                 "find_one_50_clients_daemon_cpu_us",
                                                 "redis_get_50_clients_rps",
                                                 "find_one_50_clients_vs_redis",
                                                 "isolation_p50_idle_us",
                                                 "isolation_p99_idle_us",
                                                 "isolation_p50_loaded_us",
                                                 "isolation_p99_loaded_us",
                                                 "isolation_p99_loaded_vs_idle",
                                                 "isolation_ingest_docs_per_s",
                                                 "insert_one_pipelined_ops_per_s",
                                                 "count_indexed_ms",
                                                 "count_indexed_matched",
                                                 "update_one_pipelined_ops_per_s",
                                                 "delete_one_pipelined_ops_per_s"};
  return names;
}

Report run_daemon_suite(const SuiteOptions& opts) {
  Sizes sz = sizes_for(opts);
  Rig rig{opts, sz, make_data(opts.docs, sz), {}, zmq::context_t(1), {}, false};
  std::map<std::string, std::vector<double>> all;
  for (int run = 0; run < opts.runs; ++run) {
    Metrics r = one_run(rig, run);
    for (auto& [k, v] : r) all[k].push_back(v);
    std::fprintf(stderr,
                 "daemon run %d/%d: load %.0f docs/s, findOne p50 %.1f us (echo %.1f), "
                 "50 clients %.0f ops/s\n",
                 run + 1, opts.runs, r["load_insert_many_docs_per_s"], r["find_one_p50_us"],
                 r["echo_rtt_p50_us"], r["find_one_50_clients_ops_per_s"]);
  }
  Report rep("daemon", opts);
  for (auto& name : daemon_metrics()) {
    if (auto it = all.find(name); it != all.end()) {
      rep.add(name, median(it->second), it->second);
    } else if (name.find("redis") != std::string::npos && !rig.redis_missing.empty()) {
      rep.add_missing(name, rig.redis_missing, rig.redis_skippable);
    } else if ((name == "rss_bytes_per_doc" || name == "find_one_50_clients_daemon_cpu_us") &&
               !opts.endpoint.empty()) {
      rep.add_missing(name, "--endpoint: the daemon's memory is not the bench's to read", true);
    }
  }
  annotate(rep);
  return rep;
}

}  // namespace mg::bench
