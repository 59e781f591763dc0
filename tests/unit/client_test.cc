// The C++ client (clients/cpp) against a fake daemon: a ROUTER socket on an inproc endpoint
// served by a thread that answers with canned replies. The fake records what it saw; the test
// thread asserts on it after join() (Boost.Test assertions are not thread-safe).
#define BOOST_TEST_MODULE client
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "clients/cpp/client.h"
#include "clients/cpp/watch.h"
#include "core/ejson.h"

using namespace mg::client;
using mg::json_from_mp;
using mg::MapIter;
using mg::mp_from_json;
using mg::MpView;
using mg::MpWriter;
using mg::validate;
using Clock = std::chrono::steady_clock;

namespace {

std::string J(std::string_view json) {
  return mp_from_json(json);
}

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

struct Incoming {
  std::string identity;
  std::string body;
  MpView root() const { return MpView(body); }
  int64_t id() const { return root().get("id").as_int(); }
  std::string op() const { return std::string(root().get("op").as_str()); }
  int64_t arg_int(std::string_view key) const { return root().get(key).as_int(); }
  // The request as JSON without its id, for comparing with what the contract says.
  std::string json_without_id() const {
    std::string out;
    MpWriter w(out);
    w.map_header(root().count() - 1);
    MapIter it(root());
    std::string_view k;
    MpView v;
    while (it.next(k, v))
      if (k != "id") w.str(k), w.raw(v);
    return json_from_mp(out);
  }
};

// Receives one request (DEALER framing: [identity, body]); nullopt after `timeout_ms`.
std::optional<Incoming> receive(zmq::socket_t& router, int timeout_ms = 5000) {
  zmq_pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms));
  if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
  Incoming in;
  zmq::message_t identity, body;
  if (!router.recv(identity) || !router.recv(body)) return std::nullopt;
  in.identity = identity.to_string();
  in.body = body.to_string();
  return in;
}

// Replies `{id: <request id>, ...fields of json}` to the request's sender.
void reply(zmq::socket_t& router, const Incoming& to, std::string_view json) {
  std::string fields = J(json), out;
  MpWriter w(out);
  w.map_header(MpView(fields).count() + 1);
  w.str("id");
  w.raw(to.root().get("id"));
  out.append(std::string_view(fields).substr(MpView(fields).first() - MpView(fields).data()));
  router.send(zmq::buffer(to.identity), zmq::send_flags::sndmore);
  router.send(zmq::buffer(out), zmq::send_flags::none);
}

// A fake daemon running `serve(router)` on its own thread.
class FakeServer {
 public:
  // On inproc://<name>, or with `tcp` on a free loopback port.
  FakeServer(const std::string& name, std::function<void(zmq::socket_t&)> serve, bool tcp = false)
      : endpoint_(tcp ? "tcp://127.0.0.1:*" : "inproc://" + name),
        router_(ctx_, zmq::socket_type::router) {
    router_.set(zmq::sockopt::linger, 0);
    router_.bind(endpoint_);
    if (tcp) endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this, serve = std::move(serve)] { serve(router_); });
  }
  ~FakeServer() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  ClientOptions options(int timeout_ms = 5000, int window = 64, bool direct = false) {
    ClientOptions o;
    o.direct = direct;
    o.timeout_ms = timeout_ms;
    o.window = window;
    o.context = &ctx_;
    return o;
  }

 private:
  zmq::context_t ctx_{1};
  std::string endpoint_;
  zmq::socket_t router_;
  std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(request_builds_the_envelope_in_order) {
  Request req("find", "app", "User");
  req.arg("filter", J(R"({"age":{"$gt":1}})")).arg_int("limit", -5).arg_bool("upsert", true);
  req.arg_str("s", "x").arg_double("d", 1.5).arg_if("sort", "");
  std::string& body = req.finish(7);
  std::string_view msg = std::string_view(body).substr(req.offset());
  BOOST_TEST(validate(msg).ok());
  BOOST_TEST(json_from_mp(std::string(msg)) ==
             R"({"id":7,"op":"find","db":"app","model":"User","filter":{"age":{"$gt":1}},)"
             R"("limit":-5,"upsert":true,"s":"x","d":1.5})");
  // db and model are left out when empty; 16+ pairs need a map16 header
  Request many("ping");
  for (int i = 0; i < 20; ++i) many.arg_int("k" + std::to_string(i), i);
  std::string& b2 = many.finish(uint64_t(1) << 40);
  MpView v(std::string_view(b2).substr(many.offset()));
  BOOST_TEST(validate(std::string_view(b2).substr(many.offset())).ok());
  BOOST_TEST(v.count() == 22u);
  BOOST_TEST(v.get("id").as_int() == int64_t(1) << 40);
  BOOST_TEST(!v.get("db").valid());
  BOOST_TEST(v.get("k19").as_int() == 19);
}

