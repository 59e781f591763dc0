// protocol/zmtp_pub_session.h — what one subscriber (a SUB or XSUB) says to a publisher (an
// XPUB) over ZMTP 3.0, NULL mechanism: bytes in, decisions out, no socket. The daemon's own
// publisher (daemon/direct_pub.h) feeds it what it recv()s from each peer; the libFuzzer target
// tests/fuzz/fuzz_direct_pub.cc feeds it anything.
//
// Accepted, in this order (anything else drops the peer, as libzmq does):
//   the 64-byte greeting (protocol/zmtp_frame.h: ZMTP 3.x, NULL; a first byte other than 0xFF
//   fails at once), then a READY command whose Socket-Type is SUB or XSUB, then any of:
//   - a data message whose first frame is 0x01 + prefix (subscribe) or 0x00 + prefix (cancel);
//     other data messages, and every frame after the first of a multipart message, are ignored
//     (an XPUB passes them to its reader, which has no use for them);
//   - the commands SUBSCRIBE and CANCEL (ZMTP 3.1: data = prefix), PING (answered: pong()),
//     PONG and unknown commands (ignored); ERROR, or a second READY, drops the peer.
// Limits (a hostile peer costs at most ~max_frame bytes of buffer and the subscriptions cap):
//   - a frame longer than `max_frame` drops the peer when its header arrives (a SUB's frames
//     are a READY of a few properties and subscriptions of a topic prefix);
//   - a prefix longer than `max_prefix` (a topic `db.model` is at most 64 + 1 + 64 bytes, so it
//     could match nothing) is IGNORED, subscribe and cancel alike: the peer stays;
//   - more than `max_subscriptions` distinct prefixes at once drops the peer. Subscribing to a
//     prefix it holds already changes nothing; one cancel removes it (as libzmq's XPUB does
//     per pipe).
// A PING's answer keeps at most the 16 octets of context ZMTP allows; only the answer to the
// last PING not yet taken is kept, so a peer that pings without reading costs one PONG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mg::zmtp {

class PubSession {
 public:
  struct Limits {
    size_t max_frame = 16 * 1024;
    size_t max_prefix = 64 + 1 + 64;
    size_t max_subscriptions = 1024;
  };
  PubSession() : PubSession(Limits{}) {}
  explicit PubSession(Limits limits) : limits_(limits) {}

  // Takes bytes received from the peer and handles every whole frame among them. False when the
  // peer is to be dropped (then why() says why; further calls keep returning false).
  bool feed(std::string_view bytes);
  // Greeting and READY done: the peer may subscribe and receive events.
  bool ready() const { return ready_; }
  // The PONG frame owed (answering the last PING), taken once; empty when none is owed.
  std::string take_pong() { return std::move(pong_); }
  // Some subscription is a prefix of `topic`.
  bool matches(std::string_view topic) const;
  size_t subscriptions() const { return subs_.size(); }
  const std::vector<std::string>& prefixes() const { return subs_; }
  // Bytes held waiting for the rest of a frame (at most max_frame + 9 + one feed's bytes).
  size_t buffered() const { return in_.size(); }
  const char* why() const { return why_; }

 private:
  bool fail(const char* why) {
    why_ = why;
    return false;
  }
  // Handles the whole frames at the front of `bytes`; returns how many bytes they took, or -1
  // when the peer is to be dropped.
  int64_t parse(std::string_view bytes);
  bool command(std::string_view body);
  bool subscribe(std::string_view prefix, bool on);

  Limits limits_;
  bool greeted_ = false, ready_ = false, in_message_ = false;  // in_message_: after a MORE frame
  const char* why_ = nullptr;
  std::string in_;  // received, not a whole frame yet
  std::string pong_;
  std::vector<std::string> subs_;
};

}  // namespace mg::zmtp
