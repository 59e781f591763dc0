// protocol/curve_keys.h — CURVE key files, shared by memgoosed, the C++ client and `memgoose`.
//
// A key is ZeroMQ's Z85 text form of a 32-byte Curve25519 key (40 characters, what
// zmq_curve_keypair produces). A key file holds one key; blank lines and lines starting
// with '#' are ignored (a line that is exactly one valid key is a key, even when it starts
// with '#', which is a Z85 character). Two line forms are read:
//
//   # memgoose CURVE public key            # a `memgoose keygen` file: the bare key
//   rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
//
//   public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"   # a CZMQ zcert file
//   secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
//
// `memgoose keygen NAME` writes NAME.pub (the public key) and NAME.key (the secret key,
// with its public key as a comment), both mode 0600, and refuses to overwrite either.
// An allow-list (memgoosed's `curve_allow`) is a file with one public key per line, or a
// directory whose `*.pub` files each hold public keys (other files there are ignored, so a
// secret key dropped into it by mistake is never read as a public one).
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace mg {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// True when `z85` is 40 Z85 characters that decode to 32 bytes.
bool valid_curve_key(const std::string& z85);

// The public key of `path` (a bare key or a zcert `public-key` line). BadValue naming the
// file and the problem when it cannot be read or holds no valid key.
Result<std::string> read_curve_public_key(const std::string& path);

// The secret key of `path` (a bare key or a zcert `secret-key` line) and the public key
// derived from it. BadValue as above; also when the file is readable by group or others
// and `require_private` is set (the daemon's own secret key must be 0600 or stricter).
Result<CurveKeyPair> read_curve_secret_key(const std::string& path, bool require_private);

// Every public key of an allow-list file or directory (see above). BadValue naming the file
// and line of a bad key, or when the list is empty: an empty list would admit no one, which
// is never what an operator means.
Result<std::vector<std::string>> read_curve_allow_list(const std::string& path);

// A fresh key pair from libsodium through zmq_curve_keypair.
CurveKeyPair generate_curve_keypair();

// Writes `<base>.pub` and `<base>.key` (mode 0600, never overwriting). Returns the paths
// written in `written`; BadValue naming the file on failure.
Status write_curve_keypair(const std::string& base, const CurveKeyPair& keys,
                           std::vector<std::string>* written = nullptr);

}  // namespace mg
