// bench/daemon_measure.cc — the measurements over a running daemon (see daemon_measure.h).
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

// Throws unless `r` is ok and carries a found document.
void expect_doc(const client::Reply& r) {
  if (!r.ok()) throw std::runtime_error("findOne failed: " + std::string(r.error().what()));
  MpView d = r.get("doc");
  if (!d.valid() || d.type() != MpType::Map) throw std::runtime_error("findOne found nothing");
}

// Files into `f` a findOne reply without a document.
void expect_doc_into(const client::Reply& r, Failures& f) {
  try {
    expect_doc(r);
  } catch (const std::exception& e) {
    f.add(e.what());
  }
}

std::string set_score_update() {
  std::string upd;
  MpWriter w(upd);
  w.map_header(1), w.str("$set"), w.map_header(1), w.str("score"), w.float64(99.5);
  return upd;
}

}  // namespace

void Failures::check(const char* what) const {
  if (n)
    throw std::runtime_error(std::string(what) + ": " + std::to_string(n) +
                             " bad replies, first: " + first);
}

void expect_int(const client::Reply& r, const char* key, int64_t want, Failures& f) {
  if (!r.ok()) return f.add(r.error().what());
  MpView v = r.get(key);
  if (!v.valid() || v.type() != MpType::Int || v.as_int() != want)
    f.add(std::string(key) + " is not " + std::to_string(want));
}

Timed pipelined(Client& c, size_t n, const std::function<client::Request(size_t)>& make,
                const std::function<void(const client::Reply&, size_t, Failures&)>& check,
                const char* what) {
  Failures f;
  Timed out;
  out.latencies.resize(n);
  double t0 = now_s();
  for (size_t i = 0; i < n; ++i) {
    double sent = now_s();
    c.send_async(make(i), [&, i, sent](client::Reply r) {
      out.latencies[i] = now_s() - sent;
      check(r, i, f);
    });
  }
  c.drain();
  out.per_s = double(n) / (now_s() - t0);
  f.check(what);
  return out;
}

double many_clients(zmq::context_t& ctx, const std::string& endpoint, int clients, int threads,
                    int per_client, const std::function<client::Request(int, int)>& make,
                    const std::function<void(const client::Reply&, Failures&)>& check,
                    const char* what, bool direct) {
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
      std::vector<std::pair<int, std::unique_ptr<Client>>> mine;
      try {
        for (int k = t; k < clients; k += threads) {
          client::ClientOptions o = client_options(1, &ctx);
          o.direct = direct;
          mine.emplace_back(k, std::make_unique<Client>(endpoint, o));
          mine.back().second->ping();  // connected before the clock starts
        }
      } catch (...) {
        fail();
        mine.clear();
      }
      start.arrive_and_wait();
      try {
        // Each client sends its next request as soon as its reply is in: one zmq_poll over
        // all of this thread's sockets, so no client waits behind another's reply.
        Failures f;
        std::vector<Client*> all;
        std::vector<int> sent(mine.size(), 0);
        for (auto& m : mine) all.push_back(m.second.get());
        for (bool busy = !all.empty(); busy;) {
          busy = false;
          for (size_t j = 0; j < mine.size(); ++j) {
            auto& [k, c] = mine[j];
            if (c->in_flight() == 0 && sent[j] < per_client)
              c->send_async(make(k, sent[j]++), [&f, &check](client::Reply r) { check(r, f); });
            busy = busy || c->in_flight() > 0;
          }
          Client::wait_any(all);
        }
        f.check(what);
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

client::Request find_one_request(const std::string& db, const std::string& model,
                                 const std::string& filter) {
  client::Request r("findOne", db, model);
  r.arg("filter", filter);
  return r;
}

Timed insert_many(Client& c, const std::string& db, const std::string& model,
                  const std::vector<std::vector<std::string>>& batches) {
  uint64_t docs = 0;
  for (auto& b : batches) docs += b.size();
  // Every request built before the clock starts, as the raw loaders' values are: the timed
  // region holds the daemon's work, not the bench's copying of 1000 documents per request.
  std::vector<client::Request> requests;
  requests.reserve(batches.size());
  for (auto& b : batches)
    requests.push_back(client::Request("insertMany", db, model).arg_array("docs", b));
  Timed t = pipelined(
      c, batches.size(), [&](size_t i) { return std::move(requests[i]); },
      [&](const client::Reply& r, size_t i, Failures& f) {
        expect_int(r, "insertedCount", int64_t(batches[i].size()), f);
      },
      "insertMany");
  t.per_s *= double(docs) / double(std::max<size_t>(batches.size(), 1));
  return t;
}

std::vector<double> find_one_latencies(Client& c, const std::string& db, const std::string& model,
                                       const std::vector<std::string>& filters, size_t begin,
                                       size_t end) {
  std::vector<double> lat;
  lat.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    double s = now_s();
    client::Reply r = c.call(find_one_request(db, model, filters[i % filters.size()]));
    lat.push_back(now_s() - s);
    expect_doc(r);
  }
  return lat;
}

double find_one_pipelined(Client& c, const std::string& model,
                          const std::vector<std::string>& filters, size_t first, size_t n) {
  return pipelined(
             c, n,
             [&](size_t i) {
               return find_one_request(model, filters[(first + i) % filters.size()]);
             },
             [](const client::Reply& r, size_t, Failures& f) { expect_doc_into(r, f); }, "findOne")
      .per_s;
}

double find_one_many_clients(zmq::context_t& ctx, const std::string& endpoint,
                             const std::string& model, const std::vector<std::string>& filters,
                             int clients, int threads, int per_client, bool direct) {
  return many_clients(
      ctx, endpoint, clients, threads, per_client,
      [&](int k, int i) {
        return find_one_request(model, filters[(size_t(k) * 7919 + size_t(i)) % filters.size()]);
      },
      expect_doc_into, "findOne (many clients)", direct);
}

// Ingests insertMany batches of 1000 fresh documents into `model` until `stop`, as another
// application would: on a connection and ZeroMQ context (I/O thread) of its own.
static void ingest(const std::string& endpoint, const std::string& model, std::atomic<bool>& stop,
                   std::atomic<uint64_t>& acked, Failures& f) {
  zmq::context_t own(1);
  Client c(endpoint, client_options(4, &own));
  std::vector<std::string> batch;
  for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); i += 1000) {
    batch.clear();
    for (uint64_t k = i; k < i + 1000; ++k) batch.push_back(bench_doc(k));
    c.insert_many_async("", model, batch, [&](client::Reply r) {
      expect_int(r, "insertedCount", 1000, f);
      acked.fetch_add(1000, std::memory_order_relaxed);
    });
  }
  c.drain();
}

