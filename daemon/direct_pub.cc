// daemon/direct_pub.cc — see direct_pub.h; the frame and greeting bytes are
// protocol/zmtp_frame.h's.
#include "daemon/direct_pub.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include <spdlog/spdlog.h>

#include "actors/event_batch.h"
#include "daemon/out_buffer.h"
#include "protocol/zmtp_frame.h"

namespace mg {

namespace {

using zmtp::kCommand;
using zmtp::kMore;
using zmtp::put_head;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxReadPerRound = 64 * 1024;
constexpr auto kSweepEvery = std::chrono::seconds(1);

}  // namespace

struct DirectPub::Peer {
  Peer(int fd, zmtp::PubSession::Limits limits, std::chrono::steady_clock::time_point deadline)
      : fd(fd), session(limits), deadline(deadline) {}
  int fd = -1;
  zmtp::PubSession session;
  std::chrono::steady_clock::time_point deadline;  // for the handshake
  OutBuffer out;
  // Where each queued message ends, counted in bytes ever queued (out.queued_total()); pong_end:
  // where the last PONG queued ends (one is owed while out.sent_total() is short of it).
  std::deque<uint64_t> ends;
  uint64_t pong_end = 0;

  // Messages not wholly sent yet.
  size_t queued_messages() {
    while (!ends.empty() && ends.front() <= out.sent_total()) ends.pop_front();
    return ends.size();
  }
  bool write() { return out.write(fd); }
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
  if (!pong.empty() && pong_end <= out.sent_total()) {  // at most one PONG owed
    out.append(pong);
    pong_end = out.queued_total();
  }
  return true;
}

DirectPub::DirectPub(Limits limits) : limits_(limits) {}

DirectPub::~DirectPub() {
  for (auto& p : peers_) ::close(p->fd);
}

Status DirectPub::bind(const std::string& endpoint) {
  return listener_.bind(endpoint);
}

void DirectPub::poll_items(std::vector<zmq_pollitem_t>& items) const {
  items.push_back(listener_.poll_item());
  for (auto& p : peers_)
    items.push_back({nullptr, p->fd, short(ZMQ_POLLIN | (p->out.queued() ? ZMQ_POLLOUT : 0)), 0});
}

std::chrono::milliseconds DirectPub::poll_timeout(std::chrono::milliseconds longest) const {
  return listener_.poll_timeout(longest);
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
    if (ok && p.out.queued() && (ev & (ZMQ_POLLIN | ZMQ_POLLOUT)))
      ok = p.write();  // PONGs, and output that waited for room
    if (!ok) close_peer(k);
  }
  Clock::time_point now = Clock::now();
  if (items[0].revents & ZMQ_POLLIN) changed = true;
  listener_.service(items[0].revents, now, [&](int fd) { accept(fd, now); });
  if (now >= next_sweep_) {
    next_sweep_ = now + kSweepEvery;
    sweep_handshakes(now);
    changed = true;
  }
  return changed;
}

void DirectPub::accept(int fd, Clock::time_point now) {
  if (peers_.size() >= limits_.max_peers) {
    spdlog::debug("pub endpoint: {} peers already, a new connection is closed", peers_.size());
    ::close(fd);
    return;
  }
  auto p = std::make_unique<Peer>(fd, limits_.session, now + limits_.handshake);
  p->out.append(zmtp::hello("XPUB"));
  if (!p->write()) {
    ::close(fd);
    return;
  }
  peers_.push_back(std::move(p));
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
      if (p.queued_messages() >= limits_.hwm || p.out.queued() + whole > limits_.max_bytes)
        continue;  // behind: this event is lost to it
      char* at = p.out.reserve(whole);
      char* w = at + put_head(at, kMore, topic.size());
      std::memcpy(w, topic.data(), topic.size());
      w += topic.size();
      w += put_head(w, 0, body);
      w = e.encode(w);
      p.out.commit(size_t(w - at));
      p.ends.push_back(p.out.queued_total());
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
