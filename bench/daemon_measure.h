// bench/daemon_measure.h — the measurements of the daemon suite, each one a function over
// connected clients (memgoosed's or the echo server's: both speak the same envelope).
//
// Every function checks the replies it gets (ok, a document found, one document matched...)
// and throws std::runtime_error when they are wrong: a fast wrong answer is not a result.
#pragma once

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

// The findOne request of the suite: {op: findOne, model, filter}.
client::Request find_one_request(const std::string& model, const std::string& filter);
// `{field: value}` encoded.
std::string filter_eq(const char* field, const std::string& value);

// insertMany of `batches` through `c` (its window is the number of batches in flight).
// Returns documents per second.
double load_docs(Client& c, const std::string& model,
                 const std::vector<std::vector<std::string>>& batches);

// findOne with one request in flight, for filters [begin, end) (cycling): the latency of
// each, in seconds.
std::vector<double> find_one_latencies(Client& c, const std::string& model,
                                       const std::vector<std::string>& filters, size_t begin,
                                       size_t end);

// `n` findOne requests pipelined through `c` (its window is the number in flight), filters
// taken from `first` on. Returns operations per second.
double find_one_pipelined(Client& c, const std::string& model,
                          const std::vector<std::string>& filters, size_t first, size_t n);

// `clients` clients spread over `threads` threads, each client with one request in flight,
// each doing `per_client` findOnes. Returns operations per second over all of them.
double find_one_many_clients(zmq::context_t& ctx, const std::string& endpoint,
                             const std::string& model, const std::vector<std::string>& filters,
                             int clients, int threads, int per_client);

// findOne latencies on `model_a` while idle, then while another client ingests insertMany
// batches of 1000 documents (window 4) into `model_b`.
struct Isolation {
  std::vector<double> idle, loaded;  // seconds
  double ingest_docs_per_s = 0;      // model_b's ingest rate while `loaded` was measured
};
Isolation isolation(Client& c, zmq::context_t& ctx, const std::string& endpoint,
                    const std::string& model_a, const std::string& model_b,
                    const std::vector<std::string>& filters, size_t n);

// insertOne of `docs` pipelined through `c`. Returns operations per second.
double insert_one_pipelined(Client& c, const std::string& model,
                            const std::vector<std::string>& docs);
// updateOne ($set score) by each email filter, pipelined; each must match one document.
double update_one_pipelined(Client& c, const std::string& model,
                            const std::vector<std::string>& email_filters);
// deleteOne by each email filter, pipelined; each must delete one document.
double delete_one_pipelined(Client& c, const std::string& model,
                            const std::vector<std::string>& email_filters);

}  // namespace mg::bench
