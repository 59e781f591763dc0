// daemon/front_door.cc — see front_door.h.
#include "daemon/front_door.h"

#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <unordered_set>

#include "actors/args.h"
#include "actors/event_batch.h"
#include "actors/fan_out.h"
#include "actors/messages.h"
#include "actors/model_ops.h"
#include "daemon/allocator.h"
#include "daemon/process_stats.h"
#include "daemon/security.h"
#include "protocol/reply.h"

namespace mg {

namespace {
constexpr int kMaxReadsPerWake = 512;
// Replies libzmq refused (a client not reading them) kept before reading stops: enough for
// what a client that vanished can have left queued (libzmq's 100,000 of its ROUTER pipe, and
// the kernel's socket buffers of small requests).
constexpr size_t kMaxBlocked = 1000000;
constexpr size_t kMaxBlockedBytes = size_t(256) << 20;
constexpr auto kStopGrace = std::chrono::seconds(5);  // see run()
constexpr size_t kMaxBatch = 16;                      // requests per ClientBatch
constexpr size_t kMaxBatchedBytes = 4096;             // bigger requests are sent on their own
// The change stream's high-water mark: messages queued per subscriber before it loses events
// (ZMQ_SNDHWM of the XPUB, and DirectPub's limit, which also caps the bytes).
constexpr int kPubHwm = 100000;
constexpr size_t kDirectPubMaxBytes = size_t(256) << 20;
constexpr const char* kVersion = "0.1.0";
// Writes the non-empty answers as an array.
void write_list(MpWriter& w, const std::vector<std::string>& items) {
  uint32_t n = 0;
  for (auto& i : items) n += !i.empty();
  w.array_header(n);
  for (auto& i : items)
    if (!i.empty()) w.raw(i);
}

std::string list_reply(const std::string& id, const char* key, std::vector<std::string>& items) {
  ReplyWriter r(id, 1);
  write_list(r.key(key), items);
  return r.take();
}

}  // namespace

FrontDoor::FrontDoor(caf::actor_system& sys, const DaemonConfig& cfg)
    : sys_(sys), cfg_(cfg), ctx_(1), router_(ctx_, ZMQ_ROUTER), pub_(ctx_, ZMQ_XPUB) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  spin_limit_us_ = int(cfg_.reply_spin_us);  // 0..1000, checked by parse_config
  spin_us_ = spin_limit_us_;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

FrontDoor::~FrontDoor() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (signal_fd_ >= 0) close(signal_fd_);
}

Status FrontDoor::bind() {
  try {
    router_.set(zmq::sockopt::router_mandatory, 1);
    router_.set(zmq::sockopt::maxmsgsize, cfg_.max_request_bytes);
    router_.set(zmq::sockopt::linger, 2000);
    router_.set(zmq::sockopt::sndhwm, 100000);
    router_.set(zmq::sockopt::rcvhwm, 100000);
    pub_.set(zmq::sockopt::linger, 0);
    pub_.set(zmq::sockopt::sndhwm, kPubHwm);
    auto zap = secure_sockets(ctx_, cfg_, {&router_, &pub_});
    if (!zap.ok()) return zap.status();
    zap_ = std::move(zap.value());
    for (auto& ep : cfg_.bind) {
      if (cfg_.bind_direct && ep.rfind("tcp://", 0) == 0) {
        if (!direct_router_) {
          DirectRouter::Limits limits;
          limits.session.max_frame = size_t(cfg_.max_request_bytes);
          direct_router_ = std::make_unique<DirectRouter>(limits);
        }
        if (Status s = direct_router_->bind(ep); !s.ok()) return s;
      } else {
        bind_endpoint(router_, ep, cfg_.ipc_mode);
        router_bound_ = true;
      }
    }
    if (cfg_.pub_direct) {
      DirectPub::Limits limits;
      limits.hwm = kPubHwm, limits.max_bytes = kDirectPubMaxBytes;
      direct_pub_ = std::make_unique<DirectPub>(limits);
      if (Status s = direct_pub_->bind(cfg_.pub); !s.ok()) return s;
    } else {
      bind_endpoint(pub_, cfg_.pub, cfg_.ipc_mode);
    }
  } catch (const std::exception& e) {
    return make_status(ErrorCode::BadValue, std::string("cannot bind: ") + e.what());
  }
  registry_ = std::make_unique<Registry>(sys_, shared_from_this(), cfg_.data_dir,
                                         size_t(cfg_.change_log_size));
  if (Status s = registry_->recover(); !s.ok()) return s;
  for (auto& d : cfg_.databases) {
    auto r = registry_->create_database(d.name, d.storage, MpView(d.options));
    if (!r.ok())
      return make_status(r.status().code, "database '" + d.name + "': " + r.status().message);
  }
  return Status::OK();
}

