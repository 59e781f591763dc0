// daemon/tcp_listener.h — a listening TCP socket for the daemon's own ZMTP endpoints (the change
// stream, daemon/direct_pub.h; the request socket, daemon/direct_router.h), as libzmq would bind
// "tcp://host:port" ("*" for every interface, [v6] in brackets, a host name resolved with
// getaddrinfo, or an interface name such as eth0: its first IPv4 address, else IPv6).
//
// accept_all() hands over every pending connection, non-blocking, close-on-exec, TCP_NODELAY
// (as libzmq sets it). accept4() failing for want of descriptors or memory (EMFILE, ENFILE,
// ENOBUFS, ...) pauses the listener for 100 ms (logged at warn once per episode) instead of
// polling a listener that stays readable: the pending connections wait in the kernel's backlog
// meanwhile. Not thread-safe: the front door's thread uses it.
#pragma once

#include <zmq.h>

#include <chrono>
#include <functional>
#include <string>

#include "core/error.h"

namespace mg {

class TcpListener {
 public:
  using Clock = std::chrono::steady_clock;
  // `what` names the endpoint in errors and logs ("pub endpoint", "request endpoint").
  explicit TcpListener(std::string what) : what_(std::move(what)) {}
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Listens on `endpoint`; a one-line reason on failure (not tcp, no port, address in use...).
  Status bind(const std::string& endpoint);
  // What to poll: the listener, without events while paused.
  zmq_pollitem_t poll_item() const;
  int fd() const { return fd_; }
  bool paused() const { return paused_; }
  // The poll timeout to use instead of `longest` while paused: until it resumes.
  std::chrono::milliseconds poll_timeout(std::chrono::milliseconds longest) const;
  // Given the listener's revents: accepts every pending connection and passes each to `take`
  // (which owns it from then on). Resumes a paused listener once its pause is over.
  void service(short revents, Clock::time_point now, const std::function<void(int fd)>& take);

 private:
  std::string what_;
  int fd_ = -1;
  bool paused_ = false;   // accept4 failed: not polled until resume_at_
  bool failing_ = false;  // in an episode of failures (logged once)
  Clock::time_point resume_at_{};
};

}  // namespace mg
