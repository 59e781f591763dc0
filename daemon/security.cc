// daemon/security.cc — see security.h.
#include "daemon/security.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "protocol/curve_keys.h"

namespace mg {

Result<std::unique_ptr<ZapHandler>> secure_sockets(zmq::context_t& ctx, const DaemonConfig& cfg,
                                                   std::initializer_list<zmq::socket_t*> sockets) {
  if (cfg.curve_secret_key.empty()) return std::unique_ptr<ZapHandler>();
  auto keys = read_curve_secret_key(cfg.curve_secret_key, /*require_private=*/true);
  if (!keys.ok()) return keys.status();
  auto allowed = read_curve_allow_list(cfg.curve_allow);
  if (!allowed.ok()) return allowed.status();
  std::unique_ptr<ZapHandler> zap;
  try {
    zap = std::make_unique<ZapHandler>(ctx, allowed.value());
    for (zmq::socket_t* s : sockets) {
      s->set(zmq::sockopt::curve_server, 1);
      s->set(zmq::sockopt::curve_secretkey, keys.value().secret_key);
      s->set(zmq::sockopt::zap_domain, "memgoose");
    }
  } catch (const zmq::error_t& e) {
    return make_status(ErrorCode::BadValue, std::string("cannot enable CURVE: ") + e.what());
  }
  spdlog::info("CURVE on: server public key {}, {} client key(s) allowed from {}",
               keys.value().public_key, allowed.value().size(), cfg.curve_allow);
  return zap;
}

void bind_endpoint(zmq::socket_t& sock, const std::string& endpoint, int ipc_mode) {
  constexpr std::string_view kIpc = "ipc://";
  if (endpoint.compare(0, kIpc.size(), kIpc) != 0 || endpoint == "ipc://*") {
    sock.bind(endpoint);
    return;
  }
  std::string path = endpoint.substr(kIpc.size());
  mode_t old = ::umask(mode_t(~ipc_mode & 0777));
  try {
    sock.bind(endpoint);
  } catch (...) {
    ::umask(old);
    throw;
  }
  ::umask(old);
  if (path.empty() || path[0] == '@') return;  // Linux abstract namespace: no file
  if (::chmod(path.c_str(), mode_t(ipc_mode)) != 0)
    throw std::runtime_error("cannot set the permissions of " + path + ": " + std::strerror(errno));
}

}  // namespace mg
