// tests/integration/watch_test.cc — the client's Watcher (clients/cpp/watch.h) against the
// real memgoosed under load: every event with seq > after exactly once, in order, with the
// document the write stored, whether the Watcher starts late (10,000 events are history, more
// arrive while it catches up), pauses while 50,000 more happen, or pauses long enough for the
// daemon's PUB socket to drop events (its high-water mark is 100,000 messages), so that only
// `changes` can fill the hole.
#define BOOST_TEST_MODULE integration_watch
#include "tests/integration/watch_support.h"

using namespace mg::it;
using std::chrono::milliseconds;
using std::chrono::seconds;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

BOOST_FIXTURE_TEST_CASE(watcher_started_after_10000_writes, OnSharedDaemon) {
  BOOST_TEST_REQUIRE(load_numbered(c, model, 0, 10000) == 10000);
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, 0);
  Writer more(daemon.req_endpoint(), model, 10000, 5000);  // while the Watcher catches up
  std::vector<Event> got = read_until(w, 15000, seconds(30));
  BOOST_TEST_REQUIRE(more.join() == "");
  check_numbered_inserts(got, 1, 15000, -1);
  BOOST_TEST(!w.next(milliseconds(200)));
  BOOST_TEST(w.stats().fetched >= 10000u);
  log_stats(w);
}

BOOST_FIXTURE_TEST_CASE(watcher_started_from_now_skips_history, OnSharedDaemon) {
  BOOST_TEST_REQUIRE(load_numbered(c, model, 0, 3000) == 3000);
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, Watcher::kNow);
  BOOST_TEST(!w.next(milliseconds(100)));
  BOOST_TEST(w.last_seq() == 3000u);
  BOOST_TEST_REQUIRE(load_numbered(c, model, 3000, 2000) == 2000);
  check_numbered_inserts(read_until(w, 5000, seconds(20)), 3001, 5000, -1);
}

BOOST_FIXTURE_TEST_CASE(watcher_paused_while_50000_more_happen, OnSharedDaemon) {
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, 0);
  BOOST_TEST(!w.next(milliseconds(50)));  // subscribed and synced on an empty model
  BOOST_TEST_REQUIRE(load_numbered(c, model, 0, 1000) == 1000);
  std::vector<Event> got = read_until(w, 1000, seconds(20));
  BOOST_TEST_REQUIRE(load_numbered(c, model, 1000, 50000) == 50000);  // next() not called
  for (auto& e : read_until(w, 51000, seconds(40))) got.push_back(std::move(e));
  check_numbered_inserts(got, 1, 51000, -1);
  BOOST_TEST(!w.next(milliseconds(200)));
  log_stats(w);
}

// 150,000 events while paused, with a small SUB queue: the daemon's PUB socket queues 100,000
// for this subscriber and drops the rest. When nothing follows, the stream goes silent short of
// lastSeq and the idle check fetches the hole with `changes`.
BOOST_FIXTURE_TEST_CASE(watcher_repairs_a_dropped_tail_when_the_stream_goes_silent,
                        OnSharedDaemon) {
  WatchOptions opts;
  opts.sub_hwm = 1000;
  opts.idle_check = milliseconds(300);
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, 0, opts);
  BOOST_TEST_REQUIRE(load_numbered(c, model, 0, 1000) == 1000);
  std::vector<Event> got = read_until(w, 1000, seconds(20));
  BOOST_TEST_REQUIRE(load_numbered(c, model, 1000, 150000) == 150000);
  for (auto& e : read_until(w, 151000, seconds(40))) got.push_back(std::move(e));
  check_numbered_inserts(got, 1, 151000, -1);
  log_stats(w);
  BOOST_TEST(w.stats().fetched > 0u, "the PUB socket dropped nothing: the repair never ran");
  BOOST_TEST(w.stats().delivered == 151000u);
}

// The same drop, then live events again once the queue has room: the first of them skips
// seqs, and that gap (not the idle check, set far off) makes the Watcher fetch the hole.
BOOST_FIXTURE_TEST_CASE(watcher_repairs_a_hole_when_a_live_event_skips_seqs, OnSharedDaemon) {
  WatchOptions opts;
  opts.sub_hwm = 1000;
  opts.idle_check = seconds(60);
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, 0, opts);
  std::vector<Event> got = until_live(c, w, model);  // with the idle check far off
  int64_t n = int64_t(got.size());
  BOOST_TEST_REQUIRE(load_numbered(c, model, n, 1000 - n) == 1000 - n);
  for (auto& e : read_until(w, 1000, seconds(20))) got.push_back(std::move(e));
  uint64_t fetched = w.stats().fetched;
  BOOST_TEST_REQUIRE(load_numbered(c, model, 1000, 150000) == 150000);
  for (auto& e : read_until(w, 60000, seconds(20))) got.push_back(std::move(e));
  BOOST_TEST(w.stats().fetched == fetched, "so far, all from the PUB socket's queue");
  BOOST_TEST_REQUIRE(load_numbered(c, model, 151000, 1000) == 1000);  // queued behind the hole
  for (auto& e : read_until(w, 152000, seconds(20))) got.push_back(std::move(e));
  check_numbered_inserts(got, 1, 152000, -1);
  log_stats(w);
  BOOST_TEST(w.stats().gaps >= 1u);
  BOOST_TEST(w.stats().fetched > fetched);
}

// Events of a model sharing the watched name as a prefix ("XY" for "X") never come out.
BOOST_FIXTURE_TEST_CASE(watcher_ignores_models_sharing_its_prefix, OnSharedDaemon) {
  Watcher w(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, 0);
  BOOST_TEST(!w.next(milliseconds(50)));
  BOOST_TEST_REQUIRE(load_numbered(c, model + "Y", 0, 500) == 500);
  BOOST_TEST_REQUIRE(load_numbered(c, model, 0, 500) == 500);
  BOOST_TEST_REQUIRE(load_numbered(c, model + "Y", 500, 500) == 500);
  check_numbered_inserts(read_until(w, 500, seconds(20)), 1, 500, -1);
  BOOST_TEST(!w.next(milliseconds(300)));
  BOOST_TEST(w.last_seq() == 500u);
}
