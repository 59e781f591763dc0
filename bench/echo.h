// bench/echo.h — the ZeroMQ baseline: a ROUTER on its own thread that answers every request
// at once with a reply of the size memgoosed gives to the same request, and no other work.
//
// The reply is `{ok: true, doc: <template doc>, id: <the request's id>}`: the template is the
// document of a real findOne reply, so reply sizes match memgoosed's byte for byte, and the
// id is echoed so that the bench's own Client (which matches replies by id and validates
// them) can drive the echo server exactly as it drives memgoosed. What the echo measures is
// then the transport and the client: memgoosed's ratio to it is what the daemon adds.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace mg::bench {

class EchoServer {
 public:
  // Binds tcp://127.0.0.1:<a free port> and starts serving.
  EchoServer();
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  // Sets the encoded document every later reply carries.
  void set_doc(std::string doc);

 private:
  void serve();

  std::string endpoint_;
  std::mutex mu_;
  std::string doc_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
  std::string bind_error_;
  std::thread thread_;
};

}  // namespace mg::bench
