// daemon/tcp_listener.cc — see tcp_listener.h.
#include "daemon/tcp_listener.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
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

// The numeric address of network interface `name` (IPv4 first), or "".
std::string interface_address(const std::string& name) {
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return "";
  std::string found;
  for (int family : {AF_INET, AF_INET6}) {
    for (ifaddrs* i = all; i && found.empty(); i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != family || name != i->ifa_name) continue;
      char text[INET6_ADDRSTRLEN] = {};
      const void* a =
          family == AF_INET
              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr)
              : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr);
      if (inet_ntop(family, a, text, sizeof text)) found = text;
    }
  }
  freeifaddrs(all);
  return found;
}

}  // namespace

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
  if (int rc = getaddrinfo(host == "*" ? nullptr : host.c_str(), port.c_str(), &hints, &found)) {
    // libzmq also takes an interface name ("tcp://eth0:7377"): its first IPv4 address, else
    // its first IPv6 one.
    std::string address = interface_address(host);
    if (address.empty() || getaddrinfo(address.c_str(), port.c_str(), &hints, &found) != 0)
      return make_status(ErrorCode::BadValue, what_ + " " + endpoint + ": " + gai_strerror(rc));
  }
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
