// protocol/zmtp_router_session.h — what one client (a REQ, DEALER or ROUTER) says to the
// daemon's request socket (a ROUTER) over ZMTP 3.0, NULL mechanism: bytes in, requests out, no
// socket. The daemon's own request socket (daemon/direct_router.h) receives into buffer() and
// calls received(); the libFuzzer target tests/fuzz/fuzz_direct_router.cc feeds it anything.
//
// Accepted, in this order (anything else drops the peer, as libzmq does):
//   the 64-byte greeting (protocol/zmtp_frame.h: ZMTP 3.x, NULL; a first byte other than 0xFF
//   fails at once), then a READY command whose Socket-Type is REQ, DEALER or ROUTER (the peers
//   a libzmq ROUTER takes), then messages and commands:
//   - a message is data frames, the last without MORE. As the daemon's libzmq ROUTER reads it
//     (CONTRACT.md §2): when the first of two or more frames is empty it is a REQ's delimiter
//     and the reply gets one too; the body is the LAST frame (DEALER [body], REQ [empty, body];
//     frames between are ignored);
//   - PING is answered (take_pong()); PONG and unknown commands are ignored; ERROR, a second
//     READY, or any command before READY drops the peer.
// Limits: a data frame longer than `max_frame` (the daemon's max request bytes: libzmq's
// ZMQ_MAXMSGSIZE, which also counts frames) or a command longer than `max_command` drops the
// peer when its header arrives. The session holds at most one message's last frame and a
// 64 KiB input buffer, however many frames a message has.
//
// Copies: small frames are received into the input buffer and copied out once, into the body;
// a frame bigger than the input buffer is received straight into its body (buffer() points
// there), so an insertMany of megabytes is copied by the kernel only. That body grows with
// what has arrived (doubling, from 1 MiB), not to the size the header announces: a peer that
// announces 64 MiB and sends nothing costs 1 MiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mg::zmtp {

// One request: its body, and whether the client is a REQ (its reply starts with an empty frame).
struct Request {
  bool delimiter = false;
  std::string body;
};

class RouterSession {
 public:
  struct Limits {
    size_t max_frame = size_t(16) << 20;
    size_t max_command = 16 * 1024;
  };
  static constexpr size_t kBufferSize = 64 * 1024;

  RouterSession() : RouterSession(Limits{}) {}
  explicit RouterSession(Limits limits);

  // Where the next bytes from the peer go, and how many fit (never 0 while the peer is kept).
  char* buffer() { return big_ ? big_->data() + big_filled_ : in_.get() + end_; }
  size_t room() const { return big_ ? big_->size() - big_filled_ : kBufferSize - end_; }
  // `n` bytes were written at buffer(): handles every whole frame, appending each whole request
  // to `out`. False when the peer is to be dropped (then why() says why; further calls keep
  // returning false).
  bool received(size_t n, std::vector<Request>& out);
  // Copies `bytes` in through buffer() and received() (tests, the fuzzer).
  bool feed(std::string_view bytes, std::vector<Request>& out);

  // Greeting and READY done.
  bool ready() const { return ready_; }
  // The PONG frame owed (answering the last PING), taken once; empty when none is owed.
  std::string take_pong() { return std::move(pong_); }
  const char* why() const { return why_; }

 private:
  bool fail(const char* why) {
    why_ = why;
    return false;
  }
  bool parse(std::vector<Request>& out);  // frames in in_[begin_, end_)
  bool command(std::string_view body);
  void data_frame(uint8_t flags, std::string&& body, std::vector<Request>& out);

  Limits limits_;
  bool greeted_ = false, ready_ = false;
  const char* why_ = nullptr;
  std::unique_ptr<char[]> in_;
  size_t begin_ = 0, end_ = 0;  // received, not handled yet
  // A frame too big for in_: received into *big_ ([0, big_filled_) so far); its flags.
  std::unique_ptr<std::string> big_;
  size_t big_filled_ = 0, big_size_ = 0;  // received so far, the frame's size
  uint8_t big_flags_ = 0;
  // The message being read: frames so far, whether the first was empty, the last frame.
  size_t frames_ = 0;
  bool first_empty_ = false;
  std::string last_;
  std::string pong_;
};

}  // namespace mg::zmtp