Isolation isolation(const std::string& endpoint, const std::string& model_a,
                    const std::string& model_b, const std::vector<std::string>& filters, size_t n) {
  // The probe: one request in flight on a direct connection of its own (no I/O thread between
  // it and its socket, none shared with the ingest), for the idle and the loaded figures alike.
  // It used to share the suite's context with the ingest, whose single I/O thread then queued
  // the probe's 100-byte findOne behind 200 KB insertMany batches: the bench's own
  // head-of-line blocking, counted as the daemon's (docs/BENCHMARKS.md, session 10).
  client::ClientOptions po = client_options(1, nullptr);
  po.direct = true;
  Client c(endpoint, po);
  Isolation out;
  out.idle = find_one_latencies(c, model_a, filters, 0, n);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acked{0};
  Failures f;
  std::thread ingester([&] {
    try {
      ingest(endpoint, model_b, stop, acked, f);
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

Timed insert_one_pipelined(Client& c, const std::string& db, const std::string& model,
                           const std::vector<std::string>& docs) {
  return pipelined(
      c, docs.size(),
      [&](size_t i) { return client::Request("insertOne", db, model).arg("doc", docs[i]); },
      [](const client::Reply& r, size_t, Failures& f) {
        if (!r.ok()) f.add(r.error().what());
      },
      "insertOne");
}

Timed update_one_pipelined(Client& c, const std::string& db, const std::string& model,
                           const std::vector<std::string>& email_filters) {
  std::string upd = set_score_update();
  return pipelined(
      c, email_filters.size(),
      [&](size_t i) {
        return client::Request("updateOne", db, model)
            .arg("filter", email_filters[i])
            .arg("update", upd);
      },
      [](const client::Reply& r, size_t, Failures& f) { expect_int(r, "matchedCount", 1, f); },
      "updateOne");
}

Timed delete_one_pipelined(Client& c, const std::string& db, const std::string& model,
                           const std::vector<std::string>& email_filters) {
  return pipelined(
      c, email_filters.size(),
      [&](size_t i) {
        return client::Request("deleteOne", db, model).arg("filter", email_filters[i]);
      },
      [](const client::Reply& r, size_t, Failures& f) { expect_int(r, "deletedCount", 1, f); },
      "deleteOne");
}

}  // namespace mg::bench