BOOST_AUTO_TEST_CASE(from_map_replaces_the_callers_id) {
  Request r = Request::from_map(J(R"({"id":"theirs","op":"count","db":"d","filter":{}})"));
  BOOST_TEST(r.op() == "count");
  std::string& body = r.finish(3);
  BOOST_TEST(json_from_mp(body.substr(r.offset())) ==
             R"({"id":3,"op":"count","db":"d","filter":{}})");
  try {
    Request::from_map(J("[1,2]"));
    BOOST_FAIL("a non-map body was accepted");
  } catch (const Error& e) {
    BOOST_TEST(e.code() == 9);
    BOOST_TEST(e.name() == "FailedToParse");
  }
}

BOOST_AUTO_TEST_CASE(out_of_order_replies_are_matched_by_id) {
  FakeServer server("order", [](zmq::socket_t& router) {
    std::map<int64_t, Incoming> by_n;  // keyed by the request's "n"
    for (int i = 0; i < 4; ++i)
      if (auto in = receive(router)) by_n[in->arg_int("n")] = std::move(*in);
    if (by_n.size() != 4) return;
    for (int64_t n : {2, 4, 3, 1})
      reply(router, by_n[n], R"({"ok":true,"echo":)" + std::to_string(n * 10) + "}");
  });
  Client c(server.endpoint(), server.options());
  std::vector<std::pair<int64_t, int64_t>> got;  // (sent n, echoed value)
  for (int64_t n = 1; n <= 3; ++n)
    c.send_async(Request("ping").arg_int("n", n),
                 [&got, n](Reply r) { got.emplace_back(n, r.get("echo").as_int()); });
  Reply r4 = c.call(Request("ping").arg_int("n", 4));
  BOOST_TEST(r4.ok());
  BOOST_TEST(r4.get("echo").as_int() == 40);
  BOOST_TEST(got.empty());  // async replies wait for the next async call
  c.drain();
  server.join();
  BOOST_TEST(got.size() == 3u);
  BOOST_TEST((got[0] == std::pair<int64_t, int64_t>{2, 20}));
  for (auto [n, echo] : got) BOOST_TEST(echo == n * 10);
  BOOST_TEST(c.in_flight() == 0u);
  BOOST_TEST(c.dropped_replies() == 0u);
}

BOOST_AUTO_TEST_CASE(server_errors_become_client_errors) {
  FakeServer server("errors", [](zmq::socket_t& router) {
    for (int i = 0; i < 3; ++i) {
      auto in = receive(router);
      if (!in) return;
      reply(router, *in,
            R"({"ok":false,"error":{"code":11000,"name":"DuplicateKey","message":"dup email",)"
            R"("index":1,"keyPattern":{"email":1},"keyValue":{"email":"a@x"}}})");
    }
  });
  Client c(server.endpoint(), server.options());
  try {
    c.insert_many("app", "User", {J(R"({"email":"a@x"})"), J(R"({"email":"a@x"})")});
    BOOST_FAIL("insert_many did not throw");
  } catch (const Error& e) {
    BOOST_TEST(e.code() == 11000);
    BOOST_TEST(e.name() == "DuplicateKey");
    BOOST_TEST(e.message() == "dup email");
    BOOST_TEST(std::string(e.what()) == "DuplicateKey: dup email");
    BOOST_TEST(e.details().get("index").as_int() == 1);
    BOOST_TEST(e.details().get("keyValue").get("email").as_str() == "a@x");
  }
  // call() hands the failed reply back without throwing; command() throws
  Reply r = c.call(Request("insertOne", "app", "User").arg("doc", J("{}")));
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.error().code() == 11000);
  BOOST_CHECK_THROW(c.command(Request("ping")), Error);
}

