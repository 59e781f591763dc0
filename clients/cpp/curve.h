// clients/cpp/curve.h — CURVE keys of a client of memgoosed (docs/SECURITY.md).
//
// A client of a daemon running with CURVE needs the server's public key and a key pair of its
// own whose public key is on the daemon's allow-list. Both come from key files in the format
// of protocol/curve_keys.h (`memgoose keygen` writes them). Put the keys in
// ClientOptions::curve (the Watcher's SUB socket takes them from its client options too).
//
// A client whose key the daemon refuses gets no reply and no event: ZeroMQ drops it at the
// handshake. The Client watches its socket's handshake events, so a blocking call fails fast
// with Error 13 Unauthorized (instead of waiting for ExceededTimeLimit) once the daemon has
// refused the key.
#pragma once

#include <string>
#include <zmq.hpp>

namespace mg::client {

struct CurveKeys {
  std::string server_public;  // Z85
  std::string client_public;  // Z85
  std::string client_secret;  // Z85
};

// Reads the server's public key file and the client's secret key file. Throws Error
// (BadValue) naming the file when one cannot be read or holds no valid key.
CurveKeys load_curve_keys(const std::string& server_public_file,
                          const std::string& client_secret_file);

// Makes `socket` a CURVE client with `keys` (before it connects).
void apply_curve(zmq::socket_t& socket, const CurveKeys& keys);

}  // namespace mg::client
