// daemon/front_door.h — the one thread that owns the ZeroMQ sockets (DESIGN.md decision 3).
//
// It binds a ROUTER for requests and a PUB for change events. On tcp:// without CURVE both are
// its own, on TCP listeners (daemon/direct_router.h, daemon/direct_pub.h); with ipc://, CURVE,
// --bind-direct=false or --pub-direct=false they are libzmq's ROUTER and XPUB. It decodes only the
// envelope of each request and forwards the raw body to its model's actor (through the Registry);
// server and database operations it answers itself or fans out. Actors hand replies and events back
// through post() (the ReplySink), which queues them and wakes the poll loop through an eventfd.
//
// Backpressure (decision 6): on libzmq's ROUTER, ZMQ_ROUTER_MANDATORY is set, so a reply to a
// client whose queue is full is kept and retried (EAGAIN), never dropped; while a million such
// replies (or 256 MiB of them) wait, or while a model has more than `max_inflight_per_model`
// requests queued, the front door stops reading new requests and ZeroMQ's high-water marks (on its
// own endpoints, TCP) push back on clients. Its own endpoints also stop reading one client that
// does not read its replies (direct_router.h). A reply to a client that has gone away is discarded.
//
// Shutdown: on SIGTERM/SIGINT it stops taking requests (new ones get ShutdownInProgress),
// answers those in flight, flushes every model, and returns from run(). A client that goes on
// sending, or does not read its replies, holds that up by at most 5 s.
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "actors/fan_out.h"
#include "actors/messages.h"
#include "actors/registry.h"
#include "actors/reply_sink.h"
#include "daemon/config.h"
#include "daemon/direct_pub.h"
#include "daemon/direct_router.h"
#include "daemon/zap_handler.h"
#include "protocol/envelope.h"

namespace mg {

class FrontDoor : public ReplySink, public std::enable_shared_from_this<FrontDoor> {
 public:
  FrontDoor(caf::actor_system& sys, const DaemonConfig& cfg);
  ~FrontDoor() override;

  // Binds every endpoint. Returns a one-line reason on failure (endpoint in use, ...).
  Status bind();
  // Serves until a shutdown signal (SIGTERM/SIGINT must be blocked in every thread; the front
  // door reads them from a signalfd). Returns 0 after a clean shutdown.
  int run();

  void post(std::vector<Outgoing>&& batch) override;
  bool has_subscribers() const override {
    return live_subscriptions_.load(std::memory_order_relaxed) > 0;
  }
  // Stops every actor after a failed bind(), so the actor system can shut down.
  void abort();

 private:
  void on_request(const Route& route, std::string bytes);
  void dispatch(const Route& route, std::string body, const Envelope& env);
  void server_op(const Route& route, const Envelope& env);
  void model_op(const Route& route, std::string body, const Envelope& env);
  void stats(const Route& route, const Envelope& env);
  // front_door_data.cc: migrate, backup, createDatabase {fromBackup}.
  void migrate(const Route& route, const Envelope& env);
  void backup(const Route& route, const Envelope& env);
  void restore(const Route& route, const Envelope& env);
  // The limits of docs/PROTOCOL.md "Limits" the front door enforces (batch size, number of
  // databases and models): BadValue naming the limit and its config key, or OK.
  Status check_limits(const Envelope& env);
  std::string hello(const Envelope& env);
  void ask_models(const Route& route, std::vector<caf::actor> actors, caf::message question,
                  Combine combine);
  // Replies from the front door's own thread (not counted as outstanding).
  void answer(const Route& route, std::string body);
  // Every request forwarded to a model is answered, and its reply out of the outbox.
  bool answered();
  // answered(), and no reply waits for room in libzmq.
  bool idle();
  bool await_replies();
  // One round of reading (read_round), then the requests it read go to their models, one
  // message per model (send_batches: ClientBatch).
  void read_requests();
  void read_round();
  void send_batches();
  // Sends `requests` (one as a ClientRequest, more as a ClientBatch) and empties it.
  void send_batch(const caf::actor& actor, std::vector<ClientRequest>& requests);
  void read_subscriptions();
  void drain_outbox();
  void publish(const EventBatch& batch);
  bool send_reply(Outgoing& o);
  // Sends again the replies libzmq refused (blocked_), those that now find room.
  void retry_blocked();
  void block(Outgoing&& o);  // into blocked_
  bool reading_allowed();
  void flush_all();

  caf::actor_system& sys_;
  DaemonConfig cfg_;
  zmq::context_t ctx_;
  zmq::socket_t router_, pub_;
  std::unique_ptr<ZapHandler> zap_;              // CURVE on only; destroyed before ctx_
  std::unique_ptr<DirectPub> direct_pub_;        // cfg_.pub_direct: publishes instead of pub_
  std::unique_ptr<DirectRouter> direct_router_;  // cfg_.bind_direct: the tcp:// endpoints
  bool router_bound_ = false;                    // router_ has an endpoint
  std::vector<zmq_pollitem_t> poll_items_;       // run()'s, rebuilt each round
  int wake_fd_ = -1, signal_fd_ = -1;
  std::unique_ptr<Registry> registry_;
  using RequestBatch = std::vector<ClientRequest>;
  std::vector<std::pair<caf::actor, RequestBatch>> batches_;  // read, not yet sent (by model)

  std::mutex mu_;
  std::vector<Outgoing> outbox_;           // guarded by mu_
  std::atomic<bool> outbox_ready_{false};  // outbox_ not empty (a hint, read without mu_)
  int spin_limit_us_ = 0;                  // await_replies()' budget limit; 0: never spin
  int spin_us_ = 0;                        // its current budget
  int spin_skips_ = 0;
  std::vector<Outgoing> draining_;
  std::deque<Outgoing> blocked_;  // replies refused with EAGAIN, retried (retry_blocked)
  size_t blocked_bytes_ = 0;      // their bodies' bytes
  InflightCounter paused_on_;     // the model whose queue made us stop reading
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stopping_since_{};
  std::atomic<int64_t> outstanding_{0};  // replies expected from actors
  std::chrono::steady_clock::time_point last_request_{};
  std::map<std::string, int> subscriptions_;  // topic prefix -> live subscribers (XPUB)
  std::atomic<int64_t> live_subscriptions_{0};
};

}  // namespace mg
