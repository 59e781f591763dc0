// tests/integration/backpressure_test.cc — a client that sends far more than memgoosed can take
// is slowed down, not buffered without limit, and every request it sent is answered.
//
//  - A raw DEALER socket sends insertOne requests without reading any reply. The daemon answers
//    until its queue of replies to that client is full (ROUTER high-water mark), then stops
//    reading requests; they pile up to the ROUTER's receive high-water mark, then in the
//    client's own send queue, and the client's send blocks (here: times out after 1 s). The
//    test then reads every reply, and does it all again: the daemon's resident memory
//    (/proc/<pid>/status VmRSS) is read while blocked and after each phase, must stay under
//    1.5 GiB, and may grow in the second phase by no more than the first phase grew it (the
//    documents themselves), not by ever longer queues.
//  - The client library's pipelined API with a window of 10,000 sends 200,000 insertOne: the
//    window bounds what is in flight, every callback gets an ok reply, memory stays bounded.
#define BOOST_TEST_MODULE integration_backpressure
#include <fstream>

#include "tests/integration/harness.h"

using namespace mg::it;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr size_t kMiB = 1 << 20;
constexpr size_t kRssLimit = 1536 * kMiB;
constexpr int64_t kSendCap = 2000000;  // a daemon without backpressure would take them all

// VmRSS of `pid` in bytes (0 when unreadable).
size_t vm_rss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return size_t(std::stoull(line.substr(6))) * 1024;
  return 0;
}

// {id, op: insertOne, model, doc: {_id: id, pad}}
std::string insert_body(const std::string& model, int64_t id) {
  static const std::string pad(100, 'p');
  std::string out;
  MpWriter w(out);
  w.map_header(4);
  w.str("id"), w.integer(id);
  w.str("op"), w.str("insertOne");
  w.str("model"), w.str(model);
  w.str("doc"), w.map_header(2), w.str("_id"), w.integer(id), w.str("pad"), w.str(pad);
  return out;
}

struct Phase {
  int64_t sent = 0, answered = 0, failed = 0;
  bool blocked = false;  // a send timed out: the daemon stopped taking requests
  double first_100k_s = 0, blocked_after_s = 0;
  size_t rss_peak = 0, rss_after = 0;
  std::string first_failure;
};

// Sends insertOne bodies with ids from `next_id` on until a send times out (or kSendCap).
void flood(zmq::socket_t& s, const std::string& model, pid_t pid, int64_t& next_id, Phase& p) {
  auto t0 = Clock::now();
  for (; p.sent < kSendCap; ++p.sent) {
    std::string body = insert_body(model, next_id);
    if (!s.send(zmq::buffer(body), zmq::send_flags::none)) {
      p.blocked = true;
      break;
    }
    ++next_id;
    if (p.sent + 1 == 100000)
      p.first_100k_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (p.sent % 20000 == 0) p.rss_peak = std::max(p.rss_peak, vm_rss(pid));
  }
  p.blocked_after_s = std::chrono::duration<double>(Clock::now() - t0).count();
  p.rss_peak = std::max(p.rss_peak, vm_rss(pid));  // while the client is blocked
}

// Reads replies until every request of the phase is answered (or 30 s without one).
void collect(zmq::socket_t& s, int64_t first_id, std::vector<bool>& seen, Phase& p) {
  zmq::message_t msg;
  while (p.answered + p.failed < p.sent) {
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, scaled(milliseconds(30000)));
    if (!(item.revents & ZMQ_POLLIN)) return;
    while (s.recv(msg, zmq::recv_flags::dontwait)) {
      MpView r(std::string_view(msg.data<char>(), msg.size()));
      MpView id = r.get("id"), ok = r.get("ok");
      int64_t k = id.valid() && id.type() == MpType::Int ? id.as_int() - first_id : -1;
      bool good = ok.valid() && ok.type() == MpType::Bool && ok.as_bool() && k >= 0 && k < p.sent &&
                  !seen[size_t(k)];
      if (good) {
        seen[size_t(k)] = true;
        ++p.answered;
      } else if (p.failed++ == 0) {
        p.first_failure = js(r);
      }
    }
  }
}

