// daemon/direct_router.cc — see direct_router.h; the frame and greeting bytes are
// protocol/zmtp_frame.h's, one peer's protocol protocol/zmtp_router_session.h's.
#include "daemon/direct_router.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "daemon/out_buffer.h"
#include "protocol/zmtp_frame.h"

namespace mg {

namespace {
constexpr auto kSweepEvery = std::chrono::seconds(1);
constexpr size_t kKeepBuffer = 256 * 1024;  // an idle peer's output block is freed above this
}  // namespace

struct DirectRouter::Peer {
  Peer(uint64_t id, int fd, zmtp::RouterSession::Limits limits, Clock::time_point deadline)
      : id(id), fd(fd), session(limits), deadline(deadline) {}
  uint64_t id;
  int fd;
  zmtp::RouterSession session;
  Clock::time_point deadline;  // for the handshake
  OutBuffer out;
  bool dirty = false;      // in dirty_
  bool throttled = false;  // too many replies unread: not read from (direct_router.h)
  uint64_t pong_end = 0;   // where the last PONG queued ends (one is owed until it is sent)

  void update_throttle(size_t max_queued) {
    throttled = out.queued() > (throttled ? max_queued / 2 : max_queued);
  }
  // Reads at most `budget` bytes, passing each whole request to `take`; false when the peer
  // is to be dropped.
  bool read(size_t budget, const std::function<bool()>& reading, const Take& take,
            std::vector<zmtp::Request>& requests) {
    for (size_t got = 0; got < budget && reading();) {
      size_t room = session.room();
      ssize_t n = ::recv(fd, session.buffer(), room, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) return false;  // closed or broken
      got += size_t(n);
      bool ok = session.received(size_t(n), requests);
      for (auto& r : requests) take(id, std::move(r));
      requests.clear();
      if (!ok) {
        spdlog::debug("request peer dropped: {}", session.why());
        return false;
      }
      if (size_t(n) < room) break;  // drained (saves the recv that would say EAGAIN)
    }
    std::string pong = session.take_pong();
    if (!pong.empty() && pong_end <= out.sent_total()) {  // at most one PONG owed
      out.append(pong);
      pong_end = out.queued_total();
    }
    return true;
  }
};

DirectRouter::DirectRouter(Limits limits) : limits_(limits) {}

DirectRouter::~DirectRouter() {
  for (auto& p : peers_) ::close(p->fd);
}

Status DirectRouter::bind(const std::string& endpoint) {
  auto l = std::make_unique<TcpListener>("request endpoint");
  if (Status s = l->bind(endpoint); !s.ok()) return s;
  listeners_.push_back(std::move(l));
  return Status::OK();
}

void DirectRouter::poll_items(std::vector<zmq_pollitem_t>& items, bool reading) const {
  for (auto& l : listeners_) items.push_back(l->poll_item());
  for (auto& p : peers_) {
    short ev =
        short((reading && !p->throttled ? ZMQ_POLLIN : 0) | (p->out.queued() ? ZMQ_POLLOUT : 0));
    items.push_back({nullptr, p->fd, ev, 0});
  }
}

std::chrono::milliseconds DirectRouter::poll_timeout(std::chrono::milliseconds longest) const {
  for (auto& l : listeners_) longest = l->poll_timeout(longest);
  return longest;
}

void DirectRouter::service(const zmq_pollitem_t* items, const std::function<bool()>& reading,
                           const Take& take) {
  const zmq_pollitem_t* peer_items = items + listeners_.size();
  for (size_t k = peers_.size(); k-- > 0;) {  // backwards: close_peer(k) moves later ones only
    short ev = peer_items[k].revents;
    if (!ev) continue;
    Peer& p = *peers_[k];
    bool ok = true;
    if (ev & (ZMQ_POLLIN | ZMQ_POLLERR))
      ok = p.read(limits_.read_per_round, reading, take, requests_);
    if (ok && p.out.queued()) {
      ok = p.out.write(p.fd);  // PONGs, replies that waited for room
      p.update_throttle(limits_.max_queued);
    }
    if (!ok) close_peer(k);
  }
  Clock::time_point now = Clock::now();
  for (size_t i = 0; i < listeners_.size(); ++i)
    listeners_[i]->service(items[i].revents, now, [&](int fd) { accept(fd, now); });
  if (now >= next_sweep_) {
    next_sweep_ = now + kSweepEvery;
    sweep_handshakes(now);
  }
}

void DirectRouter::accept(int fd, Clock::time_point now) {
  if (peers_.size() >= limits_.max_peers) {
    spdlog::debug("request endpoint: {} peers already, a new connection is closed", peers_.size());
    ::close(fd);
    return;
  }
  auto p = std::make_unique<Peer>(next_id_++, fd, limits_.session, now + limits_.handshake);
  p->out.append(zmtp::hello("ROUTER"));
  if (!p->out.write(fd)) {
    ::close(fd);
    return;
  }
  by_id_[p->id] = p.get();
  peers_.push_back(std::move(p));
}

void DirectRouter::sweep_handshakes(Clock::time_point now) {
  for (size_t k = peers_.size(); k-- > 0;) {
    Peer& p = *peers_[k];
    if (!p.session.ready() && now >= p.deadline) {
      spdlog::debug("request peer dropped: no greeting and READY within {} s",
                    std::chrono::duration_cast<std::chrono::seconds>(limits_.handshake).count());
      close_peer(k);
    }
  }
}

void DirectRouter::close_peer(size_t i) {
  ::close(peers_[i]->fd);
  by_id_.erase(peers_[i]->id);
  peers_.erase(peers_.begin() + int64_t(i));
}

void DirectRouter::reply(uint64_t peer, bool delimiter, std::string_view body) {
  auto it = by_id_.find(peer);
  if (it == by_id_.end()) return;  // gone: nobody to answer
  Peer& p = *it->second;
  char* at = p.out.reserve(2 + 9 + body.size());
  char* w = at;
  if (delimiter) w += zmtp::put_head(w, zmtp::kMore, 0);
  w += zmtp::put_head(w, 0, body.size());
  std::memcpy(w, body.data(), body.size());
  p.out.commit(size_t(w - at) + body.size());
  if (!p.dirty) {
    p.dirty = true;
    dirty_.push_back(peer);
  }
}

void DirectRouter::flush() {
  for (uint64_t id : dirty_) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    Peer& p = *it->second;
    p.dirty = false;
    if (!p.out.write(p.fd)) {  // broken: dropped now (its poll item would say so too)
      auto k =
          std::find_if(peers_.begin(), peers_.end(), [&](const auto& q) { return q.get() == &p; });
      close_peer(size_t(k - peers_.begin()));
      continue;
    }
    p.update_throttle(limits_.max_queued);
    p.out.shrink(kKeepBuffer);
  }
  dirty_.clear();
}

void DirectRouter::linger(std::chrono::milliseconds limit) {
  flush();
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    std::vector<pollfd> fds;
    for (auto& p : peers_)
      if (p->out.queued()) fds.push_back({p->fd, POLLOUT, 0});
    if (fds.empty()) return;
    ::poll(fds.data(), fds.size(), 10);
    for (size_t k = peers_.size(); k-- > 0;)
      if (peers_[k]->out.queued() && !peers_[k]->out.write(peers_[k]->fd)) close_peer(k);
  }
}

}  // namespace mg
