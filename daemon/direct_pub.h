// daemon/direct_pub.h — the change stream's PUB socket spoken directly over TCP (ZMTP 3.0, NULL
// mechanism): the daemon's publisher whenever the pub endpoint is tcp:// and CURVE is off
// (issue 7). libzmq's XPUB serves ipc:// and CURVE, and a daemon started with
// --pub-direct=false (pub_direct = false).
//
// Why: with libzmq each event costs the front door two zmq_msg_send (the XPUB walks its
// subscription trie for every message), a malloc that libzmq's I/O thread frees, and that
// thread's encoding and one sendto per 8 KiB: ~3,200 instructions per event besides the kernel
// (docs/BENCHMARKS.md, session 7). Here the front door matches a batch's topic once per
// subscriber, encodes every event straight into each subscriber's output buffer and send()s it
// in big writes itself; no other thread is involved.
//
// Wire: what a libzmq XPUB sends and accepts, as far as a SUB or XSUB peer can tell. After the
// 64-byte greetings, READY with Socket-Type "XPUB" (a peer whose READY names another type than
// SUB or XSUB is disconnected); a subscription is a one-frame message 0x01 + prefix, 0x00 +
// prefix cancels it (ZMTP 3.1's SUBSCRIBE and CANCEL commands are taken too); PING is answered
// with PONG. An event is [topic (MORE), body], sent to every peer with a subscription that is a
// prefix of the topic (once, however many match).
//
// What one peer may say, and the limits on it (frame size, prefix length, subscriptions), are
// protocol/zmtp_pub_session.h's. Beyond those, against hostile peers (any TCP peer can connect):
//   - at most `max_peers` connections (1024): one more is accepted and closed at once (logged at
//     debug);
//   - a peer that has not sent a valid greeting and READY within `handshake` (30 s, libzmq's
//     ZMQ_HANDSHAKE_IVL) is closed; the check runs at most once a second;
//   - accept4() failing for want of descriptors or memory pauses the listener
//     (daemon/tcp_listener.h);
//   - a peer's input is read at most 64 KiB per poll round, and it owes at most one PONG.
//
// Backpressure (DESIGN.md decision 6): a subscriber with `hwm` messages unsent (as the XPUB's
// ZMQ_SNDHWM counts them), or more than `max_bytes` of them, loses the events published
// meanwhile, whole messages only; it catches up with `changes`. The front door never blocks on
// a subscriber.
//
// Not thread-safe: the front door's thread does everything.
#pragma once

#include <zmq.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "daemon/tcp_listener.h"
#include "protocol/zmtp_pub_session.h"

namespace mg {

class EventBatch;

class DirectPub {
 public:
  struct Limits {
    size_t hwm = 100000, max_bytes = size_t(256) << 20;  // per subscriber (see above)
    size_t max_peers = 1024;
    std::chrono::milliseconds handshake{30000};
    zmtp::PubSession::Limits session;
  };
  explicit DirectPub(Limits limits);
  ~DirectPub();
  DirectPub(const DirectPub&) = delete;
  DirectPub& operator=(const DirectPub&) = delete;

  // Listens on `endpoint` ("tcp://host:port"; "*" for every interface). A one-line reason on
  // failure (not tcp, address in use, ...).
  Status bind(const std::string& endpoint);
  // Appends what to poll: the listener (POLLIN) and every peer (POLLIN, and POLLOUT while output
  // waits). service() takes the same items back, in the same order.
  void poll_items(std::vector<zmq_pollitem_t>& items) const;
  // Accepts, reads handshakes, subscriptions and commands, writes what waits, drops peers that
  // closed or broke the protocol. `items` points at the entries poll_items() appended.
  // Returns whether anything happened that may have changed the peers or their subscriptions
  // (an event on a peer, an accept, a handshake sweep): only then is subscriptions() worth
  // asking again.
  bool service(const zmq_pollitem_t* items);
  // The poll timeout to use instead of `longest` while the listener is paused (accept4 failed):
  // until it resumes.
  std::chrono::milliseconds poll_timeout(std::chrono::milliseconds longest) const;
  // Queues every event of `batch` for each peer subscribed to its topic, then writes what it
  // can without blocking.
  void publish(const EventBatch& batch);
  // Subscriptions over every peer (a peer counts each of its prefixes once).
  int64_t subscriptions() const;
  size_t peers() const { return peers_.size(); }

 private:
  struct Peer;
  using Clock = std::chrono::steady_clock;
  void accept(int fd, Clock::time_point now);
  void close_peer(size_t i);
  // Closes the peers whose handshake is past its deadline.
  void sweep_handshakes(Clock::time_point now);

  Limits limits_;
  TcpListener listener_{"pub endpoint"};
  std::vector<std::unique_ptr<Peer>> peers_;
  Clock::time_point next_sweep_{};
};

}  // namespace mg