void report(int n, const Phase& p) {
  BOOST_TEST_MESSAGE(
      "phase " << n << ": sent " << p.sent << " (first 100k in " << p.first_100k_s
               << " s), blocked after " << p.blocked_after_s << " s: " << (p.blocked ? "yes" : "no")
               << "; answered " << p.answered << ", failed " << p.failed << "; daemon RSS peak "
               << p.rss_peak / kMiB << " MiB, after " << p.rss_after / kMiB << " MiB");
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(raw_dealer_flood_blocks_the_sender_and_is_fully_answered, OwnDaemon) {
  start();
  pid_t pid = daemon->pid();
  Client c(daemon->req_endpoint(), client_options());
  c.ping();
  size_t rss0 = vm_rss(pid);
  BOOST_TEST_REQUIRE(rss0 > 0u);
  zmq::context_t ctx(1);
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::sndtimeo, 1000);
  s.connect(daemon->req_endpoint());
  int64_t next_id = 1;
  Phase phases[2];
  for (int i = 0; i < 2; ++i) {
    Phase& p = phases[i];
    int64_t first_id = next_id;
    flood(s, model, pid, next_id, p);
    std::vector<bool> seen(size_t(p.sent), false);
    collect(s, first_id, seen, p);
    p.rss_after = vm_rss(pid);
    report(i + 1, p);
    BOOST_TEST(p.blocked, "the sender was never slowed down: " << p.sent << " requests queued");
    BOOST_TEST(p.answered == p.sent, p.failed << " bad replies, first: " << p.first_failure);
    BOOST_TEST(p.rss_peak < kRssLimit);
  }
  BOOST_TEST_MESSAGE("daemon RSS at start " << rss0 / kMiB << " MiB");
  size_t grew1 = phases[0].rss_peak - std::min(phases[0].rss_peak, rss0);
  size_t grew2 = phases[1].rss_peak - std::min(phases[1].rss_peak, phases[0].rss_peak);
  BOOST_TEST(grew2 <= grew1 + 64 * kMiB,
             "phase 2 grew the daemon by " << grew2 / kMiB << " MiB, phase 1 by " << grew1 / kMiB);
  BOOST_TEST(c.count("", model) == phases[0].sent + phases[1].sent);
  BOOST_TEST(daemon->running());
}

BOOST_FIXTURE_TEST_CASE(pipelined_client_with_a_window_of_10000, OwnDaemon) {
  start();
  pid_t pid = daemon->pid();
  constexpr int64_t kRequests = 200000;
  Client c(daemon->req_endpoint(), client_options(60000, 10000));
  c.ping();
  size_t rss0 = vm_rss(pid), rss_peak = 0;
  int64_t ok = 0, failed = 0;
  std::string first_failure;
  size_t max_in_flight = 0;
  auto t0 = Clock::now();
  for (int64_t i = 1; i <= kRequests; ++i) {
    c.send_async(Request::from_map(insert_body(model, i)), [&](Reply r) {
      if (r.ok())
        ++ok;
      else if (failed++ == 0)
        first_failure = js(r);
    });
    max_in_flight = std::max(max_in_flight, c.in_flight());
    if (i % 20000 == 0) rss_peak = std::max(rss_peak, vm_rss(pid));
  }
  c.drain();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  BOOST_TEST_MESSAGE(kRequests << " insertOne in " << secs << " s (" << double(kRequests) / secs
                               << "/s), at most " << max_in_flight << " in flight; daemon RSS "
                               << rss0 / kMiB << " -> peak " << rss_peak / kMiB << " MiB");
  BOOST_TEST(ok == kRequests, failed << " failed, first: " << first_failure);
  BOOST_TEST(max_in_flight <= 10000u);
  BOOST_TEST(rss_peak < kRssLimit);
  BOOST_TEST(c.count("", model) == kRequests);
}
