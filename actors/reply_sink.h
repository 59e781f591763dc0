// actors/reply_sink.h — where actors send replies and change events.
//
// The front door owns the sockets (DESIGN.md decision 3); actors never touch them. They hand
// finished reply bodies and change events to a ReplySink, which is thread-safe and wakes the
// front door's poll loop. A Route says how to address a reply on the ROUTER socket. Change
// events travel unencoded, as an EventBatch (actors/event_batch.h): the front door encodes them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mg {

struct Route {
  std::string identity;    // the ROUTER peer identity frame (libzmq's ROUTER)
  bool delimiter = false;  // REQ-style client: an empty frame precedes the body
  uint64_t peer = 0;       // the connection (daemon/direct_router.h); 0: libzmq's ROUTER
};

class EventBatch;  // actors/event_batch.h

struct Outgoing {
  enum class Kind : uint8_t { Reply, Event } kind = Kind::Reply;
  Route route;                               // Reply
  std::string body;                          // Reply
  std::shared_ptr<const EventBatch> events;  // Event: a commit's events, all of one model
};

class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // Queues messages for the front door (replies to clients, events for the PUB socket), in
  // order. Thread-safe; never blocks on the network.
  virtual void post(std::vector<Outgoing>&& batch) = 0;
  // False when nobody subscribes to change events: actors then skip handing them over (they
  // are still retained for `changes`).
  virtual bool has_subscribers() const { return true; }
  void reply(Route route, std::string body) {
    std::vector<Outgoing> v(1);
    v[0].route = std::move(route);
    v[0].body = std::move(body);
    post(std::move(v));
  }
};

// Requests forwarded to a model and not yet answered; shared by the front door (which counts
// up and stops reading past the limit) and the model actor (which counts down as it replies).
using InflightCounter = std::shared_ptr<std::atomic<int64_t>>;

}  // namespace mg
