// tests/integration/watch_support.h — what the change-stream tests share (changes_test.cc,
// watch_test.cc, watch_direct_test.cc): documents numbered by _id, loading them in insertMany
// batches (or from a Writer thread), reading every event of a model through `changes` or a
// Watcher, waiting until a Watcher receives live, and checking that a run of events is exactly
// seqs first..last, each carrying the document it should.
//
// Header-only, so that it needs no line in tests/integration/CMakeLists.txt.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "clients/cpp/watch.h"
#include "tests/integration/harness.h"

namespace mg::it {

using client::ChangesResult;
using client::Event;
using client::Watcher;
using client::WatchOptions;

// {_id: i, v: i * 3, tag: "t<i % 7>"} encoded.
inline std::string numbered_doc(int64_t i) {
  std::string out;
  MpWriter w(out);
  w.map_header(3);
  w.str("_id"), w.integer(i);
  w.str("v"), w.integer(i * 3);
  w.str("tag"), w.str("t" + std::to_string(i % 7));
  return out;
}

inline std::string encoded_int(int64_t i) {
  std::string out;
  MpWriter(out).integer(i);
  return out;
}

// Inserts numbered_doc(first) .. numbered_doc(first + n - 1) in insertMany batches of `batch`,
// `window` batches in flight, asserting every reply. Returns the number inserted.
inline int64_t load_numbered(Client& c, const std::string& model, int64_t first, int64_t n,
                             int64_t batch = 1000) {
  int64_t inserted = 0, failed = 0;
  std::string first_error;
  for (int64_t b = first; b < first + n; b += batch) {
    std::vector<std::string> docs;
    for (int64_t i = b; i < std::min(first + n, b + batch); ++i) docs.push_back(numbered_doc(i));
    c.insert_many_async("", model, docs, [&](Reply r) {
      if (r.ok()) {
        inserted += r.get("insertedCount").as_int();
      } else if (failed++ == 0) {
        first_error = js(r);
      }
    });
  }
  c.drain();
  BOOST_TEST_REQUIRE(failed == 0, failed << " insertMany failed, first: " << first_error);
  return inserted;
}

// Every event of `model` with seq > after, through `changes` pages.
inline std::vector<Event> replay(Client& c, const std::string& model, int64_t after) {
  std::vector<Event> out;
  for (;;) {
    client::ChangesResult r = c.changes("", model, after);
    for (auto& bytes : r.events) {
      Event e;
      BOOST_TEST_REQUIRE(client::parse_event(MpView(bytes), e), "event " << js(bytes));
      out.push_back(std::move(e));
    }
    if (r.events.empty() || out.back().seq >= uint64_t(r.last_seq)) return out;
    after = int64_t(out.back().seq);
  }
}

// Calls next() until the watcher has delivered seq `until` or `budget` (times time_scale())
// has passed.
inline std::vector<Event> read_until(Watcher& w, uint64_t until,
                                     std::chrono::milliseconds budget = std::chrono::seconds(30)) {
  std::vector<Event> out;
  auto deadline = std::chrono::steady_clock::now() + scaled(budget);
  while (w.last_seq() < until && std::chrono::steady_clock::now() < deadline)
    if (auto e = w.next(std::chrono::milliseconds(200))) out.push_back(std::move(*e));
  return out;
}

// Asserts that `events` are seqs first, first+1, ..., first+size-1 (ends at `last`), each an
// insert of numbered_doc(seq + offset). Stops at the first mismatch (one message, not 50,000).
inline void check_numbered_inserts(const std::vector<Event>& events, uint64_t first, uint64_t last,
                                   int64_t offset) {
  BOOST_TEST_REQUIRE(events.size() == last - first + 1);
  for (size_t k = 0; k < events.size(); ++k) {
    const Event& e = events[k];
    int64_t id = int64_t(first + k) + offset;
    bool good = e.seq == first + k && e.op == "insert" && e.id == encoded_int(id) &&
                js(e.doc) == js(numbered_doc(id));
    if (!good) {
      BOOST_TEST(good, "event " << k << ": seq " << e.seq << " (expected " << first + k << ") op "
                                << e.op << " id " << js(e.id) << " doc " << js(e.doc)
                                << ", expected " << js(numbered_doc(id)));
      return;
    }
  }
}

// Inserts numbered documents [first, first + n) from another thread with its own client.
class Writer {
 public:
  Writer(const std::string& endpoint, const std::string& model, int64_t first, int64_t n)
      : thread_([=, this] { run(endpoint, model, first, n); }) {}
  // Joins; returns "" or what went wrong.
  std::string join() {
    thread_.join();
    return error_;
  }

 private:
  void run(const std::string& endpoint, const std::string& model, int64_t first, int64_t n) {
    try {
      Client c(endpoint, client_options(20000, 2));
      for (int64_t b = first; b < first + n; b += 500) {
        std::vector<std::string> docs;
        for (int64_t i = b; i < std::min(first + n, b + 500); ++i) docs.push_back(numbered_doc(i));
        c.insert_many("", model, docs);
      }
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }

  std::string error_;
  std::thread thread_;
};

// Inserts numbered documents one at a time, reading the watcher after each, until one arrives
// live (the daemon's XPUB socket has seen the subscription). Returns what was delivered.
inline std::vector<Event> until_live(Client& c, Watcher& w, const std::string& model) {
  std::vector<Event> got;
  for (int64_t i = 0; i < 200 && w.stats().live == 0; ++i) {
    c.insert_one("", model, numbered_doc(i));
    while (w.last_seq() < uint64_t(i + 1))
      if (auto e = w.next(std::chrono::milliseconds(100))) got.push_back(std::move(*e));
  }
  BOOST_TEST_REQUIRE(w.stats().live > 0u);
  return got;
}

inline void log_stats(const Watcher& w) {
  const auto& s = w.stats();
  BOOST_TEST_MESSAGE("delivered " << s.delivered << ", live " << s.live << ", fetched " << s.fetched
                                  << ", duplicates " << s.duplicates << ", requests " << s.requests
                                  << ", gaps " << s.gaps);
}

}  // namespace mg::it
