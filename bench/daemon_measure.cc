// bench/daemon_measure.cc — the measurements of the daemon suite (see daemon_measure.h).
//
// Requests are built inside the timed loops (building them is part of what a client pays);
// their arguments (documents, filters) are encoded before the clock starts.
#include "bench/daemon_measure.h"

#include <atomic>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bench/shape.h"
#include "bench/stats.h"

namespace mg::bench {

namespace {

const char* kDb = "";  // the database "default" (memory)

// Throws unless `r` is ok and carries a found document.
void expect_doc(const client::Reply& r) {
  if (!r.ok()) throw std::runtime_error("findOne failed: " + std::string(r.error().what()));
  MpView d = r.get("doc");
  if (!d.valid() || d.type() != MpType::Map) throw std::runtime_error("findOne found nothing");
}

// Counts callbacks whose reply is wrong, and keeps the first error, so that a pipelined run
// can throw after draining.
struct Failures {
  uint64_t n = 0;
  std::string first;
  void add(const std::string& why) {
    if (n++ == 0) first = why;
  }
  void check(const char* what) const {
    if (n)
      throw std::runtime_error(std::string(what) + ": " + std::to_string(n) +
                               " bad replies, first: " + first);
  }
};

// A callback that files into `f` a findOne reply without a document.
client::Client::Callback expect_doc_into(Failures& f) {
  return [&f](client::Reply r) {
    try {
      expect_doc(r);
    } catch (const std::exception& e) {
      f.add(e.what());
    }
  };
}

// A field of a reply that must be the integer `want`.
void expect_int(const client::Reply& r, const char* key, int64_t want, Failures& f) {
  if (!r.ok()) return f.add(r.error().what());
  MpView v = r.get(key);
  if (!v.valid() || v.type() != MpType::Int || v.as_int() != want)
    f.add(std::string(key) + " is not " + std::to_string(want));
}

std::string set_score_update() {
  std::string upd;
  MpWriter w(upd);
  w.map_header(1), w.str("$set"), w.map_header(1), w.str("score"), w.float64(99.5);
  return upd;
}

}  // namespace

client::Request find_one_request(const std::string& model, const std::string& filter) {
  client::Request r("findOne", kDb, model);
  r.arg("filter", filter);
  return r;
}

double load_docs(Client& c, const std::string& model,
                 const std::vector<std::vector<std::string>>& batches) {
  Failures f;
  uint64_t docs = 0;
  double t0 = now_s();
  for (auto& b : batches) {
    docs += b.size();
    c.insert_many_async(kDb, model, b, [&f, want = int64_t(b.size())](client::Reply r) {
      expect_int(r, "insertedCount", want, f);
    });
  }
  c.drain();
  double dt = now_s() - t0;
  f.check("insertMany");
  return double(docs) / dt;
}

std::vector<double> find_one_latencies(Client& c, const std::string& model,
                                       const std::vector<std::string>& filters, size_t begin,
                                       size_t end) {
  std::vector<double> lat;
  lat.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    double s = now_s();
    client::Reply r = c.call(find_one_request(model, filters[i % filters.size()]));
    lat.push_back(now_s() - s);
    expect_doc(r);
  }
  return lat;
}

double find_one_pipelined(Client& c, const std::string& model,
                          const std::vector<std::string>& filters, size_t first, size_t n) {
  Failures f;
  double t0 = now_s();
  for (size_t i = first; i < first + n; ++i) {
    c.send_async(find_one_request(model, filters[i % filters.size()]), expect_doc_into(f));
  }
  c.drain();
  double dt = now_s() - t0;
  f.check("findOne");
  return double(n) / dt;
}