void FrontDoor::post(std::vector<Outgoing>&& batch) {
  int64_t replies = 0;
  for (auto& o : batch) replies += o.kind == Outgoing::Kind::Reply;
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = outbox_.empty();
    outbox_ready_.store(true, std::memory_order_release);
    if (was_empty) {
      outbox_ = std::move(batch);
    } else {
      for (auto& o : batch) outbox_.push_back(std::move(o));
    }
    // Under the lock, after queueing: idle() never sees a reply neither counted nor queued.
    outstanding_.fetch_sub(replies, std::memory_order_relaxed);
  }
  if (was_empty) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }
}

bool FrontDoor::send_reply(Outgoing& o) {
  if (o.route.peer) {  // one of our own connections: queued, sent by direct_router_->flush()
    direct_router_->reply(o.route.peer, o.route.delimiter, o.body);
    return true;
  }
  zmq::send_flags more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
  try {
    zmq::message_t id(o.route.identity.data(), o.route.identity.size());
    if (!router_.send(id, more)) return false;  // EAGAIN: peer's queue is full
    if (o.route.delimiter) router_.send(zmq::message_t(), more);
    router_.send(zmq::message_t(o.body.data(), o.body.size()), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EHOSTUNREACH) spdlog::warn("reply not sent: {}", e.what());
  }
  return true;  // sent, or the client is gone: either way it leaves the queue
}

void FrontDoor::drain_outbox() {
  uint64_t counter;
  [[maybe_unused]] ssize_t n = read(wake_fd_, &counter, sizeof counter);
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_.swap(outbox_);
    outbox_ready_.store(false, std::memory_order_relaxed);
  }
  for (auto& o : draining_) {
    if (o.kind == Outgoing::Kind::Event) {
      publish(*o.events);
      continue;
    }
    if (!send_reply(o)) block(std::move(o));
  }
  draining_.clear();
}

// One message per event (CONTRACT.md §2, §7): [topic, body], the body encoded straight into
// the message (ZeroMQ keeps a topic of up to 33 bytes inside the message itself). A subscriber
// too slow to take it loses it here (PUB); it catches up with `changes`. libzmq's C calls, not
// cppzmq's: a sent message needs no close, a copied topic no message of ours (callgrind: -53 Ir
// per event). Tried and dropped: every body of a batch in one shared block, each message
// pointing into it (zmq_msg_init_data with a free function): libzmq still allocates a
// content_t per message, and the block costs a second size pass: +91 Ir per event.
void FrontDoor::publish(const EventBatch& batch) {
  if (direct_pub_) return direct_pub_->publish(batch);
  const std::string& topic = batch.topic();
  void* pub = pub_.handle();
  for (size_t i = 0; i < batch.size(); ++i) {
    EventView e = batch[i];
    zmq_send(pub, topic.data(), topic.size(), ZMQ_SNDMORE);
    zmq_msg_t body;
    zmq_msg_init_size(&body, e.encoded_size());
    e.encode(static_cast<char*>(zmq_msg_data(&body)));
    if (zmq_msg_send(&body, pub, ZMQ_DONTWAIT) < 0) zmq_msg_close(&body);
  }
}

void FrontDoor::answer(const Route& route, std::string body) {
  Outgoing o;
  o.route = route;
  o.body = std::move(body);
  if (!send_reply(o)) block(std::move(o));
}

void FrontDoor::block(Outgoing&& o) {
  blocked_bytes_ += o.body.size();
  blocked_.push_back(std::move(o));
}

