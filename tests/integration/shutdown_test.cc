// tests/integration/shutdown_test.cc — graceful shutdown (CONTRACT.md §1, §6 code 91) with a
// private daemon per test: SIGTERM or SIGINT with 500 requests in flight answers every one of
// them (its result, or ShutdownInProgress) and exits 0; a request read after the signal while
// older requests still run gets ShutdownInProgress, deterministically; an idle daemon exits 0
// quickly.
#define BOOST_TEST_MODULE integration_shutdown
#include <algorithm>
#include <csignal>
#include <map>

#include "tests/integration/harness.h"

using namespace mg::it;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int kInFlight = 500;

struct Outcome {
  int ok = 0, shutting_down = 0;
  std::map<int, std::string> other;  // request number -> reply, for anything else
};

// Sends kInFlight inserts without waiting, signals the daemon, then collects every reply.
Outcome inserts_then_signal(DaemonProcess& d, int sig) {
  Client c(d.req_endpoint(), client_options(15000, 2 * kInFlight));
  c.ping();  // connected before the burst
  Outcome out;
  for (int i = 0; i < kInFlight; ++i) {
    std::string doc =
        J(R"({"_id":)" + std::to_string(i) + R"(,"pad":")" + std::string(200, 'x') + R"("})");
    std::string model = "Shut" + std::to_string(i % 4);
    c.send_async(std::move(Request("insertOne", "", model).arg("doc", doc)), [&out, i](Reply r) {
      if (r.ok() && r.get("insertedId").valid() && r.get("insertedId").as_int() == i)
        ++out.ok;
      else if (!r.ok() && r.error().code() == 91)
        ++out.shutting_down;
      else
        out.other[i] = js(r);
    });
  }
  d.signal(sig);
  c.drain();
  return out;
}

void check_all_answered(DaemonProcess& d, const Outcome& o) {
  BOOST_TEST(o.ok + o.shutting_down == kInFlight,
             o.ok << " ok, " << o.shutting_down << " ShutdownInProgress, " << o.other.size()
                  << " other, e.g. request " << (o.other.empty() ? -1 : o.other.begin()->first)
                  << ": " << (o.other.empty() ? "" : o.other.begin()->second));
  int status = d.wait(milliseconds(20000));
  BOOST_TEST(status == 0, "exit status " << status << "; log:\n" << d.log());
  BOOST_TEST_MESSAGE(o.ok << " inserted, " << o.shutting_down << " ShutdownInProgress");
}

// How long one full-scan sorted find over `model` takes, in milliseconds (at least 1).
int64_t time_slow_find(Client& c, const std::string& model) {
  auto t0 = Clock::now();
  c.find("", model, find_args(J(R"({"pad":{"$regex":"z$"}})"), J(R"({"k":-1})"), 0, 1));
  return std::max<int64_t>(1, std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count());
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(sigterm_with_500_requests_in_flight, OwnDaemon) {
  start();
  Outcome o = inserts_then_signal(*daemon, SIGTERM);
  check_all_answered(*daemon, o);
}

BOOST_FIXTURE_TEST_CASE(sigint_with_500_requests_in_flight, OwnDaemon) {
  start();
  Outcome o = inserts_then_signal(*daemon, SIGINT);
  check_all_answered(*daemon, o);
}

BOOST_FIXTURE_TEST_CASE(request_after_sigterm_gets_shutdown_in_progress, OwnDaemon) {
  start();
  Client c(daemon->req_endpoint(), client_options(30000, 1000));
  // A model whose every find scans and sorts 20,000 documents.
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<std::string> docs;
    for (int i = 0; i < 1000; ++i)
      docs.push_back(J(R"({"k":)" + std::to_string(batch * 1000 + i) + R"(,"pad":"abcdefgh"})"));
    c.insert_many("", model, docs);
  }
  // Queue about 1.5 s of such finds: the daemon is still answering them after the signal.
  int64_t n = std::clamp<int64_t>(1500 / time_slow_find(c, model), 20, 900);
  int answered_ok = 0, refused = 0;
  for (int64_t i = 0; i < n; ++i) {
    Request find("find", "", model);
    find.arg("filter", J(R"({"pad":{"$regex":"z$"}})")).arg("sort", J(R"({"k":-1})"));
    c.send_async(std::move(find), [&](Reply r) { r.ok() ? ++answered_ok : ++refused; });
  }
  c.ping();  // sent after the finds on the same connection: they have all been read
  size_t mark = daemon->log_size();
  daemon->signal(SIGTERM);
  BOOST_TEST_REQUIRE(daemon->wait_for_log("stopping", milliseconds(10000), mark), daemon->log());
  EXPECT_ERROR(c, Request("ping"), 91);
  EXPECT_ERROR(c, Request("count", "", model).arg("filter", J("{}")), 91);
  EXPECT_ERROR(c, Request("insertOne", "", model + "2").arg("doc", J(R"({"a":1})")), 91);
  c.drain();
  // Requests read before the signal were in flight: answered with their result.
  BOOST_TEST(answered_ok == n, answered_ok << " of " << n << " finds ok, " << refused << " not");
  int status = daemon->wait(milliseconds(20000));
  BOOST_TEST(status == 0, "exit status " << status << "; log:\n" << daemon->log());
}

BOOST_FIXTURE_TEST_CASE(idle_daemon_exits_zero_quickly, OwnDaemon) {
  start();
  {
    Client c(daemon->req_endpoint(), client_options());
    c.insert_one("", model, J(R"({"_id":1})"));
  }
  auto t0 = Clock::now();
  int status = daemon->stop();
  BOOST_TEST(status == 0, daemon->log());
  BOOST_TEST(std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count() < 5000);
  BOOST_TEST(daemon->log().find("stopped") != std::string::npos, daemon->log());
}

BOOST_FIXTURE_TEST_CASE(sigint_on_an_idle_daemon_exits_zero, OwnDaemon) {
  start();
  daemon->signal(SIGINT);
  int status = daemon->wait(milliseconds(5000));
  BOOST_TEST(status == 0, daemon->log());
}
