// daemon/direct_pub.h — the change stream's PUB socket spoken directly over TCP (ZMTP 3.0, NULL
// mechanism), for a daemon started with --pub-direct (an experiment of issue 7; libzmq's XPUB
// stays the default and the only choice with CURVE or ipc://).
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
// Backpressure (DESIGN.md decision 6): a subscriber with `hwm` messages unsent (as the XPUB's
// ZMQ_SNDHWM counts them), or more than `max_bytes` of them, loses the events published
// meanwhile, whole messages only; it catches up with `changes`. The front door never blocks on
// a subscriber.
//
// Not thread-safe: the front door's thread does everything.
#pragma once

#include <zmq.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace mg {

class EventBatch;

class DirectPub {
 public:
  DirectPub(size_t hwm, size_t max_bytes);
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
  void service(const zmq_pollitem_t* items);
  // Queues every event of `batch` for each peer subscribed to its topic, then writes what it
  // can without blocking.
  void publish(const EventBatch& batch);
  // Subscriptions over every peer (a peer counts each of its prefixes once).
  int64_t subscriptions() const;

 private:
  struct Peer;
  void accept_all();
  void close_peer(size_t i);

  size_t hwm_, max_bytes_;
  int listen_fd_ = -1;
  std::vector<std::unique_ptr<Peer>> peers_;
};

}  // namespace mg
