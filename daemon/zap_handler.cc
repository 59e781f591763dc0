// daemon/zap_handler.cc — see zap_handler.h.
//
// A ZAP request (RFC 27) is the frames [version "1.0", request id, domain, address, routing
// id, mechanism, credentials...]; for CURVE the one credential is the client's 32-byte public
// key. The reply is [version, request id, status code, status text, user id, metadata].
#include "daemon/zap_handler.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace mg {

namespace {
constexpr size_t kMaxFrames = 8;

std::string z85(const std::string& bin) {
  char out[41] = {};
  if (bin.size() != 32 || !zmq_z85_encode(out, reinterpret_cast<const uint8_t*>(bin.data()), 32))
    return "?";
  return out;
}

std::string frame(const zmq::message_t& m) {
  return std::string(m.data<char>(), m.size());
}
}  // namespace

ZapHandler::ZapHandler(zmq::context_t& ctx, const std::vector<std::string>& allowed)
    : rep_(ctx, zmq::socket_type::rep) {
  for (auto& k : allowed) {
    std::string bin(32, '\0');
    if (zmq_z85_decode(reinterpret_cast<uint8_t*>(bin.data()), k.c_str())) allowed_.insert(bin);
  }
  rep_.set(zmq::sockopt::linger, 0);
  rep_.bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this] { serve(); });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::serve() {
  while (!stop_) {
    zmq::pollitem_t item{rep_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t frames[kMaxFrames];
      size_t n = 0;
      bool more = true;
      while (more) {
        zmq::message_t m;
        (void)rep_.recv(m);
        more = m.more();
        if (n < kMaxFrames) frames[n++] = std::move(m);
      }
      answer(frames, n);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      spdlog::error("ZAP handler: {}", e.what());
    }
  }
}

void ZapHandler::answer(zmq::message_t* f, size_t n) {
  std::string request_id = n > 1 ? frame(f[1]) : "";
  std::string address = n > 3 ? frame(f[3]) : "";
  std::string mechanism = n > 5 ? frame(f[5]) : "";
  std::string key = n > 6 ? frame(f[6]) : "";
  bool ok = n >= 7 && frame(f[0]) == "1.0" && mechanism == "CURVE" && allowed_.count(key);
  if (ok) {
    ++admitted_;
    spdlog::debug("ZAP: admitted {} from {}", z85(key), address);
  } else {
    ++refused_;
    spdlog::warn("ZAP: refused {} client {} from {} (not in the CURVE allow-list)", mechanism,
                 mechanism == "CURVE" ? z85(key) : "-", address);
  }
  const std::string user = ok ? z85(key) : "";
  const std::string reply[] = {
      "1.0", request_id, ok ? "200" : "400", ok ? "OK" : "client key not allowed", user, ""};
  for (size_t i = 0; i < 6; ++i)
    rep_.send(zmq::buffer(reply[i]), i < 5 ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

}  // namespace mg
