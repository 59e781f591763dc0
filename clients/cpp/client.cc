// clients/cpp/client.cc — the transport of the C++ client: one DEALER socket, replies routed by
// id (see client.h for the contract).
//
// State, all touched by the one calling thread:
//   async_    requests sent with send_async, by id (ids grow, so begin() is the oldest and
//             has the nearest deadline: expiry only ever looks at the front);
//   waiting_  ids of blocking calls in progress (several when a callback makes a blocking
//             call), each with the slot its reply lands in;
//   done_     replies of async requests received but whose callback has not run yet.
// Receiving never runs user code: `route` only files each reply; callbacks run from
// `run_callbacks`, called by send_async and drain only. A reply whose id nobody waits for
// (late after a timeout) is dropped and counted.
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <utility>

#include "clients/cpp/client.h"

namespace mg::client {

namespace {

// Below this size ZeroMQ copying the body beats handing it over with a free function.
constexpr size_t kZeroCopyMin = 4096;

ValidateOptions reply_limits() {
  ValidateOptions vo;
  vo.max_depth = 110;  // reply map > docs array > document (100 levels) > ...
  vo.max_bytes = 0;    // a find reply may hold many 16 MiB documents
  return vo;
}

// The reply a callback gets when the server did not answer in time (or refused our key).
zmq::message_t timeout_reply(uint64_t id, const std::string& what, int code = kExceededTimeLimit,
                             const char* name = "ExceededTimeLimit") {
  std::string out;
  MpWriter w(out);
  w.map_header(3);
  w.str("id");
  w.integer(int64_t(id));
  w.str("ok");
  w.boolean(false);
  w.str("error");
  w.raw(Error(code, name, what).error_map());
  return zmq::message_t(out.data(), out.size());
}

// zmq_poll over `items`, or poll(2) when none is a libzmq socket: zmq_poll first polls with a
// zero timeout and only then waits (two system calls per wake-up), and copies a set of more
// than 16 items to the heap on each call. EINTR counts as "nothing happened".
void poll_items(std::vector<zmq_pollitem_t>& items, std::chrono::milliseconds timeout) {
  bool zmq_sockets = false;
  for (auto& i : items) zmq_sockets = zmq_sockets || i.socket;
  if (zmq_sockets) {
    try {
      zmq::poll(items.data(), items.size(), timeout);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    return;
  }
  thread_local std::vector<pollfd> fds;
  fds.clear();
  for (auto& i : items) fds.push_back({i.fd, short(i.events & ZMQ_POLLIN ? POLLIN : 0), 0});
  int n = ::poll(fds.data(), fds.size(), int(timeout.count()));
  for (size_t k = 0; k < items.size(); ++k)
    items[k].revents =
        short(n > 0 && (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) ? ZMQ_POLLIN : 0);
}

}  // namespace

Client::Client(std::string endpoint, ClientOptions opts)
    : endpoint_(std::move(endpoint)), opts_(std::move(opts)) {
  if (opts_.window < 1) opts_.window = 1;
  if (opts_.timeout_ms < 0) opts_.timeout_ms = 0;
  if (opts_.direct) {
    if (opts_.curve || opts_.configure_socket)
      throw Error(2, "BadValue", "a direct client has no CURVE and no socket options");
    direct_ = std::make_unique<ZmtpConnection>(endpoint_, opts_.timeout_ms);
    return;
  }
  zmq::context_t* ctx = opts_.context;
  if (!ctx) ctx = &own_context_.emplace(1);
  socket_ = zmq::socket_t(*ctx, zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::sndtimeo, opts_.timeout_ms);
  if (opts_.configure_socket) opts_.configure_socket(socket_);
  if (opts_.curve) {
    apply_curve(socket_, *opts_.curve);
    watch_handshakes(*ctx);
  }
  try {
    socket_.connect(endpoint_);
  } catch (const zmq::error_t& e) {
    throw Error(2, "BadValue", "cannot connect to '" + endpoint_ + "': " + e.what());
  }
}

Client::~Client() = default;

// A PAIR socket on the inproc monitor of socket_: libzmq reports there a handshake the daemon
// refused (ZAP status 400 -> HANDSHAKE_FAILED_AUTH) or one that failed on a wrong server key.
void Client::watch_handshakes(zmq::context_t& ctx) {
  std::string addr = "inproc://mg-client-monitor-" + std::to_string(uintptr_t(this));
  int events = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
               ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
  if (zmq_socket_monitor(socket_.handle(), addr.c_str(), events) != 0) return;
  monitor_ = zmq::socket_t(ctx, zmq::socket_type::pair);
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(addr);
}

void Client::read_handshake_events() {
  zmq::message_t head, addr;
  while (monitor_.handle() && monitor_.recv(head, zmq::recv_flags::dontwait)) {
    if (head.more()) (void)monitor_.recv(addr);
    if (head.size() < 6) continue;
    uint16_t event;
    uint32_t value;
    std::memcpy(&event, head.data<char>(), 2);
    std::memcpy(&value, head.data<char>() + 2, 4);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      refused_.clear();
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      refused_ = endpoint_ + " refused this client's CURVE key (ZAP status " +
                 std::to_string(value) + "): add " + opts_.curve->client_public +
                 " to the daemon's curve_allow list";
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
      refused_ = "CURVE handshake with " + endpoint_ +
                 " failed: is the server key right, and does the daemon run with CURVE?";
    }
  }
}

uint64_t Client::send(Request& req) {
  uint64_t id = ++next_id_;
  std::string& body = req.finish(id);
  size_t off = req.offset(), n = body.size() - off;
  if (direct_) {
    direct_->send(std::string_view(body.data() + off, n), opts_.timeout_ms);
    return id;
  }
  zmq::message_t msg;
  if (n < kZeroCopyMin) {
    msg.rebuild(body.data() + off, n);
  } else {
    auto owned = std::make_unique<std::string>(std::move(body));
    char* data = owned->data() + off;
    auto release = [](void*, void* hint) { delete static_cast<std::string*>(hint); };
    msg.rebuild(data, n, release, owned.get());
    owned.release();  // now freed by ZeroMQ once sent
  }
  if (!socket_.send(msg, zmq::send_flags::none))
    throw Error(kExceededTimeLimit, "ExceededTimeLimit",
                "could not queue '" + req.op() + "' for " + endpoint_ + " within " +
                    std::to_string(opts_.timeout_ms) + " ms");
  return id;
}

bool Client::receive_until(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() < 0) left = std::chrono::milliseconds(0);
  thread_local std::vector<zmq_pollitem_t> items;
  items.assign({poll_item()});
  if (monitor_.handle()) items.push_back({monitor_.handle(), 0, ZMQ_POLLIN, 0});
  poll_items(items, left);
  if (items.size() > 1 && (items[1].revents & ZMQ_POLLIN)) read_handshake_events();
  if (!(items[0].revents & ZMQ_POLLIN)) return false;
  return read_replies();
}

