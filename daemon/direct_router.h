// daemon/direct_router.h — the request socket (a ROUTER, CONTRACT.md §2) spoken directly over
// TCP (ZMTP 3.0, NULL mechanism): how the daemon serves its tcp:// request endpoints whenever
// CURVE is off. libzmq's ROUTER serves ipc:// endpoints, CURVE, and a daemon started with
// --bind-direct=false (bind_direct = false).
//
// Why: with libzmq every request and every reply crosses a second thread, libzmq's I/O thread,
// which reads and writes the TCP socket and hands messages to and from the front door through
// its mailboxes: two more thread wake-ups per round trip (each tens of microseconds on a virtual
// machine when the thread was asleep) and two more copies of every body. Here the front door
// reads requests from the sockets itself, straight into their bodies, and writes all the
// replies a round produced to each client in one send() (docs/BENCHMARKS.md, session 8).
//
// Wire: what a libzmq ROUTER sends and accepts, as far as a REQ or DEALER peer can tell. After
// the 64-byte greetings, READY with Socket-Type "ROUTER" (the peer's may be REQ, DEALER or
// ROUTER); what a peer may send, and the limits on it, are protocol/zmtp_router_session.h's
// (a data frame longer than max request bytes drops the peer, as ZMQ_MAXMSGSIZE does). A reply
// is [body], or [empty, body] to a REQ. The peer's routing id (READY's Identity) is not used:
// replies go back on the connection the request came in on.
//
// Against hostile peers (any TCP peer can connect):
//   - at most `max_peers` connections; one more is accepted and closed at once;
//   - a peer that has not sent a valid greeting and READY within `handshake` (30 s, libzmq's
//     ZMQ_HANDSHAKE_IVL) is closed; the check runs at most once a second;
//   - accept4() failing for want of descriptors pauses the listener (daemon/tcp_listener.h);
//   - a peer is read at most `read_per_round` bytes per poll round, so one client sending
//     megabytes cannot starve the others.
//
// Backpressure (DESIGN.md decision 6): replies are never dropped while their client is
// connected. A client with more than `max_queued` bytes of replies it has not read is not read
// from until it has taken half of them: it gets no new requests in, and TCP pushes back on it,
// while the other clients go on. When the front door stops reading (a model's queue is full)
// poll_items() leaves every peer's POLLIN out. A reply to a peer that is gone is discarded.
//
// Polling: the listeners and connections are in an epoll set of their own (level-triggered),
// and the front door polls only that set's descriptor: with poll() over every connection, the
// kernel's per-descriptor poll work was a quarter of the front door's CPU with 50 clients
// (docs/BENCHMARKS.md, session 8). A connection's interest follows its state: EPOLLIN while
// the front door reads and the connection is not throttled, EPOLLOUT while output waits.
//
// Not thread-safe: the front door's thread does everything.
#pragma once

#include <zmq.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "daemon/tcp_listener.h"
#include "protocol/zmtp_router_session.h"

namespace mg {

class DirectRouter {
 public:
  struct Limits {
    size_t max_peers = 65536;
    std::chrono::milliseconds handshake{30000};
    size_t read_per_round = 256 * 1024;
    size_t max_queued = size_t(16) << 20;
    zmtp::RouterSession::Limits session;
  };
  // Each request read: the connection it came in on (never 0) and the request.
  using Take = std::function<void(uint64_t peer, zmtp::Request&& request)>;

  explicit DirectRouter(Limits limits);
  ~DirectRouter();
  DirectRouter(const DirectRouter&) = delete;
  DirectRouter& operator=(const DirectRouter&) = delete;

  // Listens on `endpoint` (tcp://host:port); may be called for several endpoints.
  Status bind(const std::string& endpoint);
  // Appends what to poll: one item, the epoll set (see above); `reading` says whether requests
  // may be read this round (connections' EPOLLIN follows it). service() takes the item back.
  void poll_items(std::vector<zmq_pollitem_t>& items, bool reading);
  // Accepts, reads requests (passing each to `take` as soon as it is whole; stops reading as
  // soon as `reading()` turns false), writes what waits, drops peers that closed or broke the
  // protocol. `item` is the entry poll_items() appended.
  void service(const zmq_pollitem_t& item, const std::function<bool()>& reading, const Take& take);
  // The poll timeout to use instead of `longest` while a listener is paused.
  std::chrono::milliseconds poll_timeout(std::chrono::milliseconds longest) const;
  // Queues a reply to `peer` ([body], or [empty, body] when `delimiter`); sent by flush().
  // Discarded when the peer is gone.
  void reply(uint64_t peer, bool delimiter, std::string_view body);
  // Sends the replies queued since the last flush, as much as each socket takes.
  void flush();
  // At shutdown: sends what is queued, waiting up to `limit` for slow clients.
  void linger(std::chrono::milliseconds limit);
  size_t peers() const { return peers_.size(); }

 private:
  struct Peer;
  using Clock = std::chrono::steady_clock;
  void accept(int fd, Clock::time_point now);
  void close_peer(Peer& p);
  void sweep_handshakes(Clock::time_point now);
  // Brings the peer's epoll interest in line with its state (reading, throttled, output).
  void update_interest(Peer& p);

  Limits limits_;
  int epoll_fd_ = -1;
  bool reading_ = true;  // as poll_items() was last told
  std::vector<std::unique_ptr<TcpListener>> listeners_;
  std::vector<bool> listener_polled_;   // its epoll interest is EPOLLIN (not paused)
  std::vector<short> listener_events_;  // service()'s, per listener (kept: no allocation a round)
  std::unordered_map<uint64_t, std::unique_ptr<Peer>> peers_;  // by id (never 0)
  std::vector<uint64_t> dirty_;          // peers with replies queued since flush()
  std::vector<zmtp::Request> requests_;  // read, scratch
  uint64_t next_id_ = 1;
  Clock::time_point next_sweep_{};
};

}  // namespace mg
