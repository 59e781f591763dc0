// clients/cpp/zmtp.h — one ZeroMQ peer spoken directly over one TCP socket (ZMTP 3.0, NULL
// mechanism; rfc.zeromq.org/spec/23): a DEALER for a Client that opts in with
// ClientOptions::direct, a SUB for a Watcher that opts in with WatchOptions::direct.
//
// Why: a libzmq socket hands every message to and from the context's I/O thread, so each
// message crosses a thread boundary (a ypipe, an eventfd signal, a wake-up) on top of the
// send() and recv() that carry it. On a machine with few cores those hops cost more CPU than
// the message itself. Here the calling thread does the send() and recv() itself, like
// redis-benchmark does: the wire bytes are exactly the ones a libzmq DEALER or SUB sends.
//
// Wire format, after the 64-byte greetings and the READY commands both ways (ours carries the
// one property a ROUTER or XPUB checks: Socket-Type "DEALER" or "SUB"):
//   frame = flags (bit 0 MORE, bit 1 LONG: 8-byte size, bit 2 COMMAND), size (1 or 8 bytes,
//           big-endian), body.
// A message is its frames up to the first without MORE. send() writes a one-frame message: a
// request, or a SUB's subscription (0x01 + topic as a data message, as libzmq 4.3.4's SUB sends
// it to a ZMTP 3.0 peer; captured on the wire: `\x00\x09\x01db.Model`). PING commands are answered
// with PONG; other commands are ignored, except ERROR, which ends the connection.
//
// Receiving: fill() reads one big chunk with recv() into a buffer kept across calls (no
// zero-filling, no copy after), and next_message() parses the frames of one message in place:
// the views point into that buffer and stay valid until the next fill(). Nothing is allocated
// per message.
//
// Limits: tcp:// endpoints only, no CURVE, no automatic reconnection. A lost connection makes
// send() throw and broken() true.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mg::client {

class ZmtpConnection {
 public:
  // The frames of one received message, as views into the connection's buffer.
  using Frames = std::vector<std::string_view>;

  // Connects to `endpoint` ("tcp://host:port") as a `socket_type` peer ("DEALER", "SUB") and
  // does the handshake, within `timeout_ms`. Throws Error BadValue for an endpoint it cannot
  // speak to, ExceededTimeLimit when the server does not answer in time or the connection fails.
  ZmtpConnection(const std::string& endpoint, int timeout_ms,
                 std::string_view socket_type = "DEALER");
  ~ZmtpConnection();
  ZmtpConnection(const ZmtpConnection&) = delete;
  ZmtpConnection& operator=(const ZmtpConnection&) = delete;

  // The socket, to poll for POLLIN.
  int fd() const { return fd_; }
  // Sends `body` as a one-frame message, waiting up to `timeout_ms` for room in the socket
  // buffer. Throws Error ExceededTimeLimit on timeout or when the connection is lost.
  void send(std::string_view body, int timeout_ms);
  // Reads whatever the socket holds without blocking and calls `on_message` with each complete
  // message's last frame. Returns true when at least one message came.
  bool read_available(const std::function<void(std::string_view)>& on_message);

  // The next complete message already received: its frames into `frames` (cleared first), true;
  // false when no whole message is buffered. Commands met on the way are handled (PING) and
  // not returned. The views are valid until the next fill().
  bool next_message(Frames& frames);
  // One recv() into the buffer, without blocking; returns the number of bytes read: 0 when the
  // socket had nothing (or the connection is lost: broken()). Sets `drained` when the read did
  // not fill the room offered (the socket is empty now). Invalidates next_message()'s views.
  size_t fill(bool& drained);
  bool broken() const { return broken_; }

 private:
  void handshake(std::string_view socket_type, int timeout_ms);
  void write_all(const char* head, size_t head_n, const char* body, size_t body_n, int timeout_ms);
  void command(std::string_view body);

  int fd_ = -1;
  bool broken_ = false;
  std::string endpoint_;
  // Received bytes: [begin_, end_) not parsed yet, [end_, cap_) room for the next recv().
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, begin_ = 0, end_ = 0;
  Frames frames_;  // read_available()'s, reused
};

}  // namespace mg::client