zmq_pollitem_t Client::poll_item() {
  if (direct_) return {nullptr, direct_->fd(), ZMQ_POLLIN, 0};
  return {socket_.handle(), 0, ZMQ_POLLIN, 0};
}

bool Client::read_replies() {
  if (direct_)
    return direct_->read_available(
        [this](std::string_view body) { route(zmq::message_t(body.data(), body.size())); });
  bool got = false;
  for (;;) {
    zmq::message_t msg;
    if (!socket_.recv(msg, zmq::recv_flags::dontwait)) break;
    while (msg.more()) {  // keep the last frame: the body
      zmq::message_t next;
      if (!socket_.recv(next)) break;
      msg = std::move(next);
    }
    route(std::move(msg));
    got = true;
  }
  return got;
}

// One poll over the sockets of every client with requests in flight (and their handshake
// monitors), then each client as wait_async() would: read, expire, run callbacks.
void Client::wait_any(const std::vector<Client*>& clients) {
  // Local, not reused: a callback run below may itself call wait_any.
  std::vector<zmq_pollitem_t> items;
  std::vector<std::pair<Client*, int>> polled;  // a client, its monitor's item or -1
  items.reserve(2 * clients.size()), polled.reserve(clients.size());
  Clock::time_point deadline = Clock::time_point::max();
  for (Client* c : clients) {
    c->run_callbacks();
    if (c->async_.empty()) continue;
    deadline = std::min(deadline, c->async_.begin()->second.deadline);
    items.push_back(c->poll_item());
    int monitor = -1;
    if (c->monitor_.handle()) {
      monitor = int(items.size());
      items.push_back({c->monitor_.handle(), 0, ZMQ_POLLIN, 0});
    }
    polled.emplace_back(c, monitor);
  }
  if (polled.empty()) return;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() < 0) left = std::chrono::milliseconds(0);
  poll_items(items, left);
  auto now = Clock::now();
  size_t at = 0;
  for (auto& [c, monitor] : polled) {
    if (monitor >= 0 && (items[size_t(monitor)].revents & ZMQ_POLLIN)) c->read_handshake_events();
    if (items[at].revents & ZMQ_POLLIN) c->read_replies();
    at += monitor >= 0 ? 2 : 1;
    c->expire_async(now);
  }
  for (auto& p : polled) p.first->run_callbacks();
}

