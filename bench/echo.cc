// bench/echo.cc — the ZeroMQ echo baseline (see echo.h).
#include "bench/echo.h"

#include <chrono>
#include <stdexcept>
#include <zmq.hpp>

#include "bench/procs.h"
#include "core/msgpack.h"

namespace mg::bench {

EchoServer::EchoServer() {
  endpoint_ = "tcp://127.0.0.1:" + std::to_string(pick_port(27379));
  doc_.assign("\x80", 1);
  thread_ = std::thread([this] { serve(); });
  while (!ready_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!bind_error_.empty()) {
    thread_.join();
    throw std::runtime_error("echo server: cannot bind " + endpoint_ + ": " + bind_error_);
  }
}

EchoServer::~EchoServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void EchoServer::set_doc(std::string doc) {
  std::lock_guard<std::mutex> lock(mu_);
  doc_ = std::move(doc);
}

void EchoServer::serve() {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  try {
    router.set(zmq::sockopt::linger, 0);
    router.bind(endpoint_);
  } catch (const zmq::error_t& e) {
    bind_error_ = e.what();
  }
  ready_ = true;
  if (!bind_error_.empty()) return;
  std::string reply;
  while (!stop_.load(std::memory_order_relaxed)) {
    zmq_pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    zmq::message_t identity, body;
    while (router.recv(identity, zmq::recv_flags::dontwait)) {
      if (!identity.more()) continue;
      (void)router.recv(body);
      while (body.more()) (void)router.recv(body);
      MpView req(std::string_view(body.data<char>(), body.size()));
      MpView id = req.type() == MpType::Map ? req.get("id") : MpView();
      reply.clear();
      MpWriter w(reply);
      w.map_header(id.valid() ? 3 : 2);
      w.str("ok"), w.boolean(true);
      {
        std::lock_guard<std::mutex> lock(mu_);
        w.str("doc"), w.raw(doc_);
      }
      if (id.valid()) w.str("id"), w.raw(id);
      router.send(identity, zmq::send_flags::sndmore);
      router.send(zmq::buffer(reply), zmq::send_flags::none);
    }
  }
}

}  // namespace mg::bench
