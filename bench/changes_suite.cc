// bench/changes_suite.cc — see changes_suite.h. Each run starts a fresh memgoosed (tcp
// loopback, its own request and pub ports) and loads --docs documents of the benchmark shape
// (insertMany, 1000 per batch, 4 batches in flight, as the daemon suite's load) twice into the
// memory database: into a model nobody watches, and into a model followed by one Watcher
// (clients/cpp/watch.h) in a thread of this process, consuming every event as it comes. The
// two loads alternate in order from run to run, after a warm-up load into a model dropped
// again (the first load into a fresh daemon is slower: it faults its memory in). Reported per
// run, median over runs:
//   changes_ingest_no_subscriber_docs_per_s      the baseline
//   changes_ingest_with_subscriber_docs_per_s    the same load with the Watcher live
//   changes_ingest_with_subscriber_vs_none       their ratio (target >= 0.8)
//   changes_subscriber_events_per_s              events delivered / (last delivery - load start)
//   changes_subscriber_received_all              1 when the Watcher delivered seqs 1..N, each
//                                                an insert with a document, exactly once
// and, for information (0 is a fine value for them): changes_subscriber_lag_ms (last delivery
// minus the end of the load), changes_subscriber_fetched_events (events the Watcher fetched
// with `changes` rather than received live), the daemon's CPU time per document with and
// without the subscriber, and the Watcher thread's CPU time per event.
// Before the timed load, probe documents go to the watched model until one arrives live, so
// the daemon's publisher knows about the subscription and the load is really published.
// What each side uses: the daemon serves the change stream itself (its default on tcp without
// CURVE, daemon/direct_pub.h; a --memgoosed wrapper adding --pub-direct=false measures libzmq's
// XPUB instead); the ingest client is an ordinary Client (a libzmq DEALER with its own
// I/O thread); the Watcher subscribes directly (WatchOptions::direct: ZMTP spoken by the
// Watcher's thread on its own TCP socket, no libzmq I/O thread), its `changes` requests on a
// libzmq DEALER. MG_BENCH_LIBZMQ_WATCHER=1 in the environment gives the Watcher a libzmq XSUB
// instead, to compare the two.
#include "bench/changes_suite.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/daemon_measure.h"
#include "bench/procs.h"
#include "bench/shape.h"
#include "bench/stats.h"
#include "clients/cpp/watch.h"

namespace mg::bench {

namespace {

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// One Watcher in its own thread, from seq 0, checking order and content as it consumes.
class Consumer {
 public:
  Consumer(const Daemon& d, const std::string& model)
      : thread_(
            [this, req = d.endpoint(), pub = d.pub_endpoint(), model] { run(req, pub, model); }) {}
  ~Consumer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t live() const { return live_; }
  uint64_t last_seq() const { return last_; }
  // Waits until seq `target` was delivered; false after `timeout_s`. Then stops the thread.
  bool finish(uint64_t target, double timeout_s, double& done_at) {
    double deadline = now_s() + timeout_s;
    while (last_ < target && now_s() < deadline && !failed_) std::this_thread::sleep_for(kPoll);
    done_at = done_at_;
    stop_ = true;
    thread_.join();
    if (!error_.empty()) std::fprintf(stderr, "changes: subscriber: %s\n", error_.c_str());
    return last_ == target && in_order_ && delivered_ == target;
  }
  uint64_t fetched() const { return fetched_; }
  // The seq of the last event to come: its delivery time is the one finish() reports.
  void expect(uint64_t last_seq) { expect_ = last_seq; }
  // CPU time of the consumer thread while it consumed (read after finish()).
  double cpu_s() const { return cpu_s_; }

 private:
  static constexpr std::chrono::milliseconds kPoll{2};

