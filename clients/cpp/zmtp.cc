// clients/cpp/zmtp.cc — ZMTP 3.0 over a plain TCP socket (see zmtp.h).
#include "clients/cpp/zmtp.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "clients/cpp/client.h"

namespace mg::client {

namespace {

using Clock = std::chrono::steady_clock;

constexpr unsigned char kMore = 1, kLong = 2, kCommand = 4;
constexpr size_t kGreeting = 64;
constexpr size_t kReadSize = 65536;

// Signature (0xFF, 8 bytes of padding, 0x7F), version 3.0, mechanism NULL, as-server 0.
std::string greeting() {
  std::string g(kGreeting, '\0');
  g[0] = char(0xff), g[8] = 1, g[9] = 0x7f, g[10] = 3, g[11] = 0;
  std::memcpy(&g[12], "NULL", 4);
  return g;
}

// READY with the one property a ROUTER needs: Socket-Type DEALER.
std::string ready_command() {
  std::string body("\x05READY\x0bSocket-Type", 1 + 5 + 1 + 11);
  body.append("\0\0\0\x06", 4).append("DEALER");
  std::string frame;
  frame.push_back(char(kCommand));
  frame.push_back(char(body.size()));
  return frame + body;
}

[[noreturn]] void fail(int code, const std::string& endpoint, const std::string& why) {
  if (code == 2) throw Error(2, "BadValue", "cannot connect to '" + endpoint + "': " + why);
  throw Error(kExceededTimeLimit, "ExceededTimeLimit", endpoint + ": " + why);
}

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : int(left);
}

// Waits for `events` on `fd` until `deadline`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms_left(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// "tcp://host:port" -> a connected, non-blocking socket with TCP_NODELAY (as libzmq sets it).
int connect_tcp(const std::string& endpoint, Clock::time_point deadline) {
  std::string_view ep(endpoint);
  if (ep.substr(0, 6) != "tcp://") fail(2, endpoint, "only tcp:// endpoints can be direct");
  ep.remove_prefix(6);
  size_t colon = ep.rfind(':');
  if (colon == std::string_view::npos) fail(2, endpoint, "no port");
  std::string host(ep.substr(0, colon)), port(ep.substr(colon + 1));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "*") host = "127.0.0.1";
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    fail(2, endpoint, gai_strerror(rc));
  std::string why = "no address";
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      err = ETIMEDOUT;
      if (wait_for(fd, POLLOUT, deadline)) {
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err != 0) {
      why = std::strerror(err);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) fail(kExceededTimeLimit, endpoint, "cannot connect: " + why);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

ZmtpConnection::ZmtpConnection(const std::string& endpoint, int timeout_ms) : endpoint_(endpoint) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  fd_ = connect_tcp(endpoint, deadline);
  try {
    handshake(timeout_ms);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

ZmtpConnection::~ZmtpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void ZmtpConnection::handshake(int timeout_ms) {
  std::string hello = greeting() + ready_command();
  write_all(hello.data(), hello.size(), nullptr, 0, timeout_ms);
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  // The server's greeting, then its READY (a short command frame).
  for (;;) {
    if (in_.size() >= kGreeting + 2 && in_.size() >= kGreeting + 2 + size_t(uint8_t(in_[65])))
      break;
    if (!wait_for(fd_, POLLIN, deadline)) fail(kExceededTimeLimit, endpoint_, "no handshake");
    char buf[512];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      fail(kExceededTimeLimit, endpoint_, "the server closed the connection in the handshake");
    if (n > 0) in_.append(buf, size_t(n));
  }
  auto u = [&](size_t i) { return uint8_t(in_[i]); };
  if (u(0) != 0xff || (u(9) & 1) != 1 || u(10) < 3 || in_.compare(12, 5, std::string("NULL\0", 5)))
    fail(kExceededTimeLimit, endpoint_, "the server does not speak ZMTP 3 with the NULL mechanism");
  if ((u(64) & kCommand) == 0 || in_.compare(66, 6, "\x05READY") != 0)
    fail(kExceededTimeLimit, endpoint_, "the server did not accept the handshake");
  in_off_ = kGreeting + 2 + u(65);
}

void ZmtpConnection::write_all(const char* head, size_t head_n, const char* body, size_t body_n,
                               int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (head_n + body_n > 0) {
    iovec iov[2] = {{const_cast<char*>(head), head_n}, {const_cast<char*>(body), body_n}};
    msghdr m{};
    m.msg_iov = head_n ? iov : iov + 1;
    m.msg_iovlen = head_n ? 2 : 1;
    ssize_t n = ::sendmsg(fd_, &m, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && wait_for(fd_, POLLOUT, deadline)) continue;
      broken_ = broken_ || errno != EAGAIN;
      fail(kExceededTimeLimit, endpoint_,
           errno == EAGAIN ? "could not send within the time limit" : "connection lost");
    }
    size_t sent = size_t(n), h = std::min(sent, head_n);
    head += h, head_n -= h, sent -= h;
    body += sent, body_n -= sent;
  }
}

void ZmtpConnection::send(std::string_view body, int timeout_ms) {
  if (broken_) fail(kExceededTimeLimit, endpoint_, "connection lost");
  char head[9];
  size_t head_n;
  if (body.size() <= 255) {
    head[0] = 0, head[1] = char(body.size()), head_n = 2;
  } else {
    head[0] = char(kLong), head_n = 9;
    for (int i = 0; i < 8; ++i) head[1 + i] = char(uint64_t(body.size()) >> (56 - 8 * i));
  }
  write_all(head, head_n, body.data(), body.size(), timeout_ms);
}

// Hands over every complete message in in_, moving in_off_ past each.
void ZmtpConnection::parse(const std::function<void(std::string_view)>& on_message, bool& got) {
  size_t at = in_off_;
  for (;;) {
    size_t avail = in_.size() - at;
    if (avail < 2) return;
    auto flags = uint8_t(in_[at]);
    size_t head = (flags & kLong) ? 9 : 2, size = 0;
    if (avail < head) return;
    if (flags & kLong) {
      for (int i = 0; i < 8; ++i) size = (size << 8) | uint8_t(in_[at + 1 + size_t(i)]);
    } else {
      size = uint8_t(in_[at + 1]);
    }
    if (avail - head < size) return;
    std::string_view body(in_.data() + at + head, size);
    at += head + size;
    in_off_ = at;  // consumed even when on_message throws
    if (flags & kCommand) {
      if (body.size() >= 5 && body.substr(0, 5) == "\x04PING") {
        // PONG echoes the ping's context (after the 2-byte TTL).
        std::string pong("\x04PONG", 5);
        if (body.size() > 7) pong.append(body.substr(7));
        char h[2] = {char(kCommand), char(pong.size())};
        write_all(h, 2, pong.data(), pong.size(), 1000);
      } else if (body.size() >= 6 && body.substr(0, 6) ==
                                         "\x05"
                                         "ERROR") {
        broken_ = true;
      }
      continue;
    }
    if (flags & kMore) continue;  // keep the last frame only: the body
    got = true;
    on_message(body);
  }
}

bool ZmtpConnection::read_available(const std::function<void(std::string_view)>& on_message) {
  bool got = false;
  for (;;) {
    // Into a buffer kept across calls, then appended: resizing in_ by the read size would
    // zero-fill 64 KiB per read (measured: 17% of a 50-client bench's CPU in memset).
    if (scratch_.empty()) scratch_.resize(kReadSize);
    ssize_t n = ::recv(fd_, scratch_.data(), kReadSize, 0);
    if (n > 0) in_.append(scratch_.data(), size_t(n));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      broken_ = true;
      break;
    }
    if (n < 0) break;
    parse(on_message, got);
    if (in_off_ == in_.size()) {
      in_.clear(), in_off_ = 0;
    } else if (in_off_ > (1u << 20)) {
      in_.erase(0, in_off_), in_off_ = 0;
    }
    if (size_t(n) < kReadSize) break;  // the socket is drained
  }
  return got;
}

}  // namespace mg::client
