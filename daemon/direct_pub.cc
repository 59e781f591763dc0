// daemon/direct_pub.cc — see direct_pub.h; the frame and greeting bytes are
// protocol/zmtp_frame.h's.
#include "daemon/direct_pub.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include <spdlog/spdlog.h>

#include "actors/event_batch.h"
#include "protocol/zmtp_frame.h"

namespace mg {

namespace {

using zmtp::kCommand;
using zmtp::kMore;
using zmtp::put_head;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxReadPerRound = 64 * 1024;
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
constexpr auto kSweepEvery = std::chrono::seconds(1);

}  // namespace

struct DirectPub::Peer {
  Peer(int fd, zmtp::PubSession::Limits limits, std::chrono::steady_clock::time_point deadline)
      : fd(fd), session(limits), deadline(deadline) {}
  int fd = -1;
  zmtp::PubSession session;
  std::chrono::steady_clock::time_point deadline;  // for the handshake
  // Output not sent yet: [begin, end) of out, not zero-filled.
  std::unique_ptr<char[]> out;
  size_t cap = 0, begin = 0, end = 0;
  // Where each queued message ends, counted in bytes ever queued; sent_total: bytes ever sent;
  // pong_end: where the last PONG queued ends (one is owed while sent_total is short of it).
  std::deque<uint64_t> ends;
  uint64_t queued_total = 0, sent_total = 0, pong_end = 0;

  size_t queued() const { return end - begin; }
  // Messages not wholly sent yet.
  size_t queued_messages() {
    while (!ends.empty() && ends.front() <= sent_total) ends.pop_front();
    return ends.size();
  }

  // Room for `n` more bytes at out + end.
  char* reserve(size_t n) {
    if (cap - end >= n) return out.get() + end;
    size_t used = end - begin;
    if (used + n <= cap && begin > 0) {
      std::memmove(out.get(), out.get() + begin, used);
    } else {
      size_t bigger = std::max({2 * cap, used + n, size_t(64 * 1024)});
      std::unique_ptr<char[]> o(new char[bigger]);
      if (used) std::memcpy(o.get(), out.get() + begin, used);
      out = std::move(o), cap = bigger;
    }
    begin = 0, end = used;
    return out.get() + end;
  }
  void append(std::string_view s) {
    std::memcpy(reserve(s.size()), s.data(), s.size());
    end += s.size();
    queued_total += s.size();
  }
  // Sends what it can without blocking; false when the connection is broken.
  bool write() {
    while (begin < end) {
      ssize_t n = ::send(fd, out.get() + begin, end - begin, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        begin += size_t(n);
        sent_total += uint64_t(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n < 0 && errno == EAGAIN) break;
        return false;
      }
    }
    if (begin == end) begin = end = 0;
    return true;
  }
  // Reads (at most kMaxReadPerRound bytes) and handles what came; false when the peer is to be
  // dropped.
  bool read();
};

bool DirectPub::Peer::read() {
  char buf[16 * 1024];
  for (size_t got = 0; got < kMaxReadPerRound;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) return false;  // closed or broken
    got += size_t(n);
    if (!session.feed(std::string_view(buf, size_t(n)))) {
      spdlog::debug("pub peer dropped: {}", session.why());
      return false;
    }
    if (size_t(n) < sizeof buf) break;  // drained (saves the recv that would say EAGAIN)
  }
  std::string pong = session.take_pong();
  if (!pong.empty() && pong_end <= sent_total) {  // at most one PONG owed
    append(pong);
    pong_end = queued_total;
  }
  return true;
}

DirectPub::DirectPub(Limits limits) : limits_(limits) {}

