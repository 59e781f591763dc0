// clients/cpp/watch.h — following one model's change stream (CONTRACT.md §7) without losing,
// repeating or reordering an event.
//
// The daemon publishes every applied write on its PUB socket, topic "db.model", body
// {seq, op, id, doc?, ts}, and keeps the recent history behind the `changes` request. A PUB
// socket drops what a slow or late subscriber cannot take, silently; a Watcher repairs that:
//
//   Watcher w(req_endpoint, pub_endpoint, "app", "User", /*after=*/0);
//   while (running) {
//     std::optional<Event> e = w.next(std::chrono::milliseconds(500));
//     if (e) apply(*e);  // every event with seq > 0 exactly once, in seq order
//   }
//
// How: the constructor subscribes a SUB socket (an XSUB, filtered by the daemon's side only) to
// the exact topic (ZeroMQ filters by prefix, so "app.User" also matches "app.Users": other
// topics are skipped on receipt) before any history is read, so nothing can fall between
// history and live events. The first next() asks `changes` (after = `after`, paged) on a Client
// over the request endpoint. From then on, live events are delivered as they come; when one arrives
// with a seq beyond the next expected one (a gap: the PUB socket dropped some), or when the stream
// has been silent for `idle_check` (the last events of a burst may have been dropped, or published
// before the daemon saw the subscription: it learns of subscribers asynchronously), the Watcher
// asks `changes` again from the last seq it has, one page at a time. Live events that arrive
// meanwhile wait in the SUB socket's queue, or behind a gap in the Watcher (up to
// `max_buffered`); events are deduplicated by seq, so each seq is delivered once.
//
// Errors: every failure of a `changes` request is thrown from next() as mg::client::Error —
// notably code 286 ChangeStreamHistoryLost when the daemon no longer keeps the events the
// Watcher needs (it fell behind by more than the daemon's changeLogSize, or the daemon
// restarted and its history from before is gone). The application must then resynchronise
// (re-read the model with find) and call reset() with the model's new last seq. The same
// error is raised when the model's seq goes backwards (a memory database whose daemon
// restarted, or a dropped and recreated database): the history the Watcher follows is gone.
// After any exception the Watcher is unchanged and next() may be called again.
//
// Direct mode (WatchOptions::direct): instead of a libzmq XSUB, the Watcher speaks ZMTP 3.0 as a
// SUB on a TCP socket of its own (clients/cpp/zmtp.h), so the thread calling next() reads the
// events with big recv()s and parses them in place, and no libzmq I/O thread handles them
// first. Same events, same guarantees; the daemon's XPUB sees an ordinary SUB. Lost connections
// are retried from next() (at most every 200 ms); what was published meanwhile is fetched.
//
// Not thread-safe: one thread uses a Watcher. It starts no thread; all work happens in next().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "clients/cpp/client.h"
#include "clients/cpp/zmtp.h"
#include "core/msgpack.h"

namespace mg::client {

// One change event (CONTRACT.md §7).
struct Event {
  uint64_t seq = 0;
  std::string op;   // "insert", "update", "replace", "delete" or "drop"
  std::string id;   // the document's encoded `_id` (encoded nil for "drop")
  std::string doc;  // the whole encoded document after the write; empty for delete and drop
  Date ts;          // when the write was applied
};

struct WatchOptions {
  // Options of the Client that sends `changes` (timeout, context, socket setup). Its context,
  // when given, is also the SUB socket's (it must outlive the Watcher).
  ClientOptions client;
  // Called on the SUB socket before it connects (CURVE keys and the like). It is an XSUB
  // socket (ZMQ_SUBSCRIBE does not apply to it: the Watcher subscribes by itself).
  std::function<void(zmq::socket_t&)> configure_sub;
  // Events asked per `changes` request; 0 lets the daemon choose (at most 10,000).
  int64_t page_size = 0;
  // When next() has had nothing to deliver for this long, it asks `changes` whether events
  // were missed (at most one such request per period). Zero: at every empty next().
  std::chrono::milliseconds idle_check{1000};
  // Most events held by the Watcher (fetched or received ahead of the one due). Past it, live
  // events stay queued in ZeroMQ (where the PUB side may drop them: they are fetched again).
  size_t max_buffered = 200000;
  // ZMQ_RCVHWM of the SUB socket: live events ZeroMQ queues before the daemon drops them.
  // Not used by a direct Watcher (its queue is the kernel's socket buffer).
  int sub_hwm = 100000;
  // Subscribe directly (see the top of this file): tcp:// pub endpoints only; not with CURVE
  // (client.curve) or configure_sub (Error BadValue from the constructor, as is an endpoint it
  // cannot speak to; ExceededTimeLimit when it cannot connect within client.timeout_ms). The
  // `changes` requests follow client.direct, independently.
  bool direct = false;
};

// Counters, for tests and monitoring.
struct WatchStats {
  uint64_t delivered = 0;   // events returned by next()
  uint64_t live = 0;        // events received on the SUB socket for this model
  uint64_t fetched = 0;     // events received in `changes` replies
  uint64_t duplicates = 0;  // events dropped because their seq was already had
  uint64_t requests = 0;    // `changes` requests sent
  uint64_t gaps = 0;        // catch-ups started because a live event skipped seqs
  uint64_t malformed = 0;   // live messages that were not a well-formed event (skipped)
};

// The events a Watcher holds in order, in a ring of slots that keep their strings: a slot
// filled again (by assign) reuses the capacity of the event delivered from it before, and
// next(Event&) swaps the caller's strings into it. push() hands out the next slot with whatever
// it held: the caller sets every field. Grows by doubling; once empty, a ring grown past
// kKeep slots (a long catch-up) gives its memory back.
class EventRing {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  Event& front() { return slots_[head_]; }
  Event& operator[](size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  Event& push();
  void pop_front();
  void clear();

 private:
  static constexpr size_t kKeep = 1024;
  std::vector<Event> slots_;  // a power of two of them, or none
  size_t head_ = 0, size_ = 0;
};

class Watcher {
 public:
  // `after` for "only events from now on": the model's current last seq, read on the first
  // next() (after subscribing, so nothing is missed).
  static constexpr uint64_t kNow = UINT64_MAX;

