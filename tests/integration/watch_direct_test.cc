// tests/integration/watch_direct_test.cc — the direct Watcher (WatchOptions::direct: ZMTP spoken
// as a SUB on the Watcher's own TCP socket, clients/cpp/zmtp.h) against the real memgoosed's
// XPUB on tcp: every event of inserts, updates, replaces and deletes exactly once and in order,
// as `changes` has them; a hole left by the daemon dropping events for a paused Watcher filled
// from `changes`; the models that share the watched topic as a prefix skipped.
//
// The daemon keeps 1,000,000 events per model for `changes` here: a direct Watcher's queue is
// the kernel's socket buffers (megabytes on loopback) on top of the XPUB's 100,000 messages, so
// making the daemon drop takes more events than with a libzmq SUB, and the hole must still be in
// the history.
#define BOOST_TEST_MODULE integration_watch_direct
#include "tests/integration/watch_support.h"

using namespace mg::it;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// One memgoosed for this executable, its change stream on a tcp port.
struct TcpPubDaemon {
  void setup() {
    DaemonOptions o;
    o.pub_endpoint = mg::testing::free_tcp_endpoint();
    o.extra_args = {"--change-log-size", "1000000"};
    daemon = std::make_unique<DaemonProcess>(o);
  }
  void teardown() {
    int status = daemon->stop();
    BOOST_TEST(status == 0, "memgoosed exit status " << status << "; log:\n" << daemon->log());
    daemon.reset();
  }
  static inline std::unique_ptr<DaemonProcess> daemon;
};

BOOST_TEST_GLOBAL_FIXTURE(TcpPubDaemon);

struct OnTcpDaemon {
  DaemonProcess& daemon = *TcpPubDaemon::daemon;
  Client c{daemon.req_endpoint(), client_options()};
  std::string model = test_model_name();
  ~OnTcpDaemon() {
    BOOST_CHECK_MESSAGE(daemon.running(), "memgoosed died during this test; log:\n"
                                              << daemon.log());
  }
  Watcher direct_watcher(uint64_t after, WatchOptions o = {}) {
    o.direct = true;
    o.client = client_options();
    return Watcher(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, after, o);
  }
};

// Reads the watcher until it has delivered seq `until`.
std::vector<Event> read_all(Watcher& w, uint64_t until) {
  return read_until(w, until, seconds(40));
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(direct_watcher_delivers_every_write_once_in_order, OnTcpDaemon) {
  Watcher w = direct_watcher(0);
  std::vector<Event> got = until_live(c, w, model);
  int64_t n = int64_t(got.size());
  BOOST_TEST_REQUIRE(load_numbered(c, model, n, 3000 - n) == 3000 - n);
  BOOST_TEST(c.update_many("", model, J(R"({"tag":"t3"})"), J(R"({"$inc":{"v":1}})")).modified ==
             429);
  BOOST_TEST(c.replace_one("", model, J(R"({"_id":10})"), J(R"({"r":true})")).modified == 1);
  BOOST_TEST(c.delete_many("", model, J(R"({"tag":"t5"})")) == 428);
  BOOST_TEST(c.update_one("", model, J(R"({"_id":13})"), J(R"({"$set":{"v":-1}})")).modified == 1);
  const uint64_t last = 3000 + 429 + 1 + 428 + 1;
  for (auto& e : read_all(w, last)) got.push_back(std::move(e));
  BOOST_TEST(!w.next(milliseconds(200)));

  // Exactly what the daemon's history holds, in the same order.
  std::vector<Event> want = replay(c, model, 0);
  BOOST_TEST_REQUIRE(want.size() == last);
  BOOST_TEST_REQUIRE(got.size() == want.size());
  for (size_t k = 0; k < want.size(); ++k) {
    const Event &a = got[k], &b = want[k];
    bool same = a.seq == k + 1 && a.seq == b.seq && a.op == b.op && a.id == b.id &&
                a.doc == b.doc && a.ts.sec == b.ts.sec && a.ts.nsec == b.ts.nsec;
    if (!same) {
      BOOST_TEST(same, "event " << k << ": seq " << a.seq << " " << a.op << " " << js(a.id) << " "
                                << js(a.doc) << ", expected seq " << b.seq << " " << b.op << " "
                                << js(b.id) << " " << js(b.doc));
      break;
    }
  }
  BOOST_TEST(got[3000].op == "update");
  BOOST_TEST(got[3429].op == "replace");
  BOOST_TEST(got[3430].op == "delete");
  BOOST_TEST(got[3430].doc.empty());
  BOOST_TEST(got.back().op == "update");
  BOOST_TEST(w.stats().malformed == 0u);
  BOOST_TEST(w.stats().live + w.stats().fetched >= last);
  BOOST_TEST(w.stats().live > last / 2, "most events came live, not from `changes`");
  log_stats(w);
}

// 400,000 events while the Watcher does not read: the kernel's buffers and the XPUB's queue
// (100,000 messages) fill, the daemon drops the rest. The events published after that, once the
// Watcher reads again, skip seqs: that gap (the idle check is set far off) fetches the hole.
BOOST_FIXTURE_TEST_CASE(direct_watcher_repairs_a_hole_the_daemon_dropped, OnTcpDaemon) {
  WatchOptions o;
  o.idle_check = seconds(60);
  Watcher w = direct_watcher(0, o);
  std::vector<Event> got = until_live(c, w, model);
  int64_t n = int64_t(got.size());
  BOOST_TEST_REQUIRE(load_numbered(c, model, n, 1000 - n) == 1000 - n);
  for (auto& e : read_all(w, 1000)) got.push_back(std::move(e));
  uint64_t fetched = w.stats().fetched;
  BOOST_TEST_REQUIRE(load_numbered(c, model, 1000, 400000) == 400000);  // next() not called
  for (auto& e : read_all(w, 60000)) got.push_back(std::move(e));
  BOOST_TEST(w.stats().fetched == fetched, "so far, all from the queues");
  BOOST_TEST_REQUIRE(load_numbered(c, model, 401000, 1000) == 1000);  // behind the hole
  for (auto& e : read_all(w, 402000)) got.push_back(std::move(e));
  check_numbered_inserts(got, 1, 402000, -1);
  log_stats(w);
  BOOST_TEST(w.stats().gaps >= 1u);
  BOOST_TEST(w.stats().fetched > fetched, "the daemon dropped nothing: the repair never ran");
  BOOST_TEST(w.stats().delivered == 402000u);
}

// Events of a model whose name extends the watched one ("XY" for "X") match the subscription
// (ZeroMQ matches prefixes) and reach the socket, but never come out of the Watcher.
BOOST_FIXTURE_TEST_CASE(direct_watcher_skips_models_sharing_its_prefix, OnTcpDaemon) {
  Watcher w = direct_watcher(0);
  BOOST_TEST(!w.next(milliseconds(50)));
  std::vector<Event> got = until_live(c, w, model);
  int64_t n = int64_t(got.size());
  BOOST_TEST_REQUIRE(load_numbered(c, model + "X", 0, 500) == 500);
  BOOST_TEST_REQUIRE(load_numbered(c, model, n, 500 - n) == 500 - n);
  BOOST_TEST_REQUIRE(load_numbered(c, model + "X", 500, 500) == 500);
  for (auto& e : read_all(w, 500)) got.push_back(std::move(e));
  check_numbered_inserts(got, 1, 500, -1);
  BOOST_TEST(!w.next(milliseconds(300)));
  BOOST_TEST(w.last_seq() == 500u);
  BOOST_TEST(w.stats().live <= 500u);  // the other model's events are not counted
  BOOST_TEST(w.stats().malformed == 0u);
}
