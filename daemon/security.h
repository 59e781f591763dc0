// daemon/security.h — how memgoosed secures its sockets (docs/SECURITY.md).
//
// CURVE (optional): with `curve_secret_key` and `curve_allow` set, the request ROUTER and the
// change-stream XPUB are CURVE servers with the daemon's secret key, and a ZapHandler admits
// only the client public keys of the allow-list. Without those settings the sockets are plain
// (ZeroMQ NULL mechanism) and the default loopback/ipc endpoints are the only protection.
//
// ipc:// endpoints: the socket file is created with no more permission than `ipc_mode`
// (umask around the bind, so there is no window where it is wider) and then chmod'ed to it.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "core/error.h"
#include "daemon/config.h"
#include "daemon/zap_handler.h"

namespace mg {

// When CURVE is on: reads the server's secret key (must be mode 0600 or stricter) and the
// allow-list, starts the ZAP handler on `ctx` and makes every socket of `sockets` a CURVE
// server (call before binding them). Returns nullptr when CURVE is off; BadValue naming the
// file for an unreadable or bad key, a too-open secret key file or an empty allow-list.
Result<std::unique_ptr<ZapHandler>> secure_sockets(zmq::context_t& ctx, const DaemonConfig& cfg,
                                                   std::initializer_list<zmq::socket_t*> sockets);

// Binds `sock` to `endpoint`; an ipc:// socket file gets permissions `ipc_mode`. Throws
// zmq::error_t when the bind fails, std::runtime_error when the permissions cannot be set.
void bind_endpoint(zmq::socket_t& sock, const std::string& endpoint, int ipc_mode);

}  // namespace mg