  // Subscribes to "db.model" on `pub_endpoint` and prepares a Client on `req_endpoint`; sends
  // nothing yet. Delivers, from next(), every event with seq > `after`. Throws Error
  // (BadValue) for a malformed endpoint.
  Watcher(std::string req_endpoint, std::string pub_endpoint, std::string db, std::string model,
          uint64_t after, WatchOptions opts = {});
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // The next event (seq = last_seq() + 1, or the next one the daemon has), waiting up to
  // `timeout` for one; nullopt when none came in time, or early when a signal interrupted the
  // wait (so that a caller can look at its signal flag). May send `changes` requests, which
  // can take up to the client's timeout each; throws their Error (see the top of this file).
  std::optional<Event> next(std::chrono::milliseconds timeout);
  // The same into `out`, true when an event came: its strings trade places with the Watcher's
  // own, so a caller that passes the same Event each time makes the Watcher allocate nothing
  // per event once the buffers have grown. `out` is unchanged when false is returned.
  bool next(Event& out, std::chrono::milliseconds timeout);

  // Seq of the last event delivered (`after` before the first; resolved once kNow is).
  uint64_t last_seq() const { return last_; }
  // Drops everything buffered and continues with the events after `after` (e.g. after a
  // resynchronisation following ChangeStreamHistoryLost); kNow as in the constructor.
  void reset(uint64_t after);

  const WatchStats& stats() const { return stats_; }

 private:
  using Clock = std::chrono::steady_clock;

  uint64_t tail() const { return last_ + ready_.size(); }
  enum class Wait { Ready, Timeout, Interrupted };

  // Where the event `seq` is to be kept: a new last element of ready_ (call settle() once it
  // is filled), a new entry of ahead_, or nowhere when it is a duplicate (nullptr).
  Event* slot(uint64_t seq);
  void take(Event e);
  void settle();
  void receive_live();
  // The next live message, when one is queued: false when none is. `whole`: it had exactly the
  // two frames [topic, body].
  bool next_live(std::string_view& topic, std::string_view& body, bool& whole);
  bool next_direct(std::string_view& topic, std::string_view& body, bool& whole);
  void take_live(std::string_view topic, std::string_view body);
  void connect_direct(int timeout_ms);
  Wait wait_live(Clock::time_point until);
  void catch_up();
  void start_from_now();

  std::optional<zmq::context_t> own_context_;
  zmq::socket_t sub_;
  Client client_;
  std::string db_, model_, topic_;
  WatchOptions opts_;
  uint64_t last_ = 0;                    // seq of the last event delivered
  uint64_t known_ = 0;                   // highest seq known to exist (live events, lastSeq)
  bool synced_ = false;                  // false until the first `changes` reply after (re)start
  bool from_now_ = false;                // `after` was kNow and is not resolved yet
  EventRing ready_;                      // seqs last_+1, last_+2, ... contiguous
  std::map<uint64_t, Event> ahead_;      // seqs beyond tail()+1, waiting for the gap to fill
  Clock::time_point check_at_;           // when an idle next() asks `changes` again
  bool restart_idle_ = false;            // an event was delivered: check_at_ starts again
  zmq::message_t topic_msg_, body_msg_;  // next_live()'s frames, reused
  // Direct mode: the SUB connection (unless sub_ is used), its frames, when to reconnect.
  std::string pub_endpoint_;
  std::unique_ptr<ZmtpConnection> direct_;
  ZmtpConnection::Frames frames_;
  Clock::time_point reconnect_at_;
  WatchStats stats_;
};

// Parses an encoded event map {seq, op, id, doc?, ts} (already validated) into `out`; false
// when a field is missing or of the wrong type.
bool parse_event(MpView body, Event& out);

}  // namespace mg::client
