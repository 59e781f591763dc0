// daemon/zap_handler.h — the ZAP handler that decides which CURVE clients memgoosed admits.
//
// ZeroMQ asks the ZAP handler (RFC 27, a REP socket bound at inproc://zeromq.zap.01 in the
// sockets' context) about every CURVE handshake. Without one, a CURVE server admits any
// client that knows the server's public key; with this one, only clients whose public key
// is in the allow-list get "200", everyone else "400": ZeroMQ then drops the connection
// before a single request or change event passes (the client sees an ERROR command, i.e. a
// ZMQ_EVENT_HANDSHAKE_FAILED_AUTH on its socket monitor). Mechanisms other than CURVE are
// refused too. The user id of an admitted client is its Z85 public key.
//
// The handler runs on a thread of its own (the front door's poll loop never waits on it),
// polls with a short timeout to notice stop, and must be destroyed before its context.
#pragma once

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

namespace mg {

class ZapHandler {
 public:
  // Binds inproc://zeromq.zap.01 on `ctx` (throws zmq::error_t when another handler holds it)
  // and starts answering; `allowed` are Z85 public keys.
  ZapHandler(zmq::context_t& ctx, const std::vector<std::string>& allowed);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  int64_t admitted() const { return admitted_.load(); }
  int64_t refused() const { return refused_.load(); }

 private:
  void serve();
  void answer(zmq::message_t* request, size_t frames);

  zmq::socket_t rep_;
  std::set<std::string> allowed_;  // 32-byte binary keys
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> admitted_{0}, refused_{0};
  std::thread thread_;
};

}  // namespace mg
