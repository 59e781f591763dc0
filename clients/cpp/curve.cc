// clients/cpp/curve.cc — see curve.h.
#include "clients/cpp/curve.h"

#include "clients/cpp/client.h"
#include "protocol/curve_keys.h"

namespace mg::client {

CurveKeys load_curve_keys(const std::string& server_public_file,
                          const std::string& client_secret_file) {
  auto server = read_curve_public_key(server_public_file);
  if (!server.ok()) throw Error(2, "BadValue", server.status().message);
  auto own = read_curve_secret_key(client_secret_file, /*require_private=*/false);
  if (!own.ok()) throw Error(2, "BadValue", own.status().message);
  return {server.value(), own.value().public_key, own.value().secret_key};
}

void apply_curve(zmq::socket_t& socket, const CurveKeys& keys) {
  socket.set(zmq::sockopt::curve_serverkey, keys.server_public);
  socket.set(zmq::sockopt::curve_publickey, keys.client_public);
  socket.set(zmq::sockopt::curve_secretkey, keys.client_secret);
}

}  // namespace mg::client
