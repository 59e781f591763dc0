// clients/cli/cli.h — the pieces shared by the `memgoose` commands.
//
// Design: main.cc parses the command line with CLI11 into these structs and calls one run_*
// function; each returns the process exit code or throws. Errors are split by who is at fault:
// InputError (bad arguments, bad JSON, a bad line in an import file: exit 2) and
// mg::client::Error (the server said no, or did not answer: exit 1). JSON in and out is
// MongoDB Extended JSON through core/ejson.h.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "clients/cpp/client.h"

namespace mg::cli {

// A mistake in what the user gave: printed as "<name>: <message>", exit code 2.
class InputError : public std::runtime_error {
 public:
  InputError(std::string name, const std::string& message)
      : std::runtime_error(message), name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

struct Connection {
  std::string endpoint = "tcp://127.0.0.1:7377";
  int timeout_ms = 30000;
  std::string server_key;  // CURVE: the daemon's public key file (--server-key)
  std::string client_key;  // CURVE: this client's secret key file (--client-key)
};

// The client options of `conn`: timeout, and CURVE keys when both key files are given
// (InputError when only one is; client::Error BadValue for an unreadable key file).
client::ClientOptions client_options(const Connection& conn);

// "db.Model" split at the first '.'; both parts must be non-empty (else InputError).
struct Namespace {
  std::string db;
  std::string model;
};
Namespace parse_namespace(const std::string& text);

// Extended JSON -> MessagePack; `what` names the argument in the error (InputError).
std::string json_arg(std::string_view what, std::string_view json);
// Like json_arg, but the value must be a JSON object.
std::string json_object_arg(std::string_view what, std::string_view json);

// Writes `v` as one line of Extended JSON to stdout.
void print_json_line(MpView v);
// Writes a reply map without the client's `id` as one JSON line.
void print_reply(const client::Reply& reply);

struct FindOptions {
  std::string ns;
  std::string filter;
  std::string sort;
  int64_t skip = 0;
  int64_t limit = 0;
  std::string projection;
};

struct UpdateOptions {
  std::string ns;
  std::string filter;
  std::string update;
  bool many = false;
  bool upsert = false;
};

struct ImportOptions {
  std::string ns;
  std::string path;  // "-" reads standard input
  int batch = 1000;
};

struct WatchArgs {
  std::string ns;
  int64_t after = -1;  // replay the retained events after this seq; -1: from now on
  std::string pub = "tcp://127.0.0.1:7378";
};

struct CreateDbOptions {
  std::string db, storage, options, from_backup;
};

struct MigrateOptions {
  std::string src;  // db.Model
  std::string dst;  // db or db.Model (the model's name kept)
  int batch = 1000;
};

// Each run_* talks to the daemon at `conn` and returns the exit code (0), or throws.
int run_server_op(const Connection& conn, std::string_view op);  // ping, hello, stats
int run_insert(const Connection& conn, const std::string& ns, const std::string& json);
int run_find(const Connection& conn, const FindOptions& opts);
int run_count(const Connection& conn, const std::string& ns, const std::string& filter);
int run_aggregate(const Connection& conn, const std::string& ns, const std::string& pipeline);
int run_update(const Connection& conn, const UpdateOptions& opts);
int run_delete(const Connection& conn, const std::string& ns, const std::string& filter, bool many);
int run_drop(const Connection& conn, const std::string& target);
int run_import(const Connection& conn, const ImportOptions& opts);
int run_export(const Connection& conn, const std::string& ns, const std::string& filter);
// data.cc: createDatabase (optionally fromBackup), backup, migrate (progress bar on stderr).
int run_createdb(const Connection& conn, const CreateDbOptions& opts);
int run_backup(const Connection& conn, const std::string& db, const std::string& name);
int run_migrate(const Connection& conn, const MigrateOptions& opts);
// Prints change events until SIGINT or SIGTERM (then returns 0); see watch.cc.
int run_watch(const Connection& conn, const WatchArgs& args);
// Writes a new CURVE key pair to <base>.pub and <base>.key (0600) and prints the public key.
int run_keygen(const std::string& base);

}  // namespace mg::cli