  void run(const std::string& req, const std::string& pub, const std::string& model) {
    pthread_setname_np(pthread_self(), "bench-watcher");  // for perf and top
    try {
      client::WatchOptions o;
      const char* libzmq = std::getenv("MG_BENCH_LIBZMQ_WATCHER");
      o.direct = !(libzmq && *libzmq && *libzmq != '0');
      client::Watcher w(req, pub, "default", model, 0, o);
      double cpu0 = thread_cpu_s();
      client::Event e;  // reused: the Watcher allocates nothing per event
      while (!stop_) {
        bool got = w.next(e, std::chrono::milliseconds(20));
        live_ = w.stats().live;
        fetched_ = w.stats().fetched;
        if (!got) continue;
        in_order_ = in_order_ && e.seq == last_ + 1 && e.op == "insert" && !e.doc.empty();
        ++delivered_;
        if (e.seq >= expect_) done_at_ = now_s();  // one clock read, not one per event
        last_ = e.seq;
      }
      cpu_s_ = thread_cpu_s() - cpu0;
    } catch (const std::exception& e) {
      error_ = e.what();
      failed_ = true;
    }
  }

  std::atomic<bool> stop_{false}, failed_{false};
  std::atomic<uint64_t> live_{0}, last_{0}, fetched_{0}, expect_{UINT64_MAX};
  std::atomic<double> done_at_{0};
  uint64_t delivered_ = 0;  // read after join
  double cpu_s_ = 0;
  bool in_order_ = true;
  std::string error_;
  std::thread thread_;
};

// Inserts probe documents into `model` until the consumer has received one live. Returns how
// many were inserted (their seqs come first).
uint64_t wait_until_published(Client& c, const std::string& model, const Consumer& sub,
                              uint64_t first_doc) {
  for (uint64_t k = 0; k < 200; ++k) {
    c.insert_one("", model, bench_doc(first_doc + k));
    double deadline = now_s() + 0.05;
    while (now_s() < deadline)
      if (sub.live() > 0)
        return k + 1;
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  throw std::runtime_error("the subscriber received no live event in 10 s");
}

void load_without_subscriber(Daemon& d, const std::vector<std::vector<std::string>>& b,
                             const std::string& model, uint64_t n, Metrics& m) {
  Client loader(d.endpoint(), client_options(4, nullptr));
  loader.define_model("", model, bench_schema());
  double cpu0 = process_cpu_s(d.pid());
  m["changes_ingest_no_subscriber_docs_per_s"] = load_docs(loader, model, b);
  m["changes_daemon_cpu_us_per_doc_no_subscriber"] =
      (process_cpu_s(d.pid()) - cpu0) * 1e6 / double(n);
}

void load_with_subscriber(Daemon& d, const std::vector<std::vector<std::string>>& b,
                          const std::string& model, uint64_t n, Metrics& m) {
  Client loader(d.endpoint(), client_options(4, nullptr));
  loader.define_model("", model, bench_schema());
  Consumer sub(d, model);
  uint64_t probes = wait_until_published(loader, model, sub, n);
  sub.expect(probes + n);
  double t0 = now_s(), cpu0 = process_cpu_s(d.pid());
  m["changes_ingest_with_subscriber_docs_per_s"] = load_docs(loader, model, b);
  double t1 = now_s(), done_at = 0;
  bool all = sub.finish(probes + n, 60, done_at);
  m["changes_daemon_cpu_us_per_doc_with_subscriber"] =
      (process_cpu_s(d.pid()) - cpu0) * 1e6 / double(n);
  m["changes_subscriber_cpu_us_per_event"] = sub.cpu_s() * 1e6 / double(n);
  m["changes_subscriber_received_all"] = all ? 1 : 0;
  m["changes_subscriber_fetched_events"] = double(sub.fetched());
  if (!all) return;
  m["changes_subscriber_events_per_s"] = double(n) / std::max(done_at - t0, 1e-9);
  m["changes_subscriber_lag_ms"] = std::max(done_at - t1, 0.0) * 1e3;
}

Metrics one_run(const SuiteOptions& opts, const std::vector<std::vector<std::string>>& batches,
                int run) {
  Daemon d(opts.memgoosed);
  Metrics m;
  std::string base = "ChgBase" + std::to_string(run), sub = "ChgSub" + std::to_string(run);
  {  // the first load into a fresh daemon pays for its memory: not one of the two measured
    Metrics warm_up;
    load_without_subscriber(d, batches, "ChgWarm", opts.docs, warm_up);
    Client(d.endpoint(), client_options(1, nullptr)).drop_model("", "ChgWarm");
  }
  if (run % 2 == 0) {
    load_without_subscriber(d, batches, base, opts.docs, m);
    load_with_subscriber(d, batches, sub, opts.docs, m);
  } else {
    load_with_subscriber(d, batches, sub, opts.docs, m);
    load_without_subscriber(d, batches, base, opts.docs, m);
  }
  m["changes_ingest_with_subscriber_vs_none"] =
      m["changes_ingest_with_subscriber_docs_per_s"] / m["changes_ingest_no_subscriber_docs_per_s"];
  d.stop();
  return m;
}

const std::vector<std::string>& expected_metrics() {
  static const std::vector<std::string> names = {
      "changes_ingest_no_subscriber_docs_per_s", "changes_ingest_with_subscriber_docs_per_s",
      "changes_ingest_with_subscriber_vs_none", "changes_subscriber_events_per_s",
      "changes_subscriber_received_all"};
  return names;
}

Report build_report(const SuiteOptions& opts, std::map<std::string, std::vector<double>>& all) {
  Report rep("changes", opts);
  for (auto& name : expected_metrics())
    if (auto it = all.find(name); it != all.end()) rep.add(name, median(it->second), it->second);
  for (const char* info :
       {"changes_subscriber_lag_ms", "changes_subscriber_fetched_events",
        "changes_daemon_cpu_us_per_doc_no_subscriber",
        "changes_daemon_cpu_us_per_doc_with_subscriber", "changes_subscriber_cpu_us_per_event"})
    if (auto it = all.find(info); it != all.end()) rep.add(info, median(it->second), it->second);
  if (auto* r = rep.find("changes_ingest_with_subscriber_docs_per_s"))
    r->versus("changes_ingest_no_subscriber_docs_per_s", "changes_ingest_with_subscriber_vs_none");
  if (auto* r = rep.find("changes_ingest_with_subscriber_vs_none")) r->at_least(0.8);
  return rep;
}

}  // namespace

int run_changes_suite(const SuiteOptions& opts) {
  if (!opts.endpoint.empty()) {
    std::fprintf(stderr, "changes: skipped with --endpoint (it needs a daemon of its own)\n");
    return 0;
  }
  std::vector<std::vector<std::string>> batches;
  for (uint64_t i = 0; i < opts.docs; i += 1000) {
    batches.emplace_back();
    for (uint64_t k = i; k < std::min(opts.docs, i + 1000); ++k)
      batches.back().push_back(bench_doc(k));
  }
  std::map<std::string, std::vector<double>> all;
  bool every_event = true;
  for (int run = 0; run < opts.runs; ++run) {
    Metrics m = one_run(opts, batches, run);
    for (auto& [k, v] : m) all[k].push_back(v);
    every_event = every_event && m["changes_subscriber_received_all"] == 1;
    std::fprintf(stderr, "changes run %d/%d: ingest %.0f docs/s alone, %.0f with a subscriber\n",
                 run + 1, opts.runs, m["changes_ingest_no_subscriber_docs_per_s"],
                 m["changes_ingest_with_subscriber_docs_per_s"]);
  }
  Report rep = build_report(opts, all);
  rep.print();
  std::printf("subscriber received every event: %s\n", every_event ? "yes" : "no");
  std::fflush(stdout);
  auto problems = rep.problems(expected_metrics());
  for (auto& p : problems) std::fprintf(stderr, "memgoose-bench: %s\n", p.c_str());
  return int(problems.size());
}

}  // namespace mg::bench
