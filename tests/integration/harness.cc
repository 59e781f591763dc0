// tests/integration/harness.cc — see harness.h.
#include "tests/integration/harness.h"

#include <cstdlib>
#include <map>

namespace mg::it {

std::string J(std::string_view json) {
  return mp_from_json(json);
}

std::string js(MpView v) {
  if (!v.valid()) return "<invalid>";
  std::string out;
  msgpack_to_ejson(v, out);
  return out;
}

std::string js(std::string_view encoded) {
  if (encoded.empty()) return "<empty>";
  return js(MpView(encoded));
}

std::string canon(std::string_view json) {
  return json_from_mp(J(json));
}

MpView by_name(MpView array, std::string_view name) {
  if (!array.valid() || array.type() != MpType::Array) return MpView();
  ArrayIter it(array);
  MpView e;
  while (it.next(e)) {
    if (e.type() != MpType::Map) continue;
    MpView n = e.get("name");
    if (n.valid() && n.type() == MpType::Str && n.as_str() == name) return e;
  }
  return MpView();
}

std::vector<std::string> names_of(MpView array, std::string_view key) {
  std::vector<std::string> out;
  if (!array.valid() || array.type() != MpType::Array) return out;
  ArrayIter it(array);
  MpView e;
  while (it.next(e))
    if (e.type() == MpType::Map) {
      MpView v = e.get(key);
      out.push_back(v.valid() && v.type() == MpType::Str ? std::string(v.as_str()) : js(v));
    }
  return out;
}

std::string_view error_name(int code) {
  static const std::map<int, std::string_view> names = {
      {1, "InternalError"},
      {2, "BadValue"},
      {9, "FailedToParse"},
      {13, "Unauthorized"},
      {14, "TypeMismatch"},
      {26, "NamespaceNotFound"},
      {59, "CommandNotFound"},
      {66, "ImmutableField"},
      {72, "InvalidOptions"},
      {91, "ShutdownInProgress"},
      {121, "DocumentValidationFailure"},
      {286, "ChangeStreamHistoryLost"},
      {1001, "StorageError"},
      {10334, "DocumentTooLarge"},
      {11000, "DuplicateKey"},
  };
  auto it = names.find(code);
  return it == names.end() ? std::string_view() : it->second;
}

client::FindArgs find_args(std::string_view filter, std::string_view sort, int64_t skip,
                           int64_t limit, std::string_view projection) {
  client::FindArgs a;
  a.filter = filter;
  a.sort = sort;
  a.skip = skip;
  a.limit = limit;
  a.projection = projection;
  return a;
}

int time_scale() {
  static const int scale = [] {
    const char* v = std::getenv("MG_TEST_TIME_SCALE");
    int n = v ? std::atoi(v) : 1;
    return n >= 1 ? n : 1;
  }();
  return scale;
}

ClientOptions client_options(int timeout_ms, int window) {
  ClientOptions o;
  o.timeout_ms = timeout_ms * time_scale();
  o.window = window;
  return o;
}

std::string test_model_name(std::string_view suffix) {
  std::string name = boost::unit_test::framework::current_test_case().p_name;
  size_t room = 64 - std::min<size_t>(suffix.size(), 32);
  if (name.size() > room) name.resize(room);
  return name + std::string(suffix.substr(0, 32));
}

Error expect_error_at(Client& c, Request req, int code, const char* file, int line) {
  std::string op = req.op();
  Reply r = c.call(std::move(req));
  BOOST_TEST_CONTEXT("'" << op << "' called at " << file << ":" << line << ", reply " << js(r)) {
    BOOST_TEST_REQUIRE(!r.ok());
    Error e = r.error();
    BOOST_TEST(e.code() == code);
    BOOST_TEST(e.name() == error_name(code));
    BOOST_TEST(!e.message().empty());
    return e;
  }
  return Error(0, "", "");  // not reached
}

Reply expect_ok_at(Client& c, Request req, const char* file, int line) {
  std::string op = req.op();
  Reply r = c.call(std::move(req));
  BOOST_TEST_CONTEXT("'" << op << "' called at " << file << ":" << line) {
    BOOST_TEST_REQUIRE(r.ok(), "reply " << js(r));
  }
  return r;
}

RawSocket::RawSocket(const std::string& endpoint, zmq::socket_type type) : sock_(ctx_, type) {
  sock_.set(zmq::sockopt::linger, 0);
  sock_.connect(endpoint);
}

void RawSocket::send(std::string_view body) {
  sock_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
}

std::optional<std::string> RawSocket::recv(int timeout_ms) {
  zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms));
  if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
  zmq::message_t msg;
  do {
    if (!sock_.recv(msg)) return std::nullopt;
  } while (msg.more());
  return msg.to_string();
}

std::unique_ptr<DaemonProcess> SharedDaemon::daemon_;

void SharedDaemon::setup() {
  daemon_ = std::make_unique<DaemonProcess>();
}

void SharedDaemon::teardown() {
  if (!daemon_) return;
  int status = daemon_->stop();
  BOOST_TEST(status == 0, "memgoosed exit status " << status << "; log:\n" << daemon_->log());
  daemon_.reset();
}

DaemonProcess& SharedDaemon::get() {
  BOOST_TEST_REQUIRE(bool(daemon_), "register BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon)");
  return *daemon_;
}

OnSharedDaemon::OnSharedDaemon()
    : daemon(SharedDaemon::get()),
      c(daemon.req_endpoint(), client_options()),
      model(test_model_name()) {}

OnSharedDaemon::~OnSharedDaemon() {
  BOOST_CHECK_MESSAGE(daemon.running(), "memgoosed died during this test; log:\n" << daemon.log());
}

void OwnDaemon::start(std::vector<std::string> extra_args, std::vector<std::string> extra_env) {
  DaemonOptions o;
  o.extra_args = std::move(extra_args);
  o.extra_env = std::move(extra_env);
  daemon = std::make_unique<DaemonProcess>(std::move(o));
}

}  // namespace mg::it
