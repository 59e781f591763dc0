// tests/integration/security_test.cc — access control (docs/SECURITY.md, issue 9 item 6).
//
// A memgoosed with CURVE on (--curve-secret-key, --curve-allow) must serve a client whose key
// is on the allow-list — requests and change events — and give nothing to a client with an
// unlisted key, a wrong server key or no CURVE at all: no reply, no event, and the C++ client
// reports Unauthorized for a refused key. The change stream is on tcp, where a daemon without
// CURVE serves it itself: with CURVE, libzmq's XPUB serves it, without being asked. ipc socket
// files get the configured permissions.
#define BOOST_TEST_MODULE integration_security
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "clients/cpp/curve.h"
#include "protocol/curve_keys.h"
#include "tests/integration/harness.h"

using namespace mg;
using namespace mg::it;
namespace fs = std::filesystem;

namespace {

// A DaemonProcess (not started) whose directory holds server.{pub,key}, alice.{pub,key},
// mallory.{pub,key} and allow/alice.pub: alice is allowed, mallory is not. Its change stream is
// on a tcp port.
struct CurveDaemon {
  CurveDaemon() : daemon(make_options()) {
    for (const char* who : {"server", "alice", "mallory"})
      BOOST_REQUIRE(write_curve_keypair(path(who), generate_curve_keypair()).ok());
    fs::create_directory(path("allow"));
    fs::copy_file(path("alice.pub"), path("allow/alice.pub"));
  }
  static DaemonOptions make_options() {
    DaemonOptions o;
    o.start = false;
    o.pub_endpoint = mg::testing::free_tcp_endpoint();
    return o;
  }
  std::string path(const std::string& name) const { return daemon.dir() + "/" + name; }
  void start() {
    daemon.extra_args() = {"--curve-secret-key", path("server.key"), "--curve-allow",
                           path("allow")};
    daemon.start();
  }
  ClientOptions as(const std::string& who, const std::string& server = "server",
                   int timeout_ms = 5000) {
    ClientOptions o = client_options(timeout_ms);
    o.curve = client::load_curve_keys(path(server + ".pub"), path(who + ".key"));
    return o;
  }
  // A SUB socket on the change stream, subscribed to db.model; CURVE keys of `who` unless
  // `who` is empty (a plain subscriber).
  zmq::socket_t subscriber(const std::string& who, const std::string& model) {
    zmq::socket_t s(ctx, zmq::socket_type::sub);
    s.set(zmq::sockopt::linger, 0);
    if (!who.empty())
      client::apply_curve(s, client::load_curve_keys(path("server.pub"), path(who + ".key")));
    s.set(zmq::sockopt::subscribe, "default." + model);
    s.connect(daemon.pub_endpoint());
    return s;
  }
  DaemonProcess daemon;
  zmq::context_t ctx{1};
};

// Inserts a document every 100 ms (through `writer`) until `sub` receives an event or
// `patience` passes (a new subscription takes a moment to reach the publisher). Returns the
// topic of the first event received, or nullopt.
std::optional<std::string> event_while_writing(Client& writer, const std::string& model,
                                               zmq::socket_t& sub,
                                               std::chrono::milliseconds patience) {
  auto end = std::chrono::steady_clock::now() + patience;
  for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
    writer.insert_one("default", model, J(R"({"n": )" + std::to_string(i) + "}"));
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (item.revents & ZMQ_POLLIN) {
      zmq::message_t topic;
      (void)sub.recv(topic);
      return topic.to_string();
    }
  }
  return std::nullopt;
}

int mode_of(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE_EQUAL(::stat(path.c_str(), &st), 0);
  return int(st.st_mode & 0777);
}

}  // namespace

BOOST_AUTO_TEST_CASE(allowed_client_has_crud_and_change_events) {
  CurveDaemon d;
  d.start();
  BOOST_TEST(d.daemon.log().find("CURVE on") != std::string::npos);
  BOOST_TEST(d.daemon.log().find("change stream served by libzmq's XPUB") != std::string::npos,
             d.daemon.log());
  Client c(d.daemon.req_endpoint(), d.as("alice"));
  c.ping();
  std::string id = c.insert_one("default", "Secure", J(R"({"_id": 1, "name": "ada"})"));
  BOOST_TEST(js(id) == "1");
  auto docs = c.find("default", "Secure", find_args(J(R"({"name": "ada"})")));
  BOOST_REQUIRE_EQUAL(docs.size(), 1u);
  auto upd = c.update_one("default", "Secure", J(R"({"_id": 1})"), J(R"({"$set": {"age": 36}})"));
  BOOST_TEST(upd.modified == 1);
  BOOST_TEST(c.delete_one("default", "Secure", J(R"({"_id": 1})")) == 1);

  auto sub = d.subscriber("alice", "Secure");
  auto topic = event_while_writing(c, "Secure", sub, std::chrono::seconds(10));
  BOOST_REQUIRE(topic.has_value());
  BOOST_TEST(*topic == "default.Secure");
  BOOST_TEST(d.daemon.stop() == 0);
}