// Replies to one client may come in any order (CONTRACT.md §3), so a blocked reply holds back
// nobody else's, nor a later one to the same client that finds room. One failed send per client
// per pass: the others to it wait for the next pass.
void FrontDoor::retry_blocked() {
  std::unordered_set<std::string> full;
  for (size_t n = blocked_.size(); n > 0; --n) {
    Outgoing o = std::move(blocked_.front());
    blocked_.pop_front();
    if (full.count(o.route.identity) || !send_reply(o)) {
      full.insert(o.route.identity);
      blocked_.push_back(std::move(o));
    } else {
      blocked_bytes_ -= o.body.size();
    }
  }
}

bool FrontDoor::idle() {
  return answered() && blocked_.empty();
}

bool FrontDoor::answered() {
  std::lock_guard<std::mutex> lock(mu_);
  return outstanding_.load() <= 0 && outbox_.empty();
}

bool FrontDoor::reading_allowed() {
  // Replies that libzmq refused (a client not reading them) stop reading only past a bound:
  // stopping at the first would wedge the daemon when that client is gone, as libzmq frees a
  // departed peer's full pipe only once its queued requests have been read (issue 3, session 8;
  // python.tcp_router's test_vanished_non_reader_does_not_wedge_the_daemon).
  if (blocked_.size() >= kMaxBlocked || blocked_bytes_ >= kMaxBlockedBytes) return false;
  if (paused_on_) {
    if (paused_on_->load(std::memory_order_relaxed) > cfg_.max_inflight_per_model / 2) return false;
    paused_on_.reset();
  }
  return true;
}

void FrontDoor::read_requests() {
  read_round();
  send_batches();
}

void FrontDoor::read_round() {
  for (int i = 0; i < kMaxReadsPerWake && reading_allowed(); ++i) {
    zmq::message_t identity, second;
    if (!router_.recv(identity, zmq::recv_flags::dontwait)) return;
    if (!identity.more()) continue;  // no body: nothing to answer
    // The rest of a multipart message is already queued: these receives never block.
    (void)router_.recv(second);
    Route route{std::string(static_cast<const char*>(identity.data()), identity.size())};
    zmq::message_t* body = &second;
    zmq::message_t after;
    if (second.size() == 0 && second.more()) {  // REQ: [identity, empty, body]
      route.delimiter = true;
      (void)router_.recv(after);
      body = &after;
    }
    while (body->more()) (void)router_.recv(*body);  // extra frames: the last is the body
    on_request(route, std::string(static_cast<const char*>(body->data()), body->size()));
  }
}

void FrontDoor::on_request(const Route& route, std::string bytes) {
  last_request_ = std::chrono::steady_clock::now();
  Envelope env;
  Status s = parse_envelope(bytes, env);
  if (!s.ok()) return answer(route, error_reply(env.id, s));
  if (stopping_)
    return answer(route, error_reply(env.id, make_status(ErrorCode::ShutdownInProgress,
                                                         "memgoosed is shutting down")));
  if (Status limit = check_limits(env); !limit.ok())
    return answer(route, error_reply(env.id, limit));
  dispatch(route, std::move(bytes), env);
}

Status FrontDoor::check_limits(const Envelope& env) {
  auto over = [](std::string what, int64_t limit, const char* key) {
    return make_status(ErrorCode::BadValue, what + " (the limit is " + std::to_string(limit) +
                                                ", limits." + key + " in the config)");
  };
  if (env.op == "insertMany") {
    MpView docs = env.arg("docs");
    if (docs.valid() && docs.type() == MpType::Array && int64_t(docs.count()) > cfg_.max_batch_docs)
      return over("insertMany got " + std::to_string(docs.count()) +
                      " documents, more than one batch may hold: split it",
                  cfg_.max_batch_docs, "max_batch_docs");
  } else if (env.op == "createDatabase") {
    if (!registry_->has_database(env.db) &&
        int64_t(registry_->all_models().size()) >= cfg_.max_databases)
      return over("cannot create database '" + std::string(env.db) +
                      "': the daemon holds as many databases as it may; drop one first",
                  cfg_.max_databases, "max_databases");
  }
  bool creates_model = document_op_kind(env.op) == OpKind::Write || env.op == "defineModel";
  if (creates_model && !env.model.empty() && registry_->has_database(env.db) &&
      !registry_->model(env.db, env.model, false) &&
      int64_t(registry_->model_actors("").size()) >= cfg_.max_models)
    return over("cannot create model '" + std::string(env.db) + "." + std::string(env.model) +
                    "': the daemon holds as many models as it may; drop one first",
                cfg_.max_models, "max_models");
  return Status::OK();
}

