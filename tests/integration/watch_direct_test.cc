// tests/integration/watch_direct_test.cc — Watchers against the real memgoosed's change stream
// on tcp, in the three combinations that matter: the direct Watcher (WatchOptions::direct: ZMTP
// spoken as a SUB on its own TCP socket, clients/cpp/zmtp.h) against libzmq's XPUB, the direct
// Watcher against the daemon's own publisher (--pub-direct, daemon/direct_pub.h), and a libzmq
// XSUB Watcher, sending ZMTP heartbeats, against that publisher. Each: every event of inserts,
// updates, replaces and deletes exactly once and in order, as `changes` has them; a hole left by
// the daemon dropping events for a paused Watcher filled from `changes`; the models that share
// the watched topic as a prefix skipped.
//
// The daemons keep 1,000,000 events per model for `changes`: a paused direct Watcher's queue is
// the kernel's socket buffers (megabytes on loopback) on top of the daemon's own queue (the
// XPUB's 100,000 messages, or --pub-direct's 32 MiB), so making the daemon drop takes more
// events than with a libzmq SUB, and the hole must still be in the history.
#define BOOST_TEST_MODULE integration_watch_direct
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <cstdio>

#include "tests/integration/watch_support.h"

using namespace mg::it;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace bdata = boost::unit_test::data;

namespace {

// Two memgoosed for this executable, their change streams on tcp ports: libzmq's XPUB, and the
// daemon's own publisher.
struct TcpPubDaemons {
  void setup() {
    for (bool pub_direct : {false, true}) {
      DaemonOptions o;
      o.pub_endpoint = mg::testing::free_tcp_endpoint();
      o.extra_args = {"--change-log-size", "1000000"};
      if (pub_direct) o.extra_args.push_back("--pub-direct");
      daemons[pub_direct] = std::make_unique<DaemonProcess>(o);
    }
  }
  void teardown() {
    for (auto& d : daemons) {
      int status = d->stop();
      BOOST_TEST(status == 0, "memgoosed exit status " << status << "; log:\n" << d->log());
      d.reset();
    }
  }
  static inline std::unique_ptr<DaemonProcess> daemons[2];
};

BOOST_TEST_GLOBAL_FIXTURE(TcpPubDaemons);

// Which publisher, which Watcher.
enum class Combo { DirectWatcher, DirectPub, LibzmqWatcherOnDirectPub };
std::ostream& operator<<(std::ostream& os, Combo c) {
  return os << (c == Combo::DirectWatcher ? "direct Watcher, libzmq XPUB"
                : c == Combo::DirectPub   ? "direct Watcher, --pub-direct"
                                          : "libzmq Watcher, --pub-direct");
}
const auto kCombos =
    bdata::make({Combo::DirectWatcher, Combo::DirectPub, Combo::LibzmqWatcherOnDirectPub});

struct OnTcpDaemon {
  explicit OnTcpDaemon(Combo combo)
      : daemon(*TcpPubDaemons::daemons[combo != Combo::DirectWatcher]),
        c(daemon.req_endpoint(), client_options()),
        combo(combo) {}
  ~OnTcpDaemon() {
    BOOST_CHECK_MESSAGE(daemon.running(), "memgoosed died during this test; log:\n"
                                              << daemon.log());
  }
  Watcher watcher(uint64_t after, WatchOptions o = {}) {
    o.client = client_options();
    if (combo == Combo::LibzmqWatcherOnDirectPub) {
      o.configure_sub = [](zmq::socket_t& s) {  // PINGs the daemon must answer
        s.set(zmq::sockopt::heartbeat_ivl, 50);
        s.set(zmq::sockopt::heartbeat_timeout, 1000);
      };
    } else {
      o.direct = true;
    }
    return Watcher(daemon.req_endpoint(), daemon.pub_endpoint(), "default", model, after, o);
  }
  DaemonProcess& daemon;
  Client c;
  // The data test cases are all named _0, _1, _2: a model name of our own, unique in the run,
  // that no other model's name extends (three digits and a closing letter).
  std::string model = [] {
    static int next = 0;
    char name[32];
    std::snprintf(name, sizeof name, "Watch%03dm", next++);
    return std::string(name);
  }();
  Combo combo;
};

// Reads the watcher until it has delivered seq `until`.
std::vector<Event> read_all(Watcher& w, uint64_t until) {
  return read_until(w, until, seconds(40));
}

}  // namespace

BOOST_DATA_TEST_CASE(watcher_delivers_every_write_once_in_order, kCombos, combo) {
  OnTcpDaemon t(combo);
  auto& c = t.c;
  auto& model = t.model;
  Watcher w = t.watcher(0);
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
BOOST_DATA_TEST_CASE(watcher_repairs_a_hole_the_daemon_dropped, kCombos, combo) {
  OnTcpDaemon t(combo);
  auto& c = t.c;
  auto& model = t.model;
  WatchOptions o;
  o.idle_check = seconds(60);
  Watcher w = t.watcher(0, o);
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
BOOST_DATA_TEST_CASE(watcher_skips_models_sharing_its_prefix, kCombos, combo) {
  OnTcpDaemon t(combo);
  auto& c = t.c;
  auto& model = t.model;
  Watcher w = t.watcher(0);
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

// --pub-direct speaks tcp without CURVE only: anything else is a one-line refusal at start.
BOOST_AUTO_TEST_CASE(pub_direct_refuses_ipc_and_curve) {
  DaemonOptions o;
  o.start = false;  // ipc://<dir>/pub.sock
  o.extra_args = {"--pub-direct"};
  DaemonProcess ipc(o);
  BOOST_CHECK_THROW(ipc.start(), std::runtime_error);
  BOOST_TEST(ipc.log().find("--pub-direct needs a tcp:// pub endpoint") != std::string::npos,
             ipc.log());
  o.pub_endpoint = mg::testing::free_tcp_endpoint();
  o.extra_args = {"--pub-direct", "--curve-secret-key", "/nonexistent.key", "--curve-allow",
                  "/nonexistent"};
  DaemonProcess curve(o);
  BOOST_CHECK_THROW(curve.start(), std::runtime_error);
  BOOST_TEST(curve.log().find("--pub-direct does not speak CURVE") != std::string::npos,
             curve.log());
}