void Client::route(zmq::message_t msg) {
  std::string_view bytes(msg.data<char>(), msg.size());
  Status st = validate(bytes, reply_limits());
  if (!st.ok())
    throw Error(1, "InternalError", "malformed reply from " + endpoint_ + ": " + st.message);
  MpView id = MpView(bytes).get("id");
  if (!id.valid() || id.type() != MpType::Int) {
    ++dropped_;
    return;
  }
  uint64_t key = uint64_t(id.as_int());
  if (auto w = waiting_.find(key); w != waiting_.end()) {
    w->second.emplace(std::move(msg));
  } else if (auto a = async_.find(key); a != async_.end()) {
    done_.emplace_back(std::move(a->second.callback), Reply(std::move(msg)));
    async_.erase(a);
  } else {
    ++dropped_;
  }
}

Reply Client::call(Request req) {
  uint64_t id = send(req);
  auto deadline = Clock::now() + std::chrono::milliseconds(opts_.timeout_ms);
  auto& slot = waiting_[id];  // element references survive rehashing
  try {
    while (!slot) {
      receive_until(deadline);
      if (!slot && !refused_.empty()) throw Error(kUnauthorized, "Unauthorized", refused_);
      if (!slot && direct_ && direct_->broken())
        throw Error(
            kExceededTimeLimit, "ExceededTimeLimit",
            "connection to " + endpoint_ + " lost before the reply to '" + req.op() + "' came");
      if (!slot && Clock::now() >= deadline)
        throw Error(kExceededTimeLimit, "ExceededTimeLimit",
                    "no reply to '" + req.op() + "' from " + endpoint_ + " within " +
                        std::to_string(opts_.timeout_ms) + " ms" +
                        (opts_.curve ? " (CURVE is on: check the server key and that the "
                                       "daemon allows this client's key)"
                                     : ""));
    }
  } catch (...) {
    waiting_.erase(id);
    throw;
  }
  Reply reply = std::move(*slot);
  waiting_.erase(id);
  return reply;
}

Reply Client::command(Request req) {
  Reply r = call(std::move(req));
  r.check();
  return r;
}

void Client::send_async(Request req, Callback on_reply) {
  run_callbacks();
  while (async_.size() >= size_t(opts_.window)) {
    wait_async();
    run_callbacks();
  }
  uint64_t id = send(req);
  auto deadline = Clock::now() + std::chrono::milliseconds(opts_.timeout_ms);
  async_.emplace(id, Pending{std::move(on_reply), deadline});
}

void Client::drain() {
  run_callbacks();
  while (!async_.empty()) {
    wait_async();
    run_callbacks();
  }
}

void Client::wait_async() {
  if (async_.empty()) return;
  receive_until(async_.begin()->second.deadline);
  expire_async(Clock::now());
}

void Client::expire_async(Clock::time_point now) {
  while (!async_.empty() && !refused_.empty()) {  // the daemon refused our key: no reply comes
    auto it = async_.begin();
    done_.emplace_back(std::move(it->second.callback),
                       Reply(timeout_reply(it->first, refused_, kUnauthorized, "Unauthorized")));
    async_.erase(it);
  }
  while (!async_.empty() && direct_ && direct_->broken()) {  // no reply can come any more
    auto it = async_.begin();
    done_.emplace_back(std::move(it->second.callback),
                       Reply(timeout_reply(it->first, "connection to " + endpoint_ + " lost")));
    async_.erase(it);
  }
  while (!async_.empty() && async_.begin()->second.deadline <= now) {
    auto it = async_.begin();
    std::string what =
        "no reply from " + endpoint_ + " within " + std::to_string(opts_.timeout_ms) + " ms";
    done_.emplace_back(std::move(it->second.callback), Reply(timeout_reply(it->first, what)));
    async_.erase(it);
  }
}

void Client::run_callbacks() {
  while (!done_.empty()) {
    auto [callback, reply] = std::move(done_.front());
    done_.pop_front();
    if (callback) callback(std::move(reply));
  }
}

}  // namespace mg::client