void FrontDoor::dispatch(const Route& route, std::string body, const Envelope& env) {
  bool is_model_op = document_op_kind(env.op) != OpKind::Unknown || env.op == "defineModel" ||
                     env.op == "dropModel" || env.op == "changes";
  if (is_model_op) return model_op(route, std::move(body), env);
  // A server or database operation may send to model actors itself (flush, stats, backup...):
  // the requests read before it go first, so each model still sees arrival order.
  send_batches();
  server_op(route, env);
}

void FrontDoor::send_batches() {
  for (auto& [actor, requests] : batches_) send_batch(actor, requests);
  batches_.clear();
}

void FrontDoor::send_batch(const caf::actor& actor, RequestBatch& requests) {
  if (requests.size() == 1)
    caf::anon_send(actor, std::move(requests.front()));
  else if (!requests.empty())
    caf::anon_send(actor, ClientBatch{std::move(requests)});
  requests.clear();
}

void FrontDoor::model_op(const Route& route, std::string body, const Envelope& env) {
  if (env.model.empty()) {
    std::string msg;
    msg.append("'").append(env.op).append("' needs a 'model'");
    return answer(route, error_reply(env.id, make_status(ErrorCode::BadValue, std::move(msg))));
  }
  if (!registry_->has_database(env.db))
    return answer(route, error_reply(env.id, make_status(ErrorCode::NamespaceNotFound,
                                                         "database '" + std::string(env.db) +
                                                             "' does not exist")));
  bool create = document_op_kind(env.op) == OpKind::Write || env.op == "defineModel";
  ModelRef* m = registry_->model(env.db, env.model, create);
  if (!m) {
    if (env.op == "dropModel") {
      ReplyWriter r(env.id, 1);
      r.key("dropped").boolean(false);
      return answer(route, r.take());
    }
    if (env.op == "changes") {  // a model never written: no history, seq 0
      ReplyWriter r(env.id, 2);
      r.key("events").array_header(0);
      r.key("lastSeq").integer(0);
      return answer(route, r.take());
    }
    return answer(route, empty_read_reply(env));
  }
  int64_t n = m->inflight->fetch_add(1, std::memory_order_relaxed) + 1;
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  if (n > cfg_.max_inflight_per_model) paused_on_ = m->inflight;
  // An idle model gets its request at once (it must be woken anyway, and works on it while
  // this thread reads on), and so does a big one (an insertMany: the model works on it while
  // this thread reads and checks the next); a busy model gets the small requests that come
  // meanwhile in batches of at most kMaxBatch, so it never waits for a whole round.
  auto b = std::find_if(batches_.begin(), batches_.end(),
                        [&](const auto& e) { return e.first == m->actor; });
  if (n == 1 || body.size() >= kMaxBatchedBytes) {
    if (b != batches_.end()) send_batch(m->actor, b->second);  // those read before it go first
    caf::anon_send(m->actor, ClientRequest{route, std::move(body)});
    return;
  }
  if (b == batches_.end()) b = batches_.emplace(batches_.end(), m->actor, RequestBatch{});
  b->second.push_back(ClientRequest{route, std::move(body)});
  if (b->second.size() >= kMaxBatch) send_batch(m->actor, b->second);
}

std::string FrontDoor::hello(const Envelope& env) {
  ReplyWriter r(env.id, 5);
  r.key("server").str("memgoosed");
  r.key("version").str(kVersion);
  r.key("protocol").integer(1);
  auto storages = Registry::storages();
  MpWriter& w = r.key("storages");
  w.array_header(uint32_t(storages.size()));
  for (auto& s : storages) w.str(s);
  auto compressors = Registry::compressors();
  MpWriter& cw = r.key("compressors");
  cw.array_header(uint32_t(compressors.size()));
  for (auto& c : compressors) cw.str(c);
  return r.take();
}

