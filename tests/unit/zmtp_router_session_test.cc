// What a client says to the daemon's own request socket (protocol/zmtp_router_session.h): a
// DEALER's and a REQ's greeting, READY and requests, byte by byte as well as at once; frames
// bigger than the input buffer received straight into their body; multipart messages (the last
// frame is the body, an empty first frame is a REQ's delimiter); PING answered; and each way a
// peer gets dropped.
#define BOOST_TEST_MODULE zmtp_router_session
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "protocol/zmtp_frame.h"
#include "protocol/zmtp_router_session.h"
#include "tests/unit/zmtp_frames.h"

using mg::zmtp::Request;
using mg::zmtp::RouterSession;

namespace {

using mg::zmtp::testing::command;
using mg::zmtp::testing::frame;
std::string hello(std::string_view type = "DEALER") {
  return mg::zmtp::hello(type);
}
std::string req(std::string_view body) {
  return frame(mg::zmtp::kMore, "") + frame(0, body);
}

// Feeds `bytes` in pieces of `piece` bytes; the requests that came out.
std::vector<Request> feed(RouterSession& s, const std::string& bytes, size_t piece, bool& ok) {
  std::vector<Request> out;
  ok = true;
  for (size_t at = 0; at < bytes.size() && ok; at += piece)
    ok = s.feed(std::string_view(bytes).substr(at, piece), out);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(dealer_and_req_requests_in_any_pieces) {
  std::string big(200 * 1000, 'x');  // an insertMany's size: bigger than the input buffer
  for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
  std::string dealer = hello() + frame(0, "one") + frame(0, big) + frame(0, "") + frame(0, "two");
  std::string reqs = hello("REQ") + req("three") + req(big);
  for (size_t piece : {size_t(1), size_t(7), size_t(4096), size_t(70000), size_t(1) << 30}) {
    RouterSession d, r;
    bool ok;
    auto got = feed(d, dealer, piece, ok);
    BOOST_TEST_REQUIRE(ok);
    BOOST_TEST(d.ready());
    BOOST_TEST_REQUIRE(got.size() == 4u);
    BOOST_TEST(got[0].body == "one");
    BOOST_TEST(got[1].body == big);
    BOOST_TEST(got[2].body == "");  // an empty body is still a request (FailedToParse)
    BOOST_TEST(got[3].body == "two");
    for (auto& g : got) BOOST_TEST(!g.delimiter);
    got = feed(r, reqs, piece, ok);
    BOOST_TEST_REQUIRE(ok);
    BOOST_TEST_REQUIRE(got.size() == 2u);
    BOOST_TEST(got[0].body == "three");
    BOOST_TEST(got[1].body == big);
    BOOST_TEST(got[0].delimiter);
    BOOST_TEST(got[1].delimiter);
  }
}

BOOST_AUTO_TEST_CASE(multipart_the_last_frame_is_the_body) {
  RouterSession s;
  std::vector<Request> out;
  std::string big(100000, 'b');
  BOOST_TEST_REQUIRE(s.feed(hello("ROUTER") + frame(mg::zmtp::kMore, "a") +
                                frame(mg::zmtp::kMore, big) + frame(0, "c") +
                                frame(mg::zmtp::kMore, "") + frame(mg::zmtp::kMore, "x") +
                                frame(0, "d") + frame(mg::zmtp::kMore, big) + frame(0, "e"),
                            out));
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].body == "c");
  BOOST_TEST(!out[0].delimiter);
  BOOST_TEST(out[1].body == "d");
  BOOST_TEST(out[1].delimiter);  // empty first frame: answered as to a REQ
  BOOST_TEST(out[2].body == "e");
  BOOST_TEST(!out[2].delimiter);
}

BOOST_AUTO_TEST_CASE(ping_is_answered_once_and_unknown_commands_ignored) {
  RouterSession s;
  std::vector<Request> out;
  BOOST_TEST_REQUIRE(s.feed(hello() + command("PING", std::string("\x00\x0a", 2) + "ctx") +
                                command("PONG", "") + command("X-UNKNOWN", "z") + frame(0, "r"),
                            out));
  BOOST_TEST(s.take_pong() == frame(mg::zmtp::kCommand, std::string("\x04PONGctx", 8)));
  BOOST_TEST(s.take_pong().empty());
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].body == "r");
}

BOOST_AUTO_TEST_CASE(what_drops_a_peer) {
  RouterSession::Limits small;
  small.max_frame = 1000;
  small.max_command = 100;
  struct Case {
    const char* what;
    std::string bytes;
  };
  std::vector<Case> cases = {
      {"not a greeting", "GET / HTTP/1.1\r\n\r\n"},
      {"not NULL",
       [] {
         std::string g = hello();
         g[12] = 'P';
         return g;
       }()},
      {"a PUB", hello("PUB")},
      {"a SUB", hello("SUB")},
      {"no Socket-Type", mg::zmtp::hello("") + frame(0, "x")},
      {"data before READY", mg::zmtp::hello("DEALER").substr(0, 64) + frame(0, "x")},
      {"command before READY", mg::zmtp::hello("DEALER").substr(0, 64) + command("PING", "")},
      {"second READY", hello() + command("READY", "")},
      {"ERROR", hello() + command("ERROR", "\x03why")},
      {"frame over max request bytes", hello() + frame(0, std::string(1001, 'x'))},
      {"long command", hello() + command("X", std::string(200, 'x'))},
      {"bad command", hello() + frame(mg::zmtp::kCommand, "")},
  };
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      RouterSession s(small);
      std::vector<Request> out;
      BOOST_TEST(!s.feed(c.bytes, out));
      BOOST_TEST(s.why() != nullptr);
      BOOST_TEST(!s.feed(frame(0, "more"), out));  // dropped stays dropped
    }
  }
  // The limit is checked on the header: a 1 TB frame is refused before anything is allocated.
  RouterSession s(small);
  std::vector<Request> out;
  std::string huge = hello() + "\x02";
  for (int i = 0; i < 8; ++i) huge += char(i == 3 ? 1 : 0);
  BOOST_TEST(!s.feed(huge, out));
  // Exactly at the limit is fine.
  RouterSession t(small);
  BOOST_TEST(t.feed(hello() + frame(0, std::string(1000, 'y')), out));
  BOOST_TEST(out.size() == 1u);
}

// A big frame's body grows with what arrives, not to what its header announces.
BOOST_AUTO_TEST_CASE(big_frame_memory_follows_the_bytes_received) {
  RouterSession::Limits l;
  l.max_frame = size_t(64) << 20;
  RouterSession s(l);
  std::vector<Request> out;
  std::string head = hello() + "\x02";
  size_t size = size_t(5) << 20;  // 5 MiB announced
  for (int i = 0; i < 8; ++i) head += char(uint64_t(size) >> (56 - 8 * i));
  BOOST_TEST_REQUIRE(s.feed(head + std::string(100, 'a'), out));
  BOOST_TEST(s.room() <= (size_t(1) << 20));  // 1 MiB, not 5
  std::string rest(size - 100, 'b');
  BOOST_TEST_REQUIRE(s.feed(rest, out));
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].body.size() == size);
  BOOST_TEST(out[0].body.substr(0, 100) == std::string(100, 'a'));
  BOOST_TEST(out[0].body.substr(100) == rest);
}