DirectPub::~DirectPub() {
  for (auto& p : peers_) ::close(p->fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Status DirectPub::bind(const std::string& endpoint) {
  std::string_view ep(endpoint);
  if (ep.substr(0, 6) != "tcp://")
    return make_status(ErrorCode::BadValue, "--pub-direct needs a tcp:// pub endpoint");
  ep.remove_prefix(6);
  size_t colon = ep.rfind(':');
  if (colon == std::string_view::npos)
    return make_status(ErrorCode::BadValue, "pub endpoint " + endpoint + ": no port");
  std::string host(ep.substr(0, colon)), port(ep.substr(colon + 1));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (int rc = getaddrinfo(host == "*" ? nullptr : host.c_str(), port.c_str(), &hints, &found))
    return make_status(ErrorCode::BadValue, "pub endpoint " + endpoint + ": " + gai_strerror(rc));
  std::string why = "no address";
  for (addrinfo* a = found; a && listen_fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      listen_fd_ = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(found);
  if (listen_fd_ < 0)
    return make_status(ErrorCode::BadValue, "pub endpoint " + endpoint + ": " + why);
  return Status::OK();
}

void DirectPub::poll_items(std::vector<zmq_pollitem_t>& items) const {
  items.push_back({nullptr, listen_fd_, short(listener_paused_ ? 0 : ZMQ_POLLIN), 0});
  for (auto& p : peers_)
    items.push_back({nullptr, p->fd, short(ZMQ_POLLIN | (p->queued() ? ZMQ_POLLOUT : 0)), 0});
}

std::chrono::milliseconds DirectPub::poll_timeout(std::chrono::milliseconds longest) const {
  if (!listener_paused_) return longest;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(resume_at_ - Clock::now());
  return std::clamp(left, std::chrono::milliseconds(0), longest);
}

bool DirectPub::service(const zmq_pollitem_t* items) {
  bool changed = false;
  size_t n = peers_.size();  // accept_all() appends: the new peers have no item yet
  for (size_t k = n; k-- > 0;) {
    short ev = items[1 + k].revents;
    if (!ev) continue;
    changed = true;
    Peer& p = *peers_[k];
    bool ok = true;
    if (ev & (ZMQ_POLLIN | ZMQ_POLLERR)) ok = p.read();
    if (ok && p.queued() && (ev & (ZMQ_POLLIN | ZMQ_POLLOUT)))
      ok = p.write();  // PONGs, and output that waited for room
    if (!ok) close_peer(k);
  }
  Clock::time_point now = Clock::now();
  if (listener_paused_ && now >= resume_at_) listener_paused_ = false;
  if (!listener_paused_ && (items[0].revents & ZMQ_POLLIN)) {
    accept_all(now);
    changed = true;
  }
  if (now >= next_sweep_) {
    next_sweep_ = now + kSweepEvery;
    sweep_handshakes(now);
    changed = true;
  }
  return changed;
}

void DirectPub::accept_all(Clock::time_point now) {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN) return;
      // Out of descriptors or memory: the listener stays readable, so polling it would spin.
      if (!accept_failing_)
        spdlog::warn(
            "pub endpoint: accept failed ({}); not accepting for {} ms at a time until "
            "it works again",
            std::strerror(errno), kAcceptPause.count());
      accept_failing_ = true;
      listener_paused_ = true;
      resume_at_ = now + kAcceptPause;
      return;
    }
    if (accept_failing_) spdlog::info("pub endpoint: accepting again");
    accept_failing_ = false;
    if (peers_.size() >= limits_.max_peers) {
      spdlog::debug("pub endpoint: {} peers already, a new connection is closed", peers_.size());
      ::close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto p = std::make_unique<Peer>(fd, limits_.session, now + limits_.handshake);
    p->append(zmtp::hello("XPUB"));
    if (!p->write()) {
      ::close(fd);
      continue;
    }
    peers_.push_back(std::move(p));
  }
}

void DirectPub::sweep_handshakes(Clock::time_point now) {
  for (size_t k = peers_.size(); k-- > 0;) {
    Peer& p = *peers_[k];
    if (!p.session.ready() && now >= p.deadline) {
      spdlog::debug("pub peer dropped: no greeting and READY within {} s",
                    std::chrono::duration_cast<std::chrono::seconds>(limits_.handshake).count());
      close_peer(k);
    }
  }
}

void DirectPub::close_peer(size_t i) {
  ::close(peers_[i]->fd);
  peers_.erase(peers_.begin() + int64_t(i));
}

void DirectPub::publish(const EventBatch& batch) {
  std::string_view topic = batch.topic();
  for (size_t k = peers_.size(); k-- > 0;) {
    Peer& p = *peers_[k];
    if (!p.session.ready() || !p.session.matches(topic)) continue;
    for (size_t i = 0; i < batch.size(); ++i) {
      EventView e = batch[i];
      size_t body = e.encoded_size();
      size_t whole = 9 + topic.size() + 9 + body;  // at most
      if (p.queued_messages() >= limits_.hwm || p.queued() + whole > limits_.max_bytes)
        continue;  // behind: this event is lost to it
      char* at = p.reserve(whole);
      char* w = at + put_head(at, kMore, topic.size());
      std::memcpy(w, topic.data(), topic.size());
      w += topic.size();
      w += put_head(w, 0, body);
      w = e.encode(w);
      p.end += size_t(w - at);
      p.queued_total += uint64_t(w - at);
      p.ends.push_back(p.queued_total);
    }
    if (!p.write()) close_peer(k);
  }
}

int64_t DirectPub::subscriptions() const {
  int64_t n = 0;
  for (auto& p : peers_) n += int64_t(p->session.subscriptions());
  return n;
}

}  // namespace mg
