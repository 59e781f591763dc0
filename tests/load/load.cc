// tests/load/load.cc — memgoose-load: many concurrent clients against a real memgoosed
// (docs/RELIABILITY.md, issue 9 item 5). It starts its own daemon (a DaemonProcess: ipc
// endpoints in a temporary directory) and runs C client threads for S seconds, each with its
// own DEALER socket (one shared ZeroMQ context) doing blocking requests back to back, a mix of
//   40% reads: findById, find on an indexed field with a limit, count;
//   60% writes: insertOne / updateOne ($inc) / deleteOne on the client's own ring of 200 ids,
// so the data set stays bounded (at most C x 200 documents) and RSS must level off. Every
// request must be answered ok within the client timeout (a timeout or an error reply is a
// failure). It samples the daemon's RSS every 250 ms and prints throughput, latency p50 / p99 /
// p99.9 / max, and RSS at 10 %, 50 % and 100 % of the run and at its peak.
//
// Usage: memgoose-load [--clients C] [--seconds S] [--storage memory|file|sqlite|...]
//                      [--max-rss-mb M] [--growth-check 0|1]
// Defaults: 200 clients, 60 s, memory, 1024 MB. Exit status 1 when a request went unanswered or
// failed, when the daemon did not exit 0 at SIGTERM, when the peak RSS is over M, or (unless
// --growth-check 0) when RSS grew by more than 25 % (+32 MB) over the second half of the run (a
// leak: the data set stopped growing long before); 2 on bad usage. --growth-check 0 is for a
// daemon under ASan, whose RSS grows by design (shadow memory, the 256 MB quarantine of freed
// blocks) while LeakSanitizer checks for leaks at its exit.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "clients/cpp/client.h"
#include "core/ejson.h"
#include "tests/integration/daemon_process.h"

using namespace mg;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRing = 200;  // ids per client

int64_t rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  return -1;
}

struct Totals {
  std::mutex mu;
  std::vector<uint32_t> micros;  // every request's latency
  int64_t ok = 0, failed = 0;
  std::string first_failure;
};

void client_loop(int n, const std::string& endpoint, const std::string& db, zmq::context_t& ctx,
                 Clock::time_point until, Totals& totals) {
  client::ClientOptions o;
  o.context = &ctx;
  o.timeout_ms = 30000;
  client::Client c(endpoint, o);
  std::mt19937_64 rng(n * 7919 + 1);
  std::vector<bool> present(kRing, false);
  std::vector<uint32_t> micros;
  micros.reserve(1 << 16);
  int64_t ok = 0, failed = 0;
  std::string failure;
  auto id_json = [&](int k) { return std::to_string(int64_t(n) * kRing + k); };
  while (Clock::now() < until) {
    int k = int(rng() % kRing);
    int dice = int(rng() % 100);
    std::string idf = mp_from_json(R"({"_id":)" + id_json(k) + "}");
    client::Request req("ping");
    if (dice < 15) {
      req = std::move(client::Request("findById", db, "Load").arg("_id", mp_from_json(id_json(k))));
    } else if (dice < 30) {
      req =
          std::move(client::Request("find", db, "Load")
                        .arg("filter", mp_from_json(R"({"g":)" + std::to_string(rng() % 50) + "}"))
                        .arg_int("limit", 10));
    } else if (dice < 40) {
      req = std::move(client::Request("count", db, "Load")
                          .arg("filter", mp_from_json(R"({"c":)" + std::to_string(n) + "}")));
    } else if (!present[k] || dice < 50) {
      if (present[k]) {
        req = std::move(client::Request("deleteOne", db, "Load").arg("filter", idf));
        present[k] = false;
      } else {
        req = std::move(client::Request("insertOne", db, "Load")
                            .arg("doc", mp_from_json(R"({"_id":)" + id_json(k) + R"(,"c":)" +
                                                     std::to_string(n) + R"(,"g":)" +
                                                     std::to_string(rng() % 50) +
                                                     R"(,"n":0,"s":"load test document"})")));
        present[k] = true;
      }
    } else {
      req = std::move(client::Request("updateOne", db, "Load")
                          .arg("filter", idf)
                          .arg("update", mp_from_json(R"({"$inc":{"n":1}})")));
    }
    auto t0 = Clock::now();
    try {
      client::Reply r = c.call(std::move(req));
      if (r.ok()) {
        ++ok;
      } else {
        ++failed;
        if (failure.empty())
          failure = "client " + std::to_string(n) + ": " + json_from_mp(std::string(r.bytes()));
      }
    } catch (const client::Error& e) {  // no reply within the timeout
      ++failed;
      if (failure.empty()) failure = "client " + std::to_string(n) + ": " + e.what();
    }
    micros.push_back(
        uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
  }
  std::lock_guard lock(totals.mu);
  totals.micros.insert(totals.micros.end(), micros.begin(), micros.end());
  totals.ok += ok;
  totals.failed += failed;
  if (totals.first_failure.empty()) totals.first_failure = failure;
}

double percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, size_t(p * double(v.size())));
  std::nth_element(v.begin(), v.begin() + long(i), v.end());
  return v[i] / 1000.0;
}