// Fans `question` out to model actors and replies with `combine` of their answers.
void FrontDoor::ask_models(const Route& route, std::vector<caf::actor> actors,
                           caf::message question, Combine combine) {
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  fan_out(sys_, std::move(actors), std::move(question), std::move(combine), shared_from_this(),
          route);
}

void FrontDoor::server_op(const Route& route, const Envelope& env) {
  std::string_view op = env.op;
  std::string id(env.id);
  auto need_db = [&]() -> bool {
    if (registry_->has_database(env.db)) return true;
    answer(route, error_reply(env.id, make_status(ErrorCode::NamespaceNotFound,
                                                  "database '" + std::string(env.db) +
                                                      "' does not exist")));
    return false;
  };
  try {
    if (op == "ping") return answer(route, ok_reply(env.id));
    if (op == "hello") return answer(route, hello(env));
    if (op == "createDatabase" && env.arg("fromBackup").valid()) return restore(route, env);
    if (op == "createDatabase") {
      std::string_view storage = args::string(env, "storage", false, "memory");
      auto r = registry_->create_database(env.db, storage, args::map(env, "options"));
      if (!r.ok()) return answer(route, error_reply(env.id, r.status()));
      ReplyWriter w(env.id, 1);
      w.key("created").boolean(r.value());
      return answer(route, w.take());
    }
    if (op == "dropDatabase") {
      Status s = registry_->drop_database(env.db);
      if (!s.ok()) return answer(route, error_reply(env.id, s));
      ReplyWriter w(env.id, 1);
      w.key("dropped").boolean(true);
      return answer(route, w.take());
    }
    if (op == "listDatabases") {
      ReplyWriter w(env.id, 1);
      w.key("databases").raw(registry_->list_databases());
      return answer(route, w.take());
    }
    if (op == "listModels") {
      if (!need_db()) return;
      return ask_models(route, registry_->model_actors(env.db), caf::make_message(info_atom::value),
                        [id](std::vector<std::string>& a) { return list_reply(id, "models", a); });
    }
    if (op == "flush") {
      if (!need_db()) return;
      return ask_models(route, registry_->model_actors(env.db),
                        caf::make_message(flush_atom::value), [id](std::vector<std::string>& errs) {
                          for (auto& e : errs)
                            if (!e.empty())
                              return error_reply(id, make_status(ErrorCode::StorageError, e));
                          return ok_reply(id);
                        });
    }
    if (op == "stats") return stats(route, env);
    if (op == "migrate") return migrate(route, env);
    if (op == "backup") return backup(route, env);
    answer(route, error_reply(env.id, make_status(ErrorCode::CommandNotFound,
                                                  "unknown operation '" + std::string(op) + "'")));
  } catch (...) {
    answer(route, error_reply(env.id, status_of_current_exception()));
  }
}

// {process: {...}, databases: [{name, storage, models: [model stats...]}]}: one fan-out over every
// model; the answers come back in the order of all_models(), so they can be regrouped by database.
void FrontDoor::stats(const Route& route, const Envelope& env) {
  auto groups = registry_->all_models();
  std::vector<caf::actor> actors;
  std::vector<std::pair<std::string, size_t>> sizes;
  for (auto& [db, list] : groups) {
    sizes.emplace_back(db, list.size());
    for (auto& a : list) actors.push_back(a);
  }
  std::string id(env.id);
  std::string dbs = registry_->list_databases();
  // Taken before the fan-out, on this thread: requests other than this one still owed a reply.
  int64_t outstanding = outstanding_.load(std::memory_order_relaxed);
  auto queued = int64_t(blocked_.size());
  ask_models(route, std::move(actors), caf::make_message(stats_atom::value),
             [id, sizes, dbs, outstanding, queued](std::vector<std::string>& answers) {
               ReplyWriter r(id, 2);
               ProcessStats p = read_process_stats();
               MpWriter& pw = r.key("process");
               pw.map_header(5);
               pw.str("rssBytes"), pw.integer(p.rss_bytes);
               pw.str("heapBytes"), pw.integer(p.heap_bytes);
               pw.str("openFds"), pw.integer(p.open_fds);
               pw.str("outstandingRequests"), pw.integer(outstanding);
               pw.str("blockedReplies"), pw.integer(queued);
               MpWriter& w = r.key("databases");
               w.array_header(uint32_t(sizes.size()));
               ArrayIter infos{MpView(dbs)};
               size_t k = 0;
               for (auto& [db, n] : sizes) {
                 MpView info;
                 infos.next(info);
                 w.map_header(3);
                 w.str("name"), w.str(db);
                 w.str("storage"), w.raw(info.get("storage"));
                 std::vector<std::string> mine(answers.begin() + int64_t(k),
                                               answers.begin() + int64_t(k + n));
                 k += n;
                 w.str("models");
                 write_list(w, mine);
               }
               return r.take();
             });
}