double find_one_many_clients(zmq::context_t& ctx, const std::string& endpoint,
                             const std::string& model, const std::vector<std::string>& filters,
                             int clients, int threads, int per_client) {
  std::latch start(threads + 1);
  std::mutex mu;
  std::exception_ptr error;
  std::vector<std::thread> pool;
  auto fail = [&] {
    std::lock_guard<std::mutex> lock(mu);
    if (!error) error = std::current_exception();
  };
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<std::unique_ptr<Client>> mine;
      try {
        for (int k = t; k < clients; k += threads) {
          mine.push_back(std::make_unique<Client>(endpoint, client_options(1, &ctx)));
          mine.back()->ping();  // connected before the clock starts
        }
      } catch (...) {
        fail();
        mine.clear();
      }
      start.arrive_and_wait();
      try {
        Failures f;
        size_t next = size_t(t) * 7919;
        for (int i = 0; i < per_client && !mine.empty(); ++i)
          for (auto& c : mine)
            c->send_async(find_one_request(model, filters[next++ % filters.size()]),
                          expect_doc_into(f));
        for (auto& c : mine) c->drain();
        f.check("findOne (many clients)");
      } catch (...) {
        fail();
      }
    });
  }
  start.arrive_and_wait();
  double t0 = now_s();
  for (auto& th : pool) th.join();
  double dt = now_s() - t0;
  if (error) std::rethrow_exception(error);
  return double(clients) * per_client / dt;
}

// Ingests insertMany batches of 1000 fresh documents into `model` until `stop`.
static void ingest(zmq::context_t& ctx, const std::string& endpoint, const std::string& model,
                   std::atomic<bool>& stop, std::atomic<uint64_t>& acked, Failures& f) {
  Client c(endpoint, client_options(4, &ctx));
  std::vector<std::string> batch;
  for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); i += 1000) {
    batch.clear();
    for (uint64_t k = i; k < i + 1000; ++k) batch.push_back(bench_doc(k));
    c.insert_many_async(kDb, model, batch, [&](client::Reply r) {
      expect_int(r, "insertedCount", 1000, f);
      acked.fetch_add(1000, std::memory_order_relaxed);
    });
  }
  c.drain();
}

Isolation isolation(Client& c, zmq::context_t& ctx, const std::string& endpoint,
                    const std::string& model_a, const std::string& model_b,
                    const std::vector<std::string>& filters, size_t n) {
  Isolation out;
  out.idle = find_one_latencies(c, model_a, filters, 0, n);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acked{0};
  Failures f;
  std::thread ingester([&] {
    try {
      ingest(ctx, endpoint, model_b, stop, acked, f);
    } catch (const std::exception& e) {
      f.add(e.what());
      acked = 1;  // never leave the waiting loop below hanging
    }
  });
  while (acked.load() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  uint64_t a0 = acked.load();
  double t0 = now_s();
  try {
    out.loaded = find_one_latencies(c, model_a, filters, n, 2 * n);
  } catch (...) {
    stop = true;
    ingester.join();
    throw;
  }
  double dt = now_s() - t0;
  out.ingest_docs_per_s = double(acked.load() - a0) / dt;
  stop = true;
  ingester.join();
  f.check("insertMany (ingest)");
  return out;
}

double insert_one_pipelined(Client& c, const std::string& model,
                            const std::vector<std::string>& docs) {
  Failures f;
  double t0 = now_s();
  for (auto& d : docs)
    c.send_async(client::Request("insertOne", kDb, model).arg("doc", d), [&f](client::Reply r) {
      if (!r.ok()) f.add(r.error().what());
    });
  c.drain();
  double dt = now_s() - t0;
  f.check("insertOne");
  return double(docs.size()) / dt;
}

double update_one_pipelined(Client& c, const std::string& model,
                            const std::vector<std::string>& email_filters) {
  Failures f;
  std::string upd = set_score_update();
  double t0 = now_s();
  for (auto& flt : email_filters)
    c.send_async(client::Request("updateOne", kDb, model).arg("filter", flt).arg("update", upd),
                 [&f](client::Reply r) { expect_int(r, "matchedCount", 1, f); });
  c.drain();
  double dt = now_s() - t0;
  f.check("updateOne");
  return double(email_filters.size()) / dt;
}

double delete_one_pipelined(Client& c, const std::string& model,
                            const std::vector<std::string>& email_filters) {
  Failures f;
  double t0 = now_s();
  for (auto& flt : email_filters)
    c.send_async(client::Request("deleteOne", kDb, model).arg("filter", flt),
                 [&f](client::Reply r) { expect_int(r, "deletedCount", 1, f); });
  c.drain();
  double dt = now_s() - t0;
  f.check("deleteOne");
  return double(email_filters.size()) / dt;
}

}  // namespace mg::bench