BOOST_AUTO_TEST_CASE(typed_helpers_send_contract_arguments_and_read_results) {
  std::vector<std::string> seen;
  FakeServer server("typed", [&seen](zmq::socket_t& router) {
    const std::map<std::string, std::string> canned = {
        {"insertMany", R"({"ok":true,"insertedIds":["a",7],"insertedCount":2})"},
        {"find", R"({"ok":true,"docs":[{"_id":1,"age":30},{"_id":2,"age":20}]})"},
        {"findOne", R"({"ok":true,"doc":null})"},
        {"count", R"({"ok":true,"count":42})"},
        {"updateMany", R"({"ok":true,"matchedCount":0,"modifiedCount":0,"upsertedId":"u1"})"},
        {"deleteOne", R"({"ok":true,"deletedCount":1})"},
        {"createDatabase", R"({"ok":true,"created":true})"},
    };
    for (size_t i = 0; i < canned.size(); ++i) {
      auto in = receive(router);
      if (!in) return;
      seen.push_back(in->json_without_id());
      reply(router, *in, canned.at(in->op()));
    }
  });
  Client c(server.endpoint(), server.options());
  std::vector<std::string> docs;
  for (int i = 0; i < 200; ++i)  // over the zero-copy threshold
    docs.push_back(J(R"({"i":)" + std::to_string(i) + R"(,"pad":"0123456789012345678901234"})"));
  auto ids = c.insert_many("app", "User", docs);
  BOOST_TEST(ids.size() == 2u);
  BOOST_TEST(MpView(ids[0]).as_str() == "a");
  BOOST_TEST(MpView(ids[1]).as_int() == 7);
  FindArgs fa{J(R"({"age":{"$gte":18}})"), J(R"({"age":-1})"), 5, 10, ""};
  auto found = c.find("app", "User", fa);
  BOOST_TEST(found.size() == 2u);
  BOOST_TEST(json_from_mp(found[1]) == R"({"_id":2,"age":20})");
  BOOST_TEST(!c.find_one("app", "User").has_value());
  BOOST_TEST(c.count("app", "User") == 42);
  UpdateResult u = c.update_many("app", "User", J("{}"), J(R"({"$inc":{"n":1}})"), true);
  BOOST_TEST(u.matched == 0);
  BOOST_TEST(MpView(u.upserted_id).as_str() == "u1");
  BOOST_TEST(c.delete_one("", "User", J(R"({"_id":1})")) == 1);
  BOOST_TEST(c.create_database("logs", "file", J(R"({"persistMode":"immediate"})")));
  server.join();
  BOOST_TEST_REQUIRE(seen.size() == 7u);
  BOOST_TEST(seen[0].size() > 200 * 40);
  BOOST_TEST(seen[0].find(R"({"i":199,"pad":)") != std::string::npos);
  BOOST_TEST(seen[1] == R"({"op":"find","db":"app","model":"User","filter":{"age":{"$gte":18}},)"
                        R"("sort":{"age":-1},"skip":5,"limit":10})");
  BOOST_TEST(seen[2] == R"({"op":"findOne","db":"app","model":"User","filter":{}})");
  BOOST_TEST(seen[3] == R"({"op":"count","db":"app","model":"User","filter":{}})");
  BOOST_TEST(seen[4] == R"({"op":"updateMany","db":"app","model":"User","filter":{},)"
                        R"("update":{"$inc":{"n":1}},"upsert":true})");
  BOOST_TEST(seen[5] == R"({"op":"deleteOne","model":"User","filter":{"_id":1}})");
  BOOST_TEST(seen[6] == R"({"op":"createDatabase","db":"logs","storage":"file",)"
                        R"("options":{"persistMode":"immediate"}})");
}