// XPUB reports the first subscription to a topic prefix and the last unsubscription (also when
// a subscriber disconnects): keep the count of live prefixes so actors can skip encoding
// events nobody receives.
void FrontDoor::read_subscriptions() {
  zmq::message_t m;
  while (pub_.recv(m, zmq::recv_flags::dontwait)) {
    if (m.size() == 0) continue;
    auto* b = static_cast<const char*>(m.data());
    std::string topic(b + 1, m.size() - 1);
    if (b[0] == 1) {
      subscriptions_[topic]++;
    } else if (b[0] == 0) {
      auto it = subscriptions_.find(topic);
      if (it != subscriptions_.end() && --it->second <= 0) subscriptions_.erase(it);
    }
  }
  live_subscriptions_.store(int64_t(subscriptions_.size()), std::memory_order_relaxed);
}

void FrontDoor::abort() {
  if (registry_) registry_->shutdown();
}

void FrontDoor::flush_all() {
  caf::scoped_actor self{sys_};
  for (auto& a : registry_->model_actors("")) {
    self->request(a, std::chrono::seconds(30), flush_atom::value)
        .receive(
            [](const std::string& err) {
              if (!err.empty()) spdlog::error("flush failed: {}", err);
            },
            [](caf::error& e) { spdlog::error("flush failed: {}", to_string(e)); });
  }
}

// A reply usually comes back from a model within tens of microseconds, sooner than the front
// door could go to sleep in zmq_poll and be woken again by the eventfd (on a virtual machine a
// wake-up from idle costs tens of microseconds itself). So while a single reply is owed, before
// sleeping, it watches the outbox for up to spin_us, yielding its core to any other runnable
// thread as it goes; returns true when replies arrived. The budget adapts: doubled (up to the
// limit) after a wait that ended with a reply, halved after one that did not, and once it is
// zero only every 64th wait probes again — a daemon whose models are slow or busy spends
// (almost) nothing on it.
bool FrontDoor::await_replies() {
  // Only while exactly one reply is owed: with more, replies come back in batches, the front
  // door has other work, and a spinning thread would take the core a model needs (measured:
  // findOne 64 in flight and the isolation case got worse).
  if (spin_limit_us_ <= 0 || outstanding_.load(std::memory_order_relaxed) != 1) return false;
  if (outbox_ready_.load(std::memory_order_acquire)) return true;
  if (spin_us_ < 1) {
    if (++spin_skips_ < 64) return false;
    spin_skips_ = 0;
    spin_us_ = 1;
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us_);
  do {
    for (int i = 0; i < 64; ++i) {
      if (outbox_ready_.load(std::memory_order_acquire)) {
        spin_us_ = std::min(spin_limit_us_, spin_us_ * 2);
        return true;
      }
      __builtin_ia32_pause();
    }
    sched_yield();
  } while (std::chrono::steady_clock::now() < until);
  spin_us_ /= 2;
  return false;
}

