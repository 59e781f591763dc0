// tests/integration/watch_direct_test.cc — Watchers against the real memgoosed's change stream
// on tcp, in the three combinations that matter: the direct Watcher (WatchOptions::direct: ZMTP
// spoken as a SUB on its own TCP socket, clients/cpp/zmtp.h) against libzmq's XPUB, the direct
// Watcher against the daemon's own publisher (the default on tcp, daemon/direct_pub.h), and a
// libzmq XSUB Watcher, sending ZMTP heartbeats, against that publisher. Each: every event of
// inserts, updates, replaces and deletes exactly once and in order, as `changes` has them; a hole
// left by the daemon dropping events for a paused Watcher filled from `changes`; the models that
// share the watched topic as a prefix skipped.
//
// The daemons keep 1,000,000 events per model for `changes`: a paused direct Watcher's queue is
// the kernel's socket buffers (megabytes on loopback) on top of the daemon's own queue (the
// XPUB's 100,000 messages, or the daemon's own publisher's), so making the daemon drop takes more
// events than with a libzmq SUB, and the hole must still be in the history.
#define BOOST_TEST_MODULE integration_watch_direct
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "tests/integration/watch_support.h"

using namespace mg::it;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace bdata = boost::unit_test::data;

namespace {

// Two memgoosed for this executable, their change streams on tcp ports: libzmq's XPUB
// (--pub-direct=false), and the daemon's own publisher (the default on tcp without CURVE).
struct TcpPubDaemons {
  void setup() {
    for (bool pub_direct : {false, true}) {
      DaemonOptions o;
      o.pub_endpoint = mg::testing::free_tcp_endpoint();
      o.extra_args = {"--change-log-size", "1000000"};
      if (!pub_direct) o.extra_args.push_back("--pub-direct=false");
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
                : c == Combo::DirectPub   ? "direct Watcher, daemon's own publisher"
                                          : "libzmq Watcher, daemon's own publisher");
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
  // `heartbeats`: the libzmq Watcher PINGs the daemon. Not in a test that stops reading: its
  // SUB queue full, libzmq reads nothing more, the PONG stuck behind the events never comes and
  // libzmq drops the connection after heartbeat_timeout (with either publisher), so what was
  // published meanwhile is repaired by the idle check, not by the gap the test is about.
  Watcher watcher(uint64_t after, WatchOptions o = {}, bool heartbeats = true) {
    o.client = client_options();
    if (combo == Combo::LibzmqWatcherOnDirectPub && !heartbeats) {
      // a libzmq XSUB as it comes
    } else if (combo == Combo::LibzmqWatcherOnDirectPub) {
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

// A raw TCP connection to a pub endpoint, for peers that are no ZeroMQ socket.
class RawPeer {
 public:
  explicit RawPeer(const std::string& endpoint) {
    auto colon = endpoint.rfind(':');
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(std::stoi(endpoint.substr(colon + 1))));
    inet_pton(AF_INET, endpoint.substr(6, colon - 6).c_str(), &a.sin_addr);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_TEST_REQUIRE(fd_ >= 0);
    BOOST_TEST_REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~RawPeer() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;
  // Sends all of `bytes` (blocking); false when the daemon has closed the connection meanwhile.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(size_t(n));
    }
    return true;
  }
  // Reads (and discards: the daemon's greeting) until the daemon closes the connection; false
  // when it is still open after `timeout`.
  bool closed_within(milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;  // EOF or ECONNRESET
    }
    return false;
  }

 private:
  int fd_ = -1;
};

// What a SUB sends first: the greeting, READY (Socket-Type SUB).
std::string zmtp_frame(uint8_t flags, std::string_view body) {
  std::string f(1, char(flags));
  f.push_back(char(body.size()));
  return f.append(body);
}
std::string zmtp_sub_hello() {
  std::string g(64, '\0');
  g[0] = char(0xff), g[8] = 1, g[9] = 0x7f, g[10] = 3;
  g.replace(12, 4, "NULL");
  std::string ready("\x05READY\x0bSocket-Type\0\0\0\x03SUB", 1 + 5 + 1 + 11 + 4 + 3);
  return g + zmtp_frame(4, ready);
}

// CPU time (user + system) of process `pid`, in clock ticks.
int64_t cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return utime + stime;
}

int64_t open_fds(Client& c) {
  Reply r = c.stats();
  BOOST_TEST_REQUIRE(r.ok());
  return r.get("process").get("openFds").as_int();
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
  Watcher w = t.watcher(0, o, /*heartbeats=*/false);
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

// Hostile peers on the daemon's own publisher (daemon/direct_pub.h): random bytes, a greeting
// and then nothing, a frame length of 2^62, 5,000 subscriptions, 300 idle connections. Meanwhile
// a direct Watcher and a libzmq Watcher get every event live, exactly once, and requests are
// answered; the peers that broke the protocol are dropped at once, and once the others are gone
// the daemon holds no more descriptors than before.
BOOST_AUTO_TEST_CASE(garbage_peers_leave_the_publisher_working) {
  OnTcpDaemon t(Combo::DirectPub);
  auto& c = t.c;
  auto& model = t.model;
  const std::string& pub = t.daemon.pub_endpoint();
  Watcher direct = t.watcher(0);
  WatchOptions o;
  o.client = client_options();
  o.configure_sub = [](zmq::socket_t& s) {  // PINGs the daemon must answer
    s.set(zmq::sockopt::heartbeat_ivl, 50);
    s.set(zmq::sockopt::heartbeat_timeout, 1000);
  };
  Watcher libzmq(t.daemon.req_endpoint(), pub, "default", model, 0, o);
  std::vector<Event> got_direct = until_live(c, direct, model), got_libzmq;
  for (int64_t i = int64_t(got_direct.size()); libzmq.stats().live == 0 && i < 200; ++i) {
    c.insert_one("", model, numbered_doc(i));
    for (auto& e : read_until(direct, uint64_t(i + 1))) got_direct.push_back(std::move(e));
    for (auto& e : read_until(libzmq, uint64_t(i + 1))) got_libzmq.push_back(std::move(e));
  }
  for (auto& e : read_until(libzmq, direct.last_seq())) got_libzmq.push_back(std::move(e));
  BOOST_TEST_REQUIRE(libzmq.stats().live > 0u);
  uint64_t gaps_direct = direct.stats().gaps, gaps_libzmq = libzmq.stats().gaps;
  int64_t fds_before = open_fds(c);

  std::mt19937 rng(7);
  std::string noise(64 * 1024, '\0');
  for (auto& ch : noise) ch = char(rng());
  noise[0] = 'G';  // not 0xFF: dropped at the first byte
  RawPeer random(pub), random_after_ready(pub), greeting_only(pub), huge_frame(pub),
      subscriber_5000(pub);
  BOOST_TEST(random.send(noise));
  noise[0] = char(0xff);
  BOOST_TEST(random_after_ready.send(zmtp_sub_hello()));
  random_after_ready.send(noise);  // may see the drop before all is sent
  BOOST_TEST(greeting_only.send(zmtp_sub_hello().substr(0, 64)));
  BOOST_TEST(huge_frame.send(zmtp_sub_hello() + std::string("\x02\x40\0\0\0\0\0\0\0", 9)));
  std::string subs = zmtp_sub_hello();
  for (int i = 0; i < 5000; ++i) subs += zmtp_frame(0, "\x01garbage." + std::to_string(i));
  subscriber_5000.send(subs);
  std::vector<std::unique_ptr<RawPeer>> idle;
  for (int i = 0; i < 300; ++i) idle.push_back(std::make_unique<RawPeer>(pub));

  int64_t n = int64_t(got_direct.size());
  BOOST_TEST_REQUIRE(load_numbered(c, model, n, 3000 - n) == 3000 - n);
  for (auto& e : read_until(direct, 3000)) got_direct.push_back(std::move(e));
  for (auto& e : read_until(libzmq, 3000)) got_libzmq.push_back(std::move(e));
  check_numbered_inserts(got_direct, 1, 3000, -1);
  check_numbered_inserts(got_libzmq, 1, 3000, -1);
  BOOST_TEST(direct.stats().gaps == gaps_direct, "the direct Watcher lost events live");
  BOOST_TEST(libzmq.stats().gaps == gaps_libzmq, "the libzmq Watcher lost events live");
  BOOST_TEST(c.ping().ok());

  BOOST_TEST(random.closed_within(seconds(5)), "random bytes: dropped");
  BOOST_TEST(random_after_ready.closed_within(seconds(5)), "random bytes after READY: dropped");
  BOOST_TEST(huge_frame.closed_within(seconds(5)), "a frame of 2^62 bytes: dropped");
  BOOST_TEST(subscriber_5000.closed_within(seconds(5)), "5,000 subscriptions: dropped");
  BOOST_TEST(!greeting_only.closed_within(milliseconds(200)), "within its handshake time");
  BOOST_TEST(open_fds(c) >= fds_before + 300, "the idle connections are held");

  idle.clear();
  greeting_only.close();
  int64_t fds = open_fds(c);
  for (int i = 0; i < 100 && fds > fds_before; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    fds = open_fds(c);
  }
  BOOST_TEST(fds <= fds_before, "open fds " << fds << ", " << fds_before << " before");
  BOOST_TEST(load_numbered(c, model, 3000, 10) == 10);
  for (auto& e : read_until(direct, 3010)) got_direct.push_back(std::move(e));
  BOOST_TEST(direct.last_seq() == 3010u);
}

// The daemon out of descriptors (its RLIMIT_NOFILE lowered from here with prlimit): accept4
// fails on the pub listener, which stays readable. The front door pauses the listener instead of
// spinning on it, says so once, and accepts again once descriptors are back.
BOOST_AUTO_TEST_CASE(out_of_descriptors_the_publisher_does_not_spin) {
  OnTcpDaemon t(Combo::DirectPub);
  auto& c = t.c;
  pid_t pid = t.daemon.pid();
  size_t log_from = t.daemon.log_size();
  rlimit old{};
  BOOST_TEST_REQUIRE(::prlimit(pid, RLIMIT_NOFILE, nullptr, &old) == 0);
  rlimit tight = old;
  tight.rlim_cur = rlim_t(open_fds(c) + 10);
  BOOST_TEST_REQUIRE(::prlimit(pid, RLIMIT_NOFILE, &tight, nullptr) == 0);
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < 40; ++i) peers.push_back(std::make_unique<RawPeer>(t.daemon.pub_endpoint()));
  BOOST_TEST(t.daemon.wait_for_log("accept failed", seconds(5), log_from), t.daemon.log());
  int64_t before = cpu_ticks(pid);
  std::this_thread::sleep_for(seconds(2));
  int64_t used = cpu_ticks(pid) - before;
  BOOST_TEST(used < 2 * sysconf(_SC_CLK_TCK) / 4, "the daemon used " << used << " ticks in 2 s");
  BOOST_TEST(::prlimit(pid, RLIMIT_NOFILE, &old, nullptr) == 0);
  BOOST_TEST(t.daemon.wait_for_log("accepting again", seconds(5), log_from), t.daemon.log());
  peers.clear();
  Watcher w = t.watcher(0);  // a new subscriber is served
  std::vector<Event> got = until_live(c, w, t.model);
  BOOST_TEST(!got.empty());
}

// On tcp without CURVE the daemon serves the change stream itself unless told not to; on ipc it
// uses libzmq's XPUB without being told.
BOOST_AUTO_TEST_CASE(own_publisher_is_the_default_on_tcp) {
  BOOST_TEST(TcpPubDaemons::daemons[true]->wait_for_log("change stream served by memgoosed itself",
                                                        seconds(5)),
             TcpPubDaemons::daemons[true]->log());
  BOOST_TEST(TcpPubDaemons::daemons[false]->wait_for_log("change stream served by libzmq's XPUB",
                                                         seconds(5)),
             TcpPubDaemons::daemons[false]->log());
  DaemonOptions o;  // ipc://<dir>/pub.sock
  DaemonProcess ipc(o);
  BOOST_TEST(ipc.wait_for_log("change stream served by libzmq's XPUB", seconds(5)), ipc.log());
  BOOST_TEST(ipc.stop() == 0);
}

// An explicit --pub-direct speaks tcp without CURVE only: anything else is a one-line refusal
// at start.
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