BOOST_AUTO_TEST_CASE(timeout_throws_and_the_late_reply_is_dropped) {
  FakeServer server("timeout", [](zmq::socket_t& router) {
    auto first = receive(router);
    auto second = receive(router);  // sent by the client after the first timed out
    if (!first || !second) return;
    reply(router, *first, R"({"ok":true,"which":1})");
    reply(router, *second, R"({"ok":true,"which":2})");
  });
  Client c(server.endpoint(), server.options(200));
  auto start = Clock::now();
  try {
    c.call(Request("ping"));
    BOOST_FAIL("no timeout");
  } catch (const Error& e) {
    BOOST_TEST(e.code() == kExceededTimeLimit);
    BOOST_TEST(e.name() == "ExceededTimeLimit");
  }
  int64_t waited_ms = ms_since(start);
  BOOST_TEST(waited_ms >= 200);
  BOOST_TEST(waited_ms < 3000);
  Reply r = c.call(Request("ping"));
  BOOST_TEST(r.get("which").as_int() == 2);
  BOOST_TEST(c.dropped_replies() == 1u);
}

BOOST_AUTO_TEST_CASE(async_timeout_runs_the_callback_with_an_error) {
  FakeServer server("async-timeout", [](zmq::socket_t& router) {
    receive(router);  // never answered
    receive(router);
  });
  Client c(server.endpoint(), server.options(150, 2));
  std::vector<int> codes;
  for (int i = 0; i < 2; ++i)
    c.send_async(Request("ping"),
                 [&codes](Reply r) { codes.push_back(r.ok() ? 0 : r.error().code()); });
  auto start = Clock::now();
  c.drain();
  BOOST_TEST(ms_since(start) >= 140);
  BOOST_TEST((codes == std::vector<int>{kExceededTimeLimit, kExceededTimeLimit}));
  BOOST_TEST(c.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(async_window_bounds_requests_in_flight) {
  constexpr int kTotal = 100, kWindow = 4;
  int max_outstanding = 0, replied = 0;
  FakeServer server("window", [&](zmq::socket_t& router) {
    std::vector<Incoming> pending;
    while (replied < kTotal) {
      // Collect until the client goes quiet (its window is full), then answer, newest first.
      auto in = receive(router, pending.empty() ? 5000 : 20);
      if (in) {
        pending.push_back(std::move(*in));
        max_outstanding = std::max(max_outstanding, int(pending.size()));
        continue;
      }
      if (pending.empty()) return;
      for (auto it = pending.rbegin(); it != pending.rend(); ++it)
        reply(router, *it, R"({"ok":true,"n":)" + std::to_string(it->arg_int("n")) + "}");
      replied += int(pending.size());
      pending.clear();
    }
  });
  Client c(server.endpoint(), server.options(5000, kWindow));
  std::vector<int64_t> echoed(kTotal, -1);
  size_t most_in_flight = 0;
  for (int n = 0; n < kTotal; ++n) {
    c.send_async(Request("insertOne", "app", "User").arg_int("n", n),
                 [&echoed, n](Reply r) { echoed[size_t(n)] = r.get("n").as_int(); });
    most_in_flight = std::max(most_in_flight, c.in_flight());
  }
  c.drain();
  server.join();
  BOOST_TEST(most_in_flight == size_t(kWindow));
  BOOST_TEST(max_outstanding == kWindow);
  BOOST_TEST(replied == kTotal);
  for (int n = 0; n < kTotal; ++n) BOOST_TEST(echoed[size_t(n)] == n);
}

BOOST_AUTO_TEST_CASE(drain_delivers_every_reply_including_ones_sent_by_callbacks) {
  constexpr int kTotal = 1000, kFollowUps = 10;
  FakeServer server("drain", [&](zmq::socket_t& router) {
    std::mt19937 rng(42);
    int answered = 0;
    while (answered < kTotal + kFollowUps) {
      std::vector<Incoming> batch;
      auto in = receive(router);
      if (!in) return;
      batch.push_back(std::move(*in));
      while (auto more = receive(router, 0)) batch.push_back(std::move(*more));
      std::shuffle(batch.begin(), batch.end(), rng);
      for (auto& req : batch)
        reply(router, req, R"({"ok":true,"n":)" + std::to_string(req.arg_int("n")) + "}");
      answered += int(batch.size());
    }
  });
  Client c(server.endpoint(), server.options(5000, 64));
  std::vector<int> hits(kTotal + kFollowUps, 0);
  int follow_ups = 0;
  std::function<void(Reply)> on_reply = [&](Reply r) {
    int64_t n = r.get("n").as_int();
    if (n >= 0 && n < int64_t(hits.size())) ++hits[size_t(n)];
    if (n < kTotal && follow_ups < kFollowUps)
      c.send_async(Request("ping").arg_int("n", kTotal + follow_ups++), on_reply);
  };
  for (int n = 0; n < kTotal; ++n) c.send_async(Request("ping").arg_int("n", n), on_reply);
  c.drain();
  server.join();
  BOOST_TEST(c.in_flight() == 0u);
  BOOST_TEST(follow_ups == kFollowUps);
  BOOST_TEST(std::count(hits.begin(), hits.end(), 1) == kTotal + kFollowUps);
}

// ---- ClientOptions::direct: ZMTP spoken on the client's own TCP socket (clients/cpp/zmtp.h) ----

BOOST_AUTO_TEST_CASE(direct_client_talks_to_a_libzmq_router) {
  std::string big(100000, 'x');  // a long frame, more than one recv() of the client
  FakeServer server(
      "direct",
      [&big](zmq::socket_t& router) {
        for (int i = 0; i < 4; ++i) {
          auto in = receive(router);
          if (!in) return;
          if (in->op() == "big") {
            reply(router, *in, R"({"ok":true,"s":")" + big + R"("})");
          } else if (in->op() == "frames") {  // extra frames: the client keeps the last one
            router.send(zmq::buffer(in->identity), zmq::send_flags::sndmore);
            router.send(zmq::buffer(std::string("junk")), zmq::send_flags::sndmore);
            reply(router, *in, R"({"ok":true,"n":3})");
          } else {
            reply(router, *in, R"({"ok":true,"n":)" + std::to_string(in->arg_int("n")) + "}");
          }
        }
      },
      true);
  Client c(server.endpoint(), server.options(5000, 64, true));
  BOOST_TEST(c.call(Request("ping").arg_int("n", 1)).get("n").as_int() == 1);
  Reply r = c.call(Request("big").arg_str("pad", big));  // a long frame out, too
  BOOST_TEST(r.ok());
  BOOST_TEST(r.get("s").as_str().size() == big.size());
  std::vector<int64_t> got;
  c.send_async(Request("ping").arg_int("n", 2),
               [&got](Reply r) { got.push_back(r.get("n").as_int()); });
  c.send_async(Request("frames"), [&got](Reply r) { got.push_back(r.get("n").as_int()); });
  c.drain();
  server.join();
  BOOST_TEST((got == std::vector<int64_t>{2, 3}));
  BOOST_TEST(c.dropped_replies() == 0u);
}

BOOST_AUTO_TEST_CASE(wait_any_serves_many_clients_from_one_thread) {
  constexpr int kClients = 5, kEach = 20;
  FakeServer server(
      "wait-any",
      [](zmq::socket_t& router) {
        // Collects one request from every client, then answers them newest first.
        for (int round = 0; round < kEach; ++round) {
          std::vector<Incoming> batch;
          while (batch.size() < size_t(kClients))
            if (auto in = receive(router))
              batch.push_back(std::move(*in));
            else
              return;
          for (auto it = batch.rbegin(); it != batch.rend(); ++it)
            reply(router, *it, R"({"ok":true,"n":)" + std::to_string(it->arg_int("n")) + "}");
        }
      },
      true);
  std::vector<std::unique_ptr<Client>> owned;
  std::vector<Client*> clients;
  for (int k = 0; k < kClients; ++k) {
    owned.push_back(std::make_unique<Client>(server.endpoint(), server.options(5000, 1, k % 2)));
    clients.push_back(owned.back().get());
  }
  std::vector<int> sent(kClients, 0), answered(kClients, 0);
  bool wrong = false;
  for (bool busy = true; busy;) {
    busy = false;
    for (int k = 0; k < kClients; ++k) {
      Client& c = *clients[size_t(k)];
      if (c.in_flight() == 0 && sent[size_t(k)] < kEach) {
        int64_t n = k * 1000 + sent[size_t(k)]++;
        c.send_async(Request("ping").arg_int("n", n), [&, k, n](Reply r) {
          wrong = wrong || r.get("n").as_int() != n;
          ++answered[size_t(k)];
        });
      }
      busy = busy || c.in_flight() > 0;
    }
    Client::wait_any(clients);
  }
  server.join();
  BOOST_TEST(!wrong);
  for (int k = 0; k < kClients; ++k) BOOST_TEST(answered[size_t(k)] == kEach);
}

BOOST_AUTO_TEST_CASE(direct_client_refuses_what_it_cannot_speak_to) {
  ClientOptions o;
  o.direct = true;
  o.timeout_ms = 500;
  auto code_of = [&](const std::string& endpoint, ClientOptions opts) {
    try {
      Client c(endpoint, opts);
    } catch (const Error& e) {
      return e.code();
    }
    return 0;
  };
  BOOST_TEST(code_of("inproc://nowhere", o) == 2);
  BOOST_TEST(code_of("ipc:///tmp/nowhere", o) == 2);
  ClientOptions with_socket_options = o;
  with_socket_options.configure_socket = [](zmq::socket_t&) {};
  BOOST_TEST(code_of("tcp://127.0.0.1:1", with_socket_options) == 2);
  // Nothing listens on port 1: connecting fails at once, unlike a libzmq socket.
  BOOST_TEST(code_of("tcp://127.0.0.1:1", o) == kExceededTimeLimit);
}

BOOST_AUTO_TEST_CASE(direct_client_reports_a_lost_connection) {
  // A raw TCP server that does the ZMTP handshake, takes two requests and hangs up.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  ::listen(listener, 1);
  std::thread server([listener] {
    int fd = ::accept(listener, nullptr, nullptr);
    std::string hello(64, '\0');
    hello[0] = char(0xff), hello[9] = 0x7f, hello[10] = 3;
    hello.replace(12, 4, "NULL");
    std::string ready("\x05READY\x0bSocket-Type\0\0\0\x06ROUTER", 28);
    hello += std::string{char(4), char(ready.size())} + ready;
    (void)!::write(fd, hello.data(), hello.size());
    char buf[4096];
    size_t got = 0;
    while (got < 64 + 30 + 2 * 10) {  // greeting, READY, two small requests
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      got += size_t(n);
    }
    ::close(fd);
  });
  ClientOptions o;
  o.direct = true;
  o.timeout_ms = 5000;
  Client c("tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), o);
  int code = 0;
  c.send_async(Request("ping"), [&code](Reply r) { code = r.ok() ? -1 : r.error().code(); });
  auto start = Clock::now();
  try {
    c.call(Request("ping"));
    BOOST_FAIL("a call on a lost connection returned");
  } catch (const Error& e) {
    BOOST_TEST(e.code() == kExceededTimeLimit);
  }
  c.drain();
  BOOST_TEST(code == kExceededTimeLimit);
  BOOST_TEST(ms_since(start) < 3000);  // noticed at once, not at the deadline
  BOOST_CHECK_THROW(c.send_async(Request("ping"), [](Reply) {}), Error);
  server.join();
  ::close(listener);
}

// ---- WatchOptions::direct: the Watcher's SUB side spoken on its own TCP socket (zmtp.h) ----

namespace {

// An event body {seq, op: "insert", id, doc, ts} as the daemon encodes it.
std::string event_body(int64_t seq, std::string_view doc) {
  std::string out;
  MpWriter w(out);
  w.map_header(5);
  w.str("seq"), w.integer(seq);
  w.str("op"), w.str("insert");
  w.str("id"), w.integer(seq);
  w.str("doc"), w.raw(doc);
  w.str("ts"), w.date(mg::Date{1700000000 + seq, 0});
  return out;
}

// A ROUTER answering every `changes` with {events: [], lastSeq: 0} until `stop`.
std::function<void(zmq::socket_t&)> empty_history(std::atomic<bool>& stop) {
  return [&stop](zmq::socket_t& router) {
    while (!stop)
      if (auto in = receive(router, 50))
        reply(router, *in, R"({"ok":true,"events":[],"lastSeq":0})");
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(direct_watcher_subscribes_to_a_libzmq_xpub_and_filters_its_topic) {
  std::atomic<bool> stop{false};
  FakeServer server("direct-watch", empty_history(stop));
  zmq::socket_t xpub(*server.options().context, zmq::socket_type::xpub);
  xpub.set(zmq::sockopt::linger, 0);
  xpub.bind("tcp://127.0.0.1:*");
  std::string pub_endpoint = xpub.get(zmq::sockopt::last_endpoint);
  WatchOptions o;
  o.client = server.options();
  o.direct = true;
  o.idle_check = std::chrono::seconds(60);  // only the first next() asks `changes`
  Watcher w(server.endpoint(), pub_endpoint, "db", "Model", 0, o);

  // The XPUB sees the subscription as a libzmq SUB sends it: 0x01 + topic.
  zmq_pollitem_t item{xpub.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(5000));
  zmq::message_t sub;
  BOOST_TEST_REQUIRE(bool(xpub.recv(sub, zmq::recv_flags::dontwait)));
  BOOST_TEST(sub.to_string() == std::string("\x01"
                                            "db.Model"));

  BOOST_TEST(!w.next(std::chrono::milliseconds(50)));  // synced on an empty history
  std::string big_doc = J(R"({"_id":2,"pad":")" + std::string(300000, 'p') + R"("})");
  auto publish = [&xpub](std::vector<std::string> frames) {
    for (size_t i = 0; i < frames.size(); ++i)
      xpub.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  };
  publish({"db.ModelX", event_body(1, J(R"({"_id":"x"})"))});  // a prefix match: skipped
  publish({"db.Model", event_body(1, J(R"({"_id":1})"))});
  publish({"db.Model"});                                   // one frame: malformed
  publish({"db.Model", event_body(2, big_doc)});           // a long frame, over several reads
  publish({"db.Model", event_body(3, J("{}")), "extra"});  // three frames: malformed
  publish({"db.Model", "\x85\xa3seq"});                    // a truncated body: malformed
  publish({"db.Model", event_body(3, J(R"({"_id":3})"))});

  // next(Event&) with one Event: its strings are recycled, and the small document after the
  // big one must not keep any of it.
  std::vector<Event> got;
  Event e;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (got.size() < 3 && Clock::now() < deadline)
    if (w.next(e, std::chrono::milliseconds(100))) got.push_back(e);
  stop = true;
  server.join();
  BOOST_TEST_REQUIRE(got.size() == 3u);
  for (int64_t k = 0; k < 3; ++k) {
    BOOST_TEST(got[size_t(k)].seq == uint64_t(k + 1));
    BOOST_TEST(got[size_t(k)].op == "insert");
    BOOST_TEST(got[size_t(k)].ts.sec == 1700000001 + k);
  }
  BOOST_TEST(json_from_mp(got[0].doc) == R"({"_id":1})");
  BOOST_TEST(got[1].doc == big_doc);
  BOOST_TEST(json_from_mp(got[2].doc) == R"({"_id":3})");
  BOOST_TEST(w.stats().live == 3u);
  BOOST_TEST(w.stats().malformed == 3u);
  BOOST_TEST(w.stats().requests == 1u);
}

BOOST_AUTO_TEST_CASE(direct_watcher_refuses_what_it_cannot_speak_to) {
  auto code_of = [](const std::string& pub, WatchOptions o) {
    try {
      Watcher w("tcp://127.0.0.1:1", pub, "db", "Model", 0, o);
    } catch (const Error& e) {
      return e.code();
    }
    return 0;
  };
  WatchOptions o;
  o.direct = true;
  o.client.timeout_ms = 500;
  BOOST_TEST(code_of("ipc:///tmp/nowhere", o) == 2);
  WatchOptions with_curve = o;
  with_curve.client.curve = CurveKeys{};
  BOOST_TEST(code_of("tcp://127.0.0.1:1", with_curve) == 2);
  WatchOptions with_socket_options = o;
  with_socket_options.configure_sub = [](zmq::socket_t&) {};
  BOOST_TEST(code_of("tcp://127.0.0.1:1", with_socket_options) == 2);
  // Nothing listens on port 1: connecting fails at once.
  BOOST_TEST(code_of("tcp://127.0.0.1:1", o) == kExceededTimeLimit);
}
