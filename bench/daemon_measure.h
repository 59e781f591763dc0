// bench/daemon_measure.h — the measurements over a running daemon that the suites share
// (daemon, changes, backends, scale, compression), each one a function over connected
// clients (memgoosed's or the echo server's: both speak the same envelope).
//
// Every function checks the replies it gets (ok, a document found, one document matched...)
// and throws std::runtime_error when they are wrong: a fast wrong answer is not a result.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "clients/cpp/client.h"

namespace mg::bench {

using client::Client;

// Client options with `window` requests in flight, on the shared context `ctx` (or its own
// when null).
inline client::ClientOptions client_options(int window, zmq::context_t* ctx,
                                            int timeout_ms = 30000) {
  client::ClientOptions o;
  o.window = window, o.context = ctx, o.timeout_ms = timeout_ms;
  return o;
}

// Counts replies that are wrong, keeping the first reason, so that a pipelined run can throw
// after draining.
struct Failures {
  uint64_t n = 0;
  std::string first;
  void add(const std::string& why) {
    if (n++ == 0) first = why;
  }
  // Throws std::runtime_error naming `what` when any reply was wrong.
  void check(const char* what) const;
};

// Files into `f` a reply that is not ok or whose `key` is not the integer `want`.
void expect_int(const client::Reply& r, const char* key, int64_t want, Failures& f);

// What a pipelined measurement gives: the rate, and each request's latency from the moment it
// was handed to the client (send_async) to its callback, in seconds. With a window above 1
// that latency includes the wait behind the requests in flight before it.
struct Timed {
  double per_s = 0;
  std::vector<double> latencies;
};

// `n` requests `make(i)` pipelined through `c` (its window is the number in flight); `check`
// files a wrong reply into the failures. Throws std::runtime_error (naming `what`) after
// draining when a reply was wrong. per_s is requests per second.
Timed pipelined(Client& c, size_t n, const std::function<client::Request(size_t)>& make,
                const std::function<void(const client::Reply&, size_t, Failures&)>& check,
                const char* what);

// `clients` clients spread over `threads` threads, each client its own connection with one
// request in flight, each sending `per_client` requests `make(client, i)`, every reply checked
// by `check`. A thread waits on all of its clients at once (Client::wait_any) and sends a
// client's next request as soon as its reply is in. `direct`: the clients speak ZMTP on their
// own TCP sockets (ClientOptions::direct) instead of through `ctx`. Connected (a ping
// answered) before the clock starts. Returns requests per second over all.
double many_clients(zmq::context_t& ctx, const std::string& endpoint, int clients, int threads,
                    int per_client, const std::function<client::Request(int, int)>& make,
                    const std::function<void(const client::Reply&, Failures&)>& check,
                    const char* what, bool direct = false);

// The findOne request of the suites: {op: findOne, db, model, filter}.
client::Request find_one_request(const std::string& db, const std::string& model,
                                 const std::string& filter);
inline client::Request find_one_request(const std::string& model, const std::string& filter) {
  return find_one_request("", model, filter);
}

// insertMany of `batches` into db.model through `c` (its window is the number of batches in
// flight); each reply must count its batch. per_s is documents per second, latencies are per
// batch.
Timed insert_many(Client& c, const std::string& db, const std::string& model,
                  const std::vector<std::vector<std::string>>& batches);
// insert_many into the database "default", documents per second.
inline double load_docs(Client& c, const std::string& model,
                        const std::vector<std::vector<std::string>>& batches) {
  return insert_many(c, "", model, batches).per_s;
}

// findOne with one request in flight, for filters [begin, end) (cycling): the latency of
// each, in seconds. Each must find a document.
std::vector<double> find_one_latencies(Client& c, const std::string& db, const std::string& model,
                                       const std::vector<std::string>& filters, size_t begin,
                                       size_t end);
inline std::vector<double> find_one_latencies(Client& c, const std::string& model,
                                              const std::vector<std::string>& filters, size_t begin,
                                              size_t end) {
  return find_one_latencies(c, "", model, filters, begin, end);
}

// `n` findOne requests pipelined through `c` (its window is the number in flight), filters
// taken from `first` on. Returns operations per second.
double find_one_pipelined(Client& c, const std::string& model,
                          const std::vector<std::string>& filters, size_t first, size_t n);

// many_clients() with findOne by email: `per_client` findOnes per client, each reply checked
// to carry a document. Returns operations per second over all of them.
double find_one_many_clients(zmq::context_t& ctx, const std::string& endpoint,
                             const std::string& model, const std::vector<std::string>& filters,
                             int clients, int threads, int per_client, bool direct = false);

// findOne latencies on `model_a` while idle, then while another client ingests insertMany
// batches of 1000 documents (window 4) into `model_b`. The probe (the calling thread, one
// request in flight) and the ingest are two clients with connections of their own.
struct Isolation {
  std::vector<double> idle, loaded;  // seconds
  double ingest_docs_per_s = 0;      // model_b's ingest rate while `loaded` was measured
};
Isolation isolation(const std::string& endpoint, const std::string& model_a,
                    const std::string& model_b, const std::vector<std::string>& filters, size_t n);

// insertOne of `docs` into db.model, pipelined through `c`; each must be acknowledged.
Timed insert_one_pipelined(Client& c, const std::string& db, const std::string& model,
                           const std::vector<std::string>& docs);
// updateOne ($set score) by each email filter, pipelined; each must match one document.
Timed update_one_pipelined(Client& c, const std::string& db, const std::string& model,
                           const std::vector<std::string>& email_filters);
// deleteOne by each email filter, pipelined; each must delete one document.
Timed delete_one_pipelined(Client& c, const std::string& db, const std::string& model,
                           const std::vector<std::string>& email_filters);

}  // namespace mg::bench