int FrontDoor::run() {
  std::string eps;
  for (auto& e : cfg_.bind) eps += (eps.empty() ? "" : ",") + e;
  spdlog::info("requests served by {}",
               !direct_router_ ? "libzmq's ROUTER"
               : router_bound_ ? "memgoosed itself on tcp://, libzmq's ROUTER on the others"
                               : "memgoosed itself (ZMTP over tcp)");
  spdlog::info("change stream served by {}",
               direct_pub_ ? "memgoosed itself (ZMTP over tcp)" : "libzmq's XPUB");
  spdlog::info("memory allocator: {}", allocator_name());
  spdlog::info("memgoosed {} ready: bind {} pub {} data-dir {}", kVersion, eps, cfg_.pub,
               cfg_.data_dir);
  sd_notify(0, "READY=1");
  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  auto last_ping = std::chrono::steady_clock::now();
  while (true) {
    auto& items = poll_items_;
    bool reading = reading_allowed();
    items.assign({{nullptr, wake_fd_, ZMQ_POLLIN, 0}, {nullptr, signal_fd_, ZMQ_POLLIN, 0}});
    constexpr size_t kNone = size_t(-1);
    size_t router_at = kNone, pub_at = kNone, direct_at = kNone, direct_pub_at = kNone;
    if (router_bound_) {
      router_at = items.size();
      items.push_back({router_.handle(), 0, short(reading ? ZMQ_POLLIN : 0), 0});
    }
    if (!direct_pub_) {
      pub_at = items.size();
      items.push_back({pub_.handle(), 0, ZMQ_POLLIN, 0});
    }
    if (direct_router_) {
      direct_at = items.size();
      direct_router_->poll_items(items, reading);
    }
    if (direct_pub_) {
      direct_pub_at = items.size();
      direct_pub_->poll_items(items);
    }
    // A ROUTER is writable whenever any peer has room: blocked replies are retried every
    // millisecond instead of on POLLOUT, which would spin.
    auto timeout = std::chrono::milliseconds(!blocked_.empty()         ? 1
                                             : stopping_ || paused_on_ ? 10
                                                                       : 500);
    if (direct_pub_) timeout = direct_pub_->poll_timeout(timeout);
    if (direct_router_) timeout = direct_router_->poll_timeout(timeout);
    bool replies = await_replies();
    zmq::poll(items.data(), items.size(), replies ? std::chrono::milliseconds(0) : timeout);
    if (pub_at != kNone && (items[pub_at].revents & ZMQ_POLLIN)) read_subscriptions();
    if (direct_pub_) {
      if (direct_pub_->service(&items[direct_pub_at]))  // peers or subscriptions may have changed
        live_subscriptions_.store(direct_pub_->subscriptions(), std::memory_order_relaxed);
    }
    if (replies || (items[0].revents & ZMQ_POLLIN)) {
      drain_outbox();
      if (direct_router_) direct_router_->flush();  // the replies out before reading more
    }
    if (!blocked_.empty()) retry_blocked();
    if (router_at != kNone && (items[router_at].revents & ZMQ_POLLIN)) read_requests();
    if (direct_router_) {
      direct_router_->service(
          items[direct_at], [this] { return reading_allowed(); },
          [this](uint64_t peer, zmtp::Request&& r) {
            on_request(Route{{}, r.delimiter, peer}, std::move(r.body));
          });
      send_batches();
      direct_router_->flush();  // the front door's own answers (errors, ping...)
    }
    if (items[1].revents & ZMQ_POLLIN) {
      signalfd_siginfo si;
      [[maybe_unused]] ssize_t n = read(signal_fd_, &si, sizeof si);
      if (!stopping_) {
        spdlog::info("signal {}: stopping (answering requests in flight)", si.ssi_signo);
        sd_notify(0, "STOPPING=1");
        stopping_ = true;
        stopping_since_ = std::chrono::steady_clock::now();
      }
    }
    if (watchdog && std::chrono::steady_clock::now() - last_ping >
                        std::chrono::microseconds(watchdog_usec / 2)) {
      sd_notify(0, "WATCHDOG=1");
      last_ping = std::chrono::steady_clock::now();
    }
    // Stop once every forwarded request is answered and no request has arrived for a moment
    // (those still queued in the socket get ShutdownInProgress rather than silence).
    // A client that goes on sending, or does not read its replies, delays that by at most
    // kStopGrace: then every request read has been answered or queued to its connection.
    if (stopping_) {
      auto now = std::chrono::steady_clock::now();
      bool grace_over = now - stopping_since_ > kStopGrace;
      if (grace_over ? answered() : idle() && now - last_request_ > std::chrono::milliseconds(200))
        break;
    }
  }
  flush_all();
  drain_outbox();
  if (direct_router_) direct_router_->linger(std::chrono::milliseconds(2000));  // as ZMQ_LINGER
  registry_->shutdown();
  spdlog::info("memgoosed stopped");
  return 0;
}

}  // namespace mg
