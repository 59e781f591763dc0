// Fuzzes what a client may send the daemon's own request socket (daemon/direct_router.h):
// arbitrary bytes through protocol/zmtp_router_session.h's RouterSession, in the pieces a socket
// could deliver them (the first byte picks the piece sizes), and, as a second session, all at
// once. Both must come to the same decisions (whether the peer is dropped, READY, the requests
// and their framing, the PONG), and the limits must hold: no body longer than the frame limit,
// room() never 0 while the peer is kept, a PONG at most 2 + 5 + 16 bytes, nothing accepted
// after a drop. Crashes, UB, leaks and broken invariants (__builtin_trap) are findings.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/zmtp_router_session.h"

using mg::zmtp::Request;
using mg::zmtp::RouterSession;

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// Small limits, so that the fuzzer reaches them; the big-frame path starts past 64 KiB, which
// a fuzzer input rarely reaches, so max_frame is above it only by a little.
RouterSession::Limits limits() {
  RouterSession::Limits l;
  l.max_frame = 70000;
  l.max_command = 300;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = 1 + data[0] % 97;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  RouterSession pieces(limits());
  std::vector<Request> got;
  bool alive = true;
  std::string pong;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    bool ok = pieces.feed(bytes.substr(at, piece), got);
    require(alive || !ok);  // once dropped, always dropped
    if (!ok) require(pieces.why() != nullptr);
    if (ok) require(pieces.room() > 0);
    alive = alive && ok;
    if (std::string p = pieces.take_pong(); !p.empty()) {
      require(pieces.ready() && p.size() <= 2 + 5 + 16);
      pong = std::move(p);
    }
    require(pieces.take_pong().empty());  // taken once
  }
  for (auto& r : got) require(r.body.size() <= limits().max_frame);
  require(got.empty() || pieces.ready());

  RouterSession whole(limits());
  std::vector<Request> all;
  bool whole_alive = whole.feed(bytes, all);
  require(whole_alive == alive);
  require(whole.ready() == pieces.ready());
  require(all.size() == got.size());
  for (size_t i = 0; i < all.size(); ++i)
    require(all[i].body == got[i].body && all[i].delimiter == got[i].delimiter);
  if (alive) require(whole.take_pong() == pong);
  return 0;
}
