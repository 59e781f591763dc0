// daemon/direct_router.cc — see direct_router.h; the frame and greeting bytes are
// protocol/zmtp_frame.h's, one peer's protocol protocol/zmtp_router_session.h's.
#include "daemon/direct_router.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
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
constexpr uint32_t kIn = EPOLLIN, kOut = EPOLLOUT;
constexpr int kMaxEvents = 256;                    // per epoll_wait; the rest in the next round
constexpr uint64_t kListener = uint64_t(1) << 63;  // epoll data: a listener's index, marked
}  // namespace

struct DirectRouter::Peer {
  Peer(uint64_t id, int fd, zmtp::RouterSession::Limits limits, Clock::time_point deadline)
      : id(id), fd(fd), session(limits), deadline(deadline) {}
  uint64_t id;
  int fd;
  zmtp::RouterSession session;
  Clock::time_point deadline;  // for the handshake
  OutBuffer out;
  bool dirty = false;           // in dirty_
  bool throttled = false;       // too many replies unread: not read from (direct_router.h)
  uint32_t interest = EPOLLIN;  // as registered in the epoll set
  uint64_t pong_end = 0;        // where the last PONG queued ends (one is owed until it is sent)

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

DirectRouter::DirectRouter(Limits limits)
    : limits_(limits), epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}

DirectRouter::~DirectRouter() {
  for (auto& [id, p] : peers_) ::close(p->fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status DirectRouter::bind(const std::string& endpoint) {
  if (epoll_fd_ < 0)
    return make_status(ErrorCode::BadValue, std::string("epoll_create1: ") + std::strerror(errno));
  auto l = std::make_unique<TcpListener>("request endpoint");
  if (Status s = l->bind(endpoint); !s.ok()) return s;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListener | listeners_.size();
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l->fd(), &ev) != 0)
    return make_status(ErrorCode::BadValue,
                       "request endpoint " + endpoint + ": epoll_ctl: " + std::strerror(errno));
  listeners_.push_back(std::move(l));
  listener_polled_.push_back(true);
  return Status::OK();
}

void DirectRouter::update_interest(Peer& p) {
  uint32_t want = uint32_t((reading_ && !p.throttled ? kIn : 0) | (p.out.queued() ? kOut : 0));
  if (want == p.interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = p.id;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, p.fd, &ev);
  p.interest = want;
}

void DirectRouter::poll_items(std::vector<zmq_pollitem_t>& items, bool reading) {
  if (reading != reading_) {  // rare (backpressure): every connection's EPOLLIN follows
    reading_ = reading;
    for (auto& [id, p] : peers_) update_interest(*p);
  }
  items.push_back({nullptr, epoll_fd_, ZMQ_POLLIN, 0});
}

std::chrono::milliseconds DirectRouter::poll_timeout(std::chrono::milliseconds longest) const {
  for (auto& l : listeners_) longest = l->poll_timeout(longest);
  return longest;
}

void DirectRouter::service(const zmq_pollitem_t& item, const std::function<bool()>& reading,
                           const Take& take) {
  Clock::time_point now = Clock::now();
  listener_events_.assign(listeners_.size(), 0);
  if (item.revents & ZMQ_POLLIN) {
    epoll_event events[kMaxEvents];
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, 0);
    for (int i = 0; i < n; ++i) {
      uint64_t data = events[i].data.u64;
      if (data & kListener) {
        listener_events_[data & ~kListener] = ZMQ_POLLIN;
        continue;
      }
      auto it = peers_.find(data);
      if (it == peers_.end()) continue;  // closed earlier in this round
      Peer& p = *it->second;
      uint32_t ev = events[i].events;
      bool ok = true;
      if (ev & EPOLLIN) {
        ok = p.read(limits_.read_per_round, reading, take, requests_);
      } else if (ev & (EPOLLHUP | EPOLLERR)) {
        ok = false;  // gone while not being read: nobody to answer
      }
      if (ok && p.out.queued()) {
        ok = p.out.write(p.fd);  // PONGs, replies that waited for room
        p.update_throttle(limits_.max_queued);
      }
      if (!ok) {
        close_peer(p);
        continue;
      }
      update_interest(p);
    }
  }
  for (size_t i = 0; i < listeners_.size(); ++i) {
    listeners_[i]->service(listener_events_[i], now, [&](int fd) { accept(fd, now); });
    bool polled = !listeners_[i]->paused();
    if (polled != listener_polled_[i]) {  // paused or resumed: in or out of the set
      epoll_event ev{};
      ev.events = polled ? kIn : 0;
      ev.data.u64 = kListener | i;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listeners_[i]->fd(), &ev);
      listener_polled_[i] = polled;
    }
  }
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
  p->interest = uint32_t((reading_ ? kIn : 0) | (p->out.queued() ? kOut : 0));
  epoll_event ev{};
  ev.events = p->interest;
  ev.data.u64 = p->id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    spdlog::warn("request endpoint: epoll_ctl: {}; a new connection is closed",
                 std::strerror(errno));
    ::close(fd);
    return;
  }
  peers_.emplace(p->id, std::move(p));
}

void DirectRouter::sweep_handshakes(Clock::time_point now) {
  std::vector<Peer*> late;
  for (auto& [id, p] : peers_)
    if (!p->session.ready() && now >= p->deadline) late.push_back(p.get());
  for (Peer* p : late) {
    spdlog::debug("request peer dropped: no greeting and READY within {} s",
                  std::chrono::duration_cast<std::chrono::seconds>(limits_.handshake).count());
    close_peer(*p);
  }
}

void DirectRouter::close_peer(Peer& p) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, p.fd, nullptr);
  ::close(p.fd);
  peers_.erase(p.id);  // destroys p
}

void DirectRouter::reply(uint64_t peer, bool delimiter, std::string_view body) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;  // gone: nobody to answer
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
    auto it = peers_.find(id);
    if (it == peers_.end()) continue;
    Peer& p = *it->second;
    p.dirty = false;
    if (!p.out.write(p.fd)) {  // broken: dropped now (epoll would say so too)
      close_peer(p);
      continue;
    }
    p.update_throttle(limits_.max_queued);
    p.out.shrink(kKeepBuffer);
    update_interest(p);
  }
  dirty_.clear();
}

void DirectRouter::linger(std::chrono::milliseconds limit) {
  flush();
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    std::vector<pollfd> fds;
    std::vector<Peer*> waiting;
    for (auto& [id, p] : peers_)
      if (p->out.queued()) fds.push_back({p->fd, POLLOUT, 0}), waiting.push_back(p.get());
    if (fds.empty()) return;
    ::poll(fds.data(), fds.size(), 10);
    for (Peer* p : waiting)
      if (!p->out.write(p->fd)) close_peer(*p);
  }
}

}  // namespace mg
