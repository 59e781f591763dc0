// clients/cpp/zmtp.h — a DEALER connection spoken directly over one TCP socket (ZMTP 3.0, NULL
// mechanism; rfc.zeromq.org/spec/23), for a Client that opts in with ClientOptions::direct.
//
// Why: a libzmq socket hands every message to and from the context's I/O thread, so each
// request and each reply crosses a thread boundary (a ypipe, an eventfd signal, a wake-up) on
// top of the send() and recv() that carry it. On a machine with few cores those hops cost more
// CPU than the request itself. Here the calling thread does the send() and recv() itself, like
// redis-benchmark does: the wire bytes are exactly the ones a libzmq DEALER sends.
//
// Wire format, after the 64-byte greetings and the READY commands both ways:
//   frame = flags (bit 0 MORE, bit 1 LONG: 8-byte size, bit 2 COMMAND), size (1 or 8 bytes,
//           big-endian), body.
// A request goes out as one frame; a reply is the last frame of a message (a ROUTER answering
// a DEALER sends just the body). PING commands are answered with PONG; other commands are
// ignored, except ERROR, which ends the connection.
//
// Limits: tcp:// endpoints only, no CURVE, no automatic reconnection. A lost connection makes
// send() throw (the requests in flight then time out, as with libzmq).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mg::client {

class ZmtpConnection {
 public:
  // Connects to `endpoint` ("tcp://host:port") and does the handshake, within `timeout_ms`.
  // Throws Error BadValue for an endpoint it cannot speak to, ExceededTimeLimit when the server
  // does not answer in time or the connection fails.
  ZmtpConnection(const std::string& endpoint, int timeout_ms);
  ~ZmtpConnection();
  ZmtpConnection(const ZmtpConnection&) = delete;
  ZmtpConnection& operator=(const ZmtpConnection&) = delete;

  // The socket, to poll for POLLIN.
  int fd() const { return fd_; }
  // Sends `body` as one message, waiting up to `timeout_ms` for room in the socket buffer.
  // Throws Error ExceededTimeLimit on timeout or when the connection is lost.
  void send(std::string_view body, int timeout_ms);
  // Reads whatever the socket holds without blocking and calls `on_message` with each complete
  // message's last frame. Returns true when at least one message came.
  bool read_available(const std::function<void(std::string_view)>& on_message);
  bool broken() const { return broken_; }

 private:
  void handshake(int timeout_ms);
  void write_all(const char* head, size_t head_n, const char* body, size_t body_n, int timeout_ms);
  void parse(const std::function<void(std::string_view)>& on_message, bool& got);

  int fd_ = -1;
  bool broken_ = false;
  std::string endpoint_;
  std::string in_;             // received bytes not parsed yet
  size_t in_off_ = 0;          // where the unparsed bytes start in in_
  std::vector<char> scratch_;  // what recv() reads into
};

}  // namespace mg::client
