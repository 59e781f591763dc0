// daemon/config.h — memgoosed's settings from flags (CLI11) and a TOML file (toml++).
//
// Every flag of CONTRACT.md §1 has the same key in the file; flags win over the file:
//   bind = ["tcp://127.0.0.1:7377"]   pub = "tcp://127.0.0.1:7378"   data_dir = "./data"
//   log_level = "info"   pub_direct = true|false   (--pub-direct, --pub-direct=false)
//   bind_direct = true|false   (--bind-direct, --bind-direct=false)
//   [limits] max_request_bytes = 67108864  max_inflight_per_model = 1024
//            max_batch_docs = 100000  max_databases = 1000  max_models = 1024
//   change_log_size = 100000   reply_spin_us = 50
//   [security] curve_secret_key = "/etc/memgoose/server.key"   (--curve-secret-key FILE)
//              curve_allow = "/etc/memgoose/clients"          (--curve-allow FILE|DIR)
//              ipc_mode = "0660"                              (--ipc-mode MODE)
// CURVE is on when both curve keys are given (one without the other is a config error); see
// docs/SECURITY.md and protocol/curve_keys.h for the key formats.
//   [[databases]] name = "app"  storage = "memory"  options = { }
//   [[plugins]] path = "/usr/lib/memgoose/redis_storage.so"   (or --plugin PATH, repeatable)
// A relative plugin path in the file is taken from the file's directory; from a flag, from the
// working directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mg {

struct PredefinedDatabase {
  std::string name, storage;
  std::string options;  // encoded MessagePack map
};

struct DaemonConfig {
  std::vector<std::string> bind{"tcp://127.0.0.1:7377"};
  std::string pub = "tcp://127.0.0.1:7378";
  // The change stream served by the daemon itself (daemon/direct_pub.h), not libzmq's XPUB. As
  // parse_config resolves it: true for a tcp:// pub endpoint with CURVE off unless the flag or
  // the file says false; an explicit true with ipc:// or CURVE is a config error.
  bool pub_direct = true;
  // The tcp:// request endpoints served by the daemon itself (daemon/direct_router.h), not
  // libzmq's ROUTER: true unless the flag or the file says false, or CURVE is on (an explicit
  // true with CURVE is a config error). ipc:// endpoints are libzmq's either way.
  bool bind_direct = true;
  std::string data_dir = "./data";
  std::string log_level = "info";
  int64_t max_request_bytes = 64ll << 20;
  int64_t max_inflight_per_model = 1024;
  int64_t change_log_size = 100000;  // events retained per model for `changes`
  int64_t reply_spin_us = 50;        // front door's wait for a reply before sleeping (0: off)
  int64_t max_batch_docs = 100000;   // documents in one insertMany
  int64_t max_databases = 1000;      // databases, `default` included
  int64_t max_models = 1024;         // models over every database (each has a thread)
  std::string curve_secret_key;      // server's secret key file; empty: CURVE off
  std::string curve_allow;           // allow-list of client public keys (file or directory)
  int ipc_mode = 0660;               // permissions of ipc:// socket files
  std::vector<PredefinedDatabase> databases;
  std::vector<std::string> plugins;  // storage plugins (storage/plugin.h), file's then flags'
  std::string repair;                // --repair DB: repair that file-storage database and exit
};

// Parses argv (and the --config file). On --help prints usage and returns exit code 0 in
// `exit_code`; on a bad flag or file returns the one-line reason in `error` (exit non-zero).
struct ParseOutcome {
  std::optional<DaemonConfig> config;
  int exit_code = 0;
  std::string error;
};
ParseOutcome parse_config(int argc, char** argv);

}  // namespace mg