BOOST_AUTO_TEST_CASE(unlisted_key_gets_no_data_and_no_events) {
  CurveDaemon d;
  d.start();
  Client alice(d.daemon.req_endpoint(), d.as("alice"));
  alice.insert_one("default", "Guarded", J(R"({"secret": "s3cr3t"})"));

  Client mallory(d.daemon.req_endpoint(), d.as("mallory"));
  auto t0 = std::chrono::steady_clock::now();
  try {
    mallory.find("default", "Guarded");
    BOOST_FAIL("an unlisted key got a reply");
  } catch (const client::Error& e) {
    BOOST_TEST(e.code() == 13);
    BOOST_TEST(e.name() == "Unauthorized");
    BOOST_TEST(e.message().find("curve_allow") != std::string::npos, e.message());
  }
  // Reported from the handshake, well before the 5 s timeout.
  auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  BOOST_TEST(waited.count() < 4000);

  auto sub = d.subscriber("mallory", "Guarded");
  BOOST_TEST(!event_while_writing(alice, "Guarded", sub, std::chrono::seconds(2)).has_value());
  BOOST_TEST(d.daemon.log().find("ZAP: refused CURVE client") != std::string::npos);
  alice.ping();  // the daemon keeps serving the allowed client
  BOOST_TEST(d.daemon.stop() == 0);
}

BOOST_AUTO_TEST_CASE(wrong_server_key_gets_nothing) {
  CurveDaemon d;
  d.start();
  // alice's own key, but she believes mallory's public key is the server's.
  Client c(d.daemon.req_endpoint(), d.as("alice", "mallory", 1500));
  try {
    c.ping();
    BOOST_FAIL("a client with the wrong server key got a reply");
  } catch (const client::Error& e) {
    BOOST_TEST((e.code() == 13 || e.code() == client::kExceededTimeLimit), e.code());
  }
  BOOST_TEST(d.daemon.stop() == 0);
}

BOOST_AUTO_TEST_CASE(plain_client_gets_nothing_from_a_curve_daemon) {
  CurveDaemon d;
  d.start();
  RawSocket raw(d.daemon.req_endpoint());
  BOOST_TEST(!raw.request(std::string("\x81\xa2op\xa4ping", 9), 1500).has_value());
  Client alice(d.daemon.req_endpoint(), d.as("alice"));
  auto sub = d.subscriber("", "Plain");
  BOOST_TEST(!event_while_writing(alice, "Plain", sub, std::chrono::seconds(2)).has_value());
  BOOST_TEST(d.daemon.stop() == 0);
}

BOOST_AUTO_TEST_CASE(secret_key_readable_by_others_is_refused_at_start) {
  CurveDaemon d;
  fs::permissions(d.path("server.key"), fs::perms::others_read, fs::perm_options::add);
  BOOST_CHECK_THROW(d.start(), std::runtime_error);
  BOOST_TEST(d.daemon.exit_status() != 0);
  BOOST_TEST(d.daemon.log().find("chmod 600") != std::string::npos, d.daemon.log());
}

BOOST_AUTO_TEST_CASE(curve_needs_an_allow_list) {
  DaemonOptions o;
  o.start = false;
  DaemonProcess p(o);
  BOOST_REQUIRE(write_curve_keypair(p.dir() + "/server", generate_curve_keypair()).ok());
  p.extra_args() = {"--curve-secret-key", p.dir() + "/server.key"};
  BOOST_CHECK_THROW(p.start(), std::runtime_error);
  BOOST_TEST(p.log().find("--curve-allow") != std::string::npos, p.log());
  // An empty allow-list directory admits no one: refused too.
  fs::create_directory(p.dir() + "/empty");
  p.extra_args() = {"--curve-secret-key", p.dir() + "/server.key", "--curve-allow",
                    p.dir() + "/empty"};
  BOOST_CHECK_THROW(p.start(), std::runtime_error);
  BOOST_TEST(p.log().find("holds no public key") != std::string::npos, p.log());
}

BOOST_AUTO_TEST_CASE(ipc_socket_files_are_not_world_accessible) {
  DaemonProcess p;  // default --ipc-mode 0660
  BOOST_TEST(mode_of(p.dir() + "/req.sock") == 0660);
  BOOST_TEST(mode_of(p.dir() + "/pub.sock") == 0660);
  BOOST_TEST(p.stop() == 0);
  p.extra_args() = {"--ipc-mode", "0600"};
  p.start();
  BOOST_TEST(mode_of(p.dir() + "/req.sock") == 0600);
  BOOST_TEST(mode_of(p.dir() + "/pub.sock") == 0600);
  Client c(p.req_endpoint(), client_options());
  c.ping();  // the owner still connects
  BOOST_TEST(p.stop() == 0);
}

BOOST_AUTO_TEST_CASE(key_files_round_trip) {
  DaemonOptions o;
  o.start = false;
  DaemonProcess p(o);
  CurveKeyPair kp = generate_curve_keypair();
  std::vector<std::string> written;
  BOOST_REQUIRE(write_curve_keypair(p.dir() + "/k", kp, &written).ok());
  BOOST_TEST(mode_of(written[0]) == 0600);
  BOOST_TEST(mode_of(written[1]) == 0600);
  BOOST_TEST(read_curve_public_key(written[0]).value() == kp.public_key);
  auto sec = read_curve_secret_key(written[1], true);
  BOOST_REQUIRE(sec.ok());
  BOOST_TEST(sec.value().public_key == kp.public_key);
  BOOST_TEST(sec.value().secret_key == kp.secret_key);
  BOOST_TEST(!write_curve_keypair(p.dir() + "/k", kp).ok());  // never overwrites
}
