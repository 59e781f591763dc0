// Fuzzes what a subscriber may send the daemon's own publisher (daemon/direct_pub.h): arbitrary
// bytes through protocol/zmtp_pub_session.h's PubSession, in the pieces a socket could deliver
// them (the first byte picks the piece sizes), and, as a second session, all at once. Both must
// come to the same decisions (whether the peer is dropped, READY, the subscriptions, the PONG),
// and the limits must hold: buffered bytes at most a frame and a piece, subscriptions at most the
// cap and never longer than a topic, a PONG at most 2 + 5 + 16 bytes, and nothing accepted after
// a drop. Crashes, UB, leaks and broken invariants (__builtin_trap) are findings.
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/zmtp_pub_session.h"

using mg::zmtp::PubSession;

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// Small limits, so that the fuzzer reaches them.
PubSession::Limits limits() {
  PubSession::Limits l;
  l.max_frame = 300;
  l.max_prefix = 129;
  l.max_subscriptions = 8;
  return l;
}

void check(const PubSession& s, size_t piece) {
  require(s.buffered() <= limits().max_frame + 9 + piece);
  require(s.subscriptions() <= limits().max_subscriptions);
  for (auto& p : s.prefixes()) require(p.size() <= limits().max_prefix);
  require(s.ready() || s.subscriptions() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = 1 + data[0] % 97;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  PubSession pieces(limits());
  bool alive = true;
  std::string pong;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    bool ok = pieces.feed(bytes.substr(at, piece));
    require(alive || !ok);  // once dropped, always dropped
    if (!ok) require(pieces.why() != nullptr);
    alive = alive && ok;
    check(pieces, piece);
    if (std::string p = pieces.take_pong(); !p.empty()) {
      require(pieces.ready() && p.size() <= 2 + 5 + 16);
      pong = std::move(p);
    }
    require(pieces.take_pong().empty());  // taken once
  }

  PubSession whole(limits());
  bool whole_alive = whole.feed(bytes);
  check(whole, bytes.size());
  require(whole_alive == alive);
  require(whole.ready() == pieces.ready());
  if (alive) {
    require(whole.prefixes() == pieces.prefixes());
    require(whole.take_pong() == pong);
    require(whole.buffered() == pieces.buffered());
    for (auto& p : whole.prefixes()) require(whole.matches(p + "x") && whole.matches(p));
  }
  return 0;
}
