// daemon/tcp_listener.cc — see tcp_listener.h.
#include "daemon/tcp_listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mg {

namespace {
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
}

TcpListener::~TcpListener() {
  if (fd_ >= 0) ::close(fd_);
}

Status TcpListener::bind(const std::string& endpoint) {
  std::string_view ep(endpoint);
  if (ep.substr(0, 6) != "tcp://")
    return make_status(ErrorCode::BadValue, what_ + " " + endpoint + ": not tcp://");
  ep.remove_prefix(6);
  size_t colon = ep.rfind(':');
  if (colon == std::string_view::npos)
    return make_status(ErrorCode::BadValue, what_ + " " + endpoint + ": no port");
  std::string host(ep.substr(0, colon)), port(ep.substr(colon + 1));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (int rc = getaddrinfo(host == "*" ? nullptr : host.c_str(), port.c_str(), &hints, &found))
    return make_status(ErrorCode::BadValue, what_ + " " + endpoint + ": " + gai_strerror(rc));
  std::string why = "no address";
  for (addrinfo* a = found; a && fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      fd_ = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(found);
  if (fd_ < 0) return make_status(ErrorCode::BadValue, what_ + " " + endpoint + ": " + why);
  return Status::OK();
}

zmq_pollitem_t TcpListener::poll_item() const {
  return {nullptr, fd_, short(paused_ ? 0 : ZMQ_POLLIN), 0};
}

std::chrono::milliseconds TcpListener::poll_timeout(std::chrono::milliseconds longest) const {
  if (!paused_) return longest;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(resume_at_ - Clock::now());
  return std::clamp(left, std::chrono::milliseconds(0), longest);
}

void TcpListener::service(short revents, Clock::time_point now,
                          const std::function<void(int fd)>& take) {
  if (paused_ && now >= resume_at_) paused_ = false;
  if (paused_ || !(revents & ZMQ_POLLIN)) return;
  for (;;) {
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN) return;
      // Out of descriptors or memory: the listener stays readable, so polling it would spin.
      if (!failing_)
        spdlog::warn(
            "{}: accept failed ({}); not accepting for {} ms at a time until it works "
            "again",
            what_, std::strerror(errno), kAcceptPause.count());
      failing_ = true, paused_ = true;
      resume_at_ = now + kAcceptPause;
      return;
    }
    if (failing_) spdlog::info("{}: accepting again", what_);
    failing_ = false;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    take(fd);
  }
}

}  // namespace mg
