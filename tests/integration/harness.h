// tests/integration/harness.h — what every integration test shares: JSON <-> MessagePack
// shorthands, the contract's error table (CONTRACT.md §6), an error assertion that reports the
// caller's line, and the fixtures that give a test a running memgoosed and a C++ client.
//
// Fixtures:
//  - SharedDaemon: register once per executable with BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);
//    it starts one memgoosed before the first test and stops it after the last, asserting a
//    clean exit (status 0). Tests on it use their own model names (model()).
//  - OnSharedDaemon: a per-test fixture with a client `c` on the shared daemon; at the end of
//    the test it checks that the daemon is still alive.
//  - OwnDaemon: a per-test fixture that owns a private daemon (for shutdown, limits, ...).
#pragma once

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/cpp/client.h"
#include "core/ejson.h"
#include "core/msgpack.h"
#include "tests/integration/daemon_process.h"

// MpType has no operator<<: print it as Boost's "no value" in failure messages.
BOOST_TEST_DONT_PRINT_LOG_VALUE(mg::MpType)

namespace mg::it {

using client::Client;
using client::ClientOptions;
using client::Error;
using client::Reply;
using client::Request;
using mg::ArrayIter;
using mg::MapIter;
using mg::MpType;
using mg::MpView;
using mg::MpWriter;
using testing::DaemonOptions;
using testing::DaemonProcess;

// JSON (MongoDB Extended JSON, core/ejson.h) to MessagePack.
std::string J(std::string_view json);
// MessagePack to Extended JSON; "<invalid>" for an invalid view.
std::string js(MpView v);
std::string js(std::string_view encoded);
inline std::string js(const Reply& r) {
  return js(r.root());
}
// The JSON text json_from_mp writes for `json`: compare js(...) against canon(expected) so
// that ints, floats and key order are all checked.
std::string canon(std::string_view json);

// The element of an array of maps whose `name` is `name`; an invalid view when none.
MpView by_name(MpView array, std::string_view name);
// The values of `key` in every map of an array: strings as they are, others as JSON.
std::vector<std::string> names_of(MpView array, std::string_view key = "name");

// The name CONTRACT.md §6 gives `code` ("" for a code not in the table).
std::string_view error_name(int code);

// FindArgs from its leading fields (an aggregate initializer would trip
// -Wmissing-field-initializers).
client::FindArgs find_args(std::string_view filter, std::string_view sort = {}, int64_t skip = 0,
                           int64_t limit = 0, std::string_view projection = {});

// How much longer the tests may wait: $MG_TEST_TIME_SCALE (an integer >= 1, default 1).
// scripts/sanitize.sh tsan sets it, since ThreadSanitizer makes the daemon 5-15x slower; what
// a test asserts does not change, only its deadlines (client timeouts, wait budgets).
int time_scale();
inline std::chrono::milliseconds scaled(std::chrono::milliseconds d) {
  return d * time_scale();
}

// Client options for tests: a timeout well under ctest's (times time_scale()), a given window.
ClientOptions client_options(int timeout_ms = 20000, int window = 64);

// The current Boost test case's name, cut to a valid model name (CONTRACT.md §4).
std::string test_model_name(std::string_view suffix = "");

// Calls `req` and asserts that it fails with `code`, the contract's name for it and a message.
// Returns the error (details() gives keyPattern, index, errors, ...).
Error expect_error_at(Client& c, Request req, int code, const char* file, int line);
#define EXPECT_ERROR(client, req, code) \
  ::mg::it::expect_error_at((client), (req), (code), __FILE__, __LINE__)

// Calls `req` and asserts `ok: true`; returns the reply.
Reply expect_ok_at(Client& c, Request req, const char* file, int line);
#define EXPECT_OK(client, req) ::mg::it::expect_ok_at((client), (req), __FILE__, __LINE__)

// A plain ZeroMQ socket for what the client library will not send: bodies that are not maps,
// a caller's own `id`, REQ framing.
class RawSocket {
 public:
  explicit RawSocket(const std::string& endpoint, zmq::socket_type type = zmq::socket_type::dealer);
  // One frame [body]; a REQ socket adds the empty delimiter itself.
  void send(std::string_view body);
  // The last frame of the next reply; nullopt after `timeout_ms`.
  std::optional<std::string> recv(int timeout_ms = 10000);
  std::optional<std::string> request(std::string_view body, int timeout_ms = 10000) {
    send(body);
    return recv(timeout_ms);
  }

 private:
  zmq::context_t ctx_{1};
  zmq::socket_t sock_;
};

// One memgoosed for a whole test executable (see the top of this file).
struct SharedDaemon {
  SharedDaemon() = default;
  void setup();
  void teardown();
  static DaemonProcess& get();

 private:
  static std::unique_ptr<DaemonProcess> daemon_;
};

// Per-test fixture on the shared daemon: a client `c` and a model name `model`.
struct OnSharedDaemon {
  OnSharedDaemon();
  ~OnSharedDaemon();
  DaemonProcess& daemon;
  Client c;
  std::string model;
};

// Per-test fixture owning a private daemon started with `extra_args`; call start() first.
struct OwnDaemon {
  void start(std::vector<std::string> extra_args = {}, std::vector<std::string> extra_env = {});
  std::unique_ptr<DaemonProcess> daemon;
  std::string model = test_model_name();
};

}  // namespace mg::it
