// What a subscriber says to the daemon's own publisher (protocol/zmtp_pub_session.h): a SUB's
// greeting, READY and subscriptions, byte by byte as well as at once; ZMTP 3.1 commands; PING
// answered with one PONG; and each way a peer gets dropped, or a long prefix ignored.
#define BOOST_TEST_MODULE zmtp_pub_session
#include <boost/test/unit_test.hpp>

#include <string>

#include "protocol/zmtp_frame.h"
#include "protocol/zmtp_pub_session.h"
#include "tests/unit/zmtp_frames.h"

using mg::zmtp::PubSession;

namespace {

using mg::zmtp::testing::command;
using mg::zmtp::testing::frame;
std::string sub(std::string_view prefix) {
  return frame(0, std::string("\x01").append(prefix));
}
std::string cancel(std::string_view prefix) {
  return frame(0, std::string(1, '\0').append(prefix));
}
// A SUB's greeting and READY: what the client's own ZmtpConnection sends.
std::string hello(std::string_view type = "SUB") {
  return mg::zmtp::hello(type);
}

}  // namespace

BOOST_AUTO_TEST_CASE(subscribes_and_cancels_byte_by_byte_or_at_once) {
  std::string bytes = hello() + sub("db.Model") + sub("db.") + sub("db.Model") + cancel("db.");
  PubSession slow, fast;
  for (char c : bytes) BOOST_TEST_REQUIRE(slow.feed(std::string_view(&c, 1)));
  BOOST_TEST_REQUIRE(fast.feed(bytes));
  for (PubSession* s : {&slow, &fast}) {
    BOOST_TEST(s->ready());
    BOOST_TEST(s->subscriptions() == 1u);  // a repeated prefix counts once, one cancel removes it
    BOOST_TEST(s->matches("db.Model"));
    BOOST_TEST(s->matches("db.ModelX"));  // prefixes, as ZeroMQ matches them
    BOOST_TEST(!s->matches("db.Mode"));
    BOOST_TEST(s->buffered() == 0u);
  }
}

BOOST_AUTO_TEST_CASE(xsub_commands_and_multipart_messages) {
  PubSession s;
  BOOST_TEST_REQUIRE(s.feed(hello("XSUB") + command("SUBSCRIBE", "a.") +
                            command("SUBSCRIBE", "b.") + command("CANCEL", "a.") +
                            command("X-UNKNOWN", "") + frame(mg::zmtp::kMore, "\x02x") + sub("c.") +
                            sub("") + frame(0, "\x07")));
  BOOST_TEST(s.prefixes() == std::vector<std::string>({"b.", ""}));  // "c." was a second part
  BOOST_TEST(s.matches("anything"));
}

BOOST_AUTO_TEST_CASE(ping_gets_one_pong_with_at_most_16_bytes_of_context) {
  PubSession s;
  BOOST_TEST_REQUIRE(s.feed(hello()));
  BOOST_TEST(s.take_pong().empty());
  BOOST_TEST_REQUIRE(s.feed(command("PING", std::string("\0\x0a", 2) + "first")));
  BOOST_TEST_REQUIRE(s.feed(command("PING", std::string("\0\x0a", 2) + std::string(40, 'c'))));
  BOOST_TEST(s.take_pong() == command("PONG", std::string(16, 'c')));  // the last PING's
  BOOST_TEST(s.take_pong().empty());
}

BOOST_AUTO_TEST_CASE(long_prefixes_are_ignored) {
  PubSession s;
  std::string topic_sized(129, 't'), longer(130, 't');
  BOOST_TEST_REQUIRE(s.feed(hello() + sub(longer) + sub(topic_sized) + cancel(longer)));
  BOOST_TEST(s.prefixes() == std::vector<std::string>({topic_sized}));
}

BOOST_AUTO_TEST_CASE(peers_that_break_the_rules_are_dropped) {
  auto dropped = [](const std::string& bytes, std::string_view why, PubSession::Limits l = {}) {
    PubSession s(l);
    bool ok = s.feed(bytes);
    BOOST_TEST(!ok, why);
    BOOST_TEST((s.why() && std::string_view(s.why()) == why), (s.why() ? s.why() : "(none)"));
    BOOST_TEST(!s.feed(hello()), "stays dropped");
  };
  dropped("GET / HTTP/1.1\r\n", "not a ZMTP 3 greeting");
  std::string curve = hello();
  curve.replace(12, 5, "CURVE");
  dropped(curve, "not a ZMTP 3 greeting with NULL");
  dropped(hello("PUB"), "READY from a socket other than SUB or XSUB");
  dropped(hello().substr(0, 64) + sub("db."), "data before READY");
  dropped(hello().substr(0, 64) + command("PING", std::string(2, '\0')), "command before READY");
  dropped(hello() + hello().substr(64), "second READY");
  dropped(hello() + command("ERROR", "\x03why"), "ERROR from the peer");
  dropped(hello() + std::string("\x02\x40\0\0\0\0\0\0\0", 9), "frame too long");  // 2^62 bytes
  dropped(hello() + frame(0, std::string(16 * 1024 + 1, 'x')), "frame too long");
  PubSession::Limits three;
  three.max_subscriptions = 3;
  dropped(hello() + sub("a") + sub("b") + sub("c") + sub("d"), "too many subscriptions", three);
  PubSession s(three);
  BOOST_TEST(s.feed(hello() + sub("a") + sub("b") + sub("c") + cancel("a") + sub("d") + sub("d")));
  BOOST_TEST(s.subscriptions() == 3u);
}

BOOST_AUTO_TEST_CASE(a_frame_in_pieces_waits_whole) {
  PubSession s;
  std::string f = sub(std::string(100, 'p'));
  BOOST_TEST_REQUIRE(s.feed(hello() + f.substr(0, 50)));
  BOOST_TEST(s.buffered() == 50u);
  BOOST_TEST(s.subscriptions() == 0u);
  BOOST_TEST_REQUIRE(s.feed(f.substr(50)));
  BOOST_TEST(s.subscriptions() == 1u);
  BOOST_TEST(s.buffered() == 0u);
}