int usage() {
  std::cerr << "usage: memgoose-load [--clients C] [--seconds S] [--storage KIND] "
               "[--max-rss-mb M] [--growth-check 0|1]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 200, seconds = 60;
  int64_t max_rss_mb = 1024;
  bool growth_check = true;
  std::string storage = "memory";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    if (a == "--clients")
      clients = std::atoi(argv[++i]);
    else if (a == "--seconds")
      seconds = std::atoi(argv[++i]);
    else if (a == "--storage")
      storage = argv[++i];
    else if (a == "--max-rss-mb")
      max_rss_mb = std::atoll(argv[++i]);
    else if (a == "--growth-check")
      growth_check = std::atoi(argv[++i]) != 0;
    else
      return usage();
  }
  if (clients < 1 || seconds < 1) return usage();

  testing::DaemonProcess d;
  std::string db = "default";
  {
    client::Client c(d.req_endpoint());
    if (storage != "memory") {
      db = "load";
      c.create_database(db, storage);
    }
    c.define_model(db, "Load",
                   mp_from_json(R"({"fields":{"g":{"type":"int","index":true},)"
                                R"("c":{"type":"int","index":true}}})"));
  }
  zmq::context_t ctx(2);
  Totals totals;
  auto start = Clock::now();
  auto until = start + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int n = 0; n < clients; ++n)
    threads.emplace_back(client_loop, n, d.req_endpoint(), db, std::ref(ctx), until,
                         std::ref(totals));
  // RSS samples while the clients run.
  std::vector<int64_t> rss;
  while (Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    rss.push_back(rss_kb(d.pid()));
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  bool alive = d.running();
  int stop_status = alive ? d.stop() : d.exit_status();

  int64_t n = totals.ok + totals.failed;
  auto at = [&](double f) {
    return rss.empty() ? 0 : rss[std::min(rss.size() - 1, size_t(f * double(rss.size())))] / 1024;
  };
  int64_t peak = rss.empty() ? 0 : *std::max_element(rss.begin(), rss.end()) / 1024;
  int64_t mid = at(0.5), end = rss.empty() ? 0 : rss.back() / 1024;
  std::printf("memgoose-load: %d clients, %.1f s, storage %s\n", clients, elapsed, storage.c_str());
  std::printf("requests %lld (%.0f/s)  ok %lld  failed %lld\n", (long long)n, double(n) / elapsed,
              (long long)totals.ok, (long long)totals.failed);
  std::printf("latency ms  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
              percentile(totals.micros, 0.5), percentile(totals.micros, 0.99),
              percentile(totals.micros, 0.999), percentile(totals.micros, 1.0));
  std::printf("daemon RSS MB  10%% %lld  50%% %lld  end %lld  peak %lld  (limit %lld)\n",
              (long long)at(0.1), (long long)mid, (long long)end, (long long)peak,
              (long long)max_rss_mb);
  bool ok = true;
  if (totals.failed) ok = false, std::printf("FAILED: %s\n", totals.first_failure.c_str());
  if (!alive || stop_status != 0)
    ok = false, std::printf("FAILED: daemon exit status %d\n%s\n", stop_status, d.log().c_str());
  if (peak > max_rss_mb) ok = false, std::printf("FAILED: peak RSS over the limit\n");
  if (!growth_check)
    std::printf("RSS growth not checked (--growth-check 0)\n");
  else if (end > mid + mid / 4 + 32)
    ok = false, std::printf("FAILED: RSS still growing\n");
  if (n == 0) ok = false, std::printf("FAILED: no request completed\n");
  return ok ? 0 : 1;
}
