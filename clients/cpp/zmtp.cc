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

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "clients/cpp/client.h"
#include "protocol/zmtp_frame.h"

namespace mg::client {

namespace {

using Clock = std::chrono::steady_clock;

using zmtp::FrameHead;
using zmtp::kCommand;
using zmtp::kMore;
constexpr size_t kGreeting = zmtp::kGreetingSize;
constexpr size_t kReadSize = 256 * 1024;  // the room a recv() is offered, at least
constexpr size_t kMinRoom = 16 * 1024;    // less room than this: compact or grow first

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

ZmtpConnection::ZmtpConnection(const std::string& endpoint, int timeout_ms,
                               std::string_view socket_type)
    : endpoint_(endpoint) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  fd_ = connect_tcp(endpoint, deadline);
  try {
    handshake(socket_type, timeout_ms);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

ZmtpConnection::~ZmtpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void ZmtpConnection::handshake(std::string_view socket_type, int timeout_ms) {
  std::string hello = zmtp::hello(socket_type);
  write_all(hello.data(), hello.size(), nullptr, 0, timeout_ms);
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  // The server's greeting, then its READY command.
  FrameHead ready;
  for (;;) {
    size_t avail = end_ - begin_;
    if (avail >= kGreeting && ready.parse(buf_.get() + kGreeting, avail - kGreeting) &&
        ready.whole(avail - kGreeting))
      break;
    bool drained;
    if (fill(drained) == 0) {
      if (broken_)
        fail(kExceededTimeLimit, endpoint_, "the server closed the connection in the handshake");
      if (!wait_for(fd_, POLLIN, deadline)) fail(kExceededTimeLimit, endpoint_, "no handshake");
    }
  }
  const char* in = buf_.get();
  if (!zmtp::valid_greeting(std::string_view(in, kGreeting)))
    fail(kExceededTimeLimit, endpoint_, "the server does not speak ZMTP 3 with the NULL mechanism");
  std::string_view body(in + kGreeting + ready.head, ready.size);
  if ((ready.flags & kCommand) == 0 || body.substr(0, 6) != "\x05READY")
    fail(kExceededTimeLimit, endpoint_, "the server did not accept the handshake");
  begin_ = kGreeting + ready.head + ready.size;
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
  write_all(head, zmtp::put_head(head, 0, body.size()), body.data(), body.size(), timeout_ms);
}

void ZmtpConnection::command(std::string_view body) {
  std::string_view name, data;
  if (!zmtp::split_command(body, name, data)) return;
  if (name == "PING") {
    std::string pong = zmtp::pong_frame(data);
    write_all(pong.data(), pong.size(), nullptr, 0, 1000);
  } else if (name == "ERROR") {
    broken_ = true;
  }
}

// Parses from begin_ without moving it until a message is whole, so a message split across
// reads is parsed again from its first frame once the rest has come. A command between
// messages is consumed at once; one inside a message (libzmq sends none there) is handled
// each time the message is parsed.
bool ZmtpConnection::next_message(Frames& frames) {
  frames.clear();
  const char* buf = buf_.get();
  size_t at = begin_;
  for (;;) {
    FrameHead f;
    size_t avail = end_ - at;
    if (!f.parse(buf + at, avail) || !f.whole(avail)) return false;
    std::string_view body(buf + at + f.head, f.size);
    at += f.head + f.size;
    if (f.flags & kCommand) {
      if (frames.empty()) begin_ = at;  // consumed even when command() throws
      command(body);
      continue;
    }
    frames.push_back(body);
    if (!(f.flags & kMore)) {
      begin_ = at;
      return true;
    }
  }
}

size_t ZmtpConnection::fill(bool& drained) {
  drained = true;
  if (broken_) return 0;
  if (begin_ == end_) begin_ = end_ = 0;
  if (cap_ - end_ < kMinRoom) {  // room: move the unparsed bytes to the front, or grow
    if (begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_, begin_ = 0;
    }
    if (cap_ - end_ < kMinRoom) {
      size_t cap = std::max(2 * cap_, end_ + kReadSize);
      std::unique_ptr<char[]> bigger(new char[cap]);  // not zero-filled
      if (end_) std::memcpy(bigger.get(), buf_.get(), end_);
      buf_ = std::move(bigger), cap_ = cap;
    }
  }
  size_t room = cap_ - end_;
  for (;;) {
    ssize_t n = ::recv(fd_, buf_.get() + end_, room, 0);
    if (n > 0) {
      end_ += size_t(n);
      drained = size_t(n) < room;
      return size_t(n);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) broken_ = true;
    return 0;
  }
}

bool ZmtpConnection::read_available(const std::function<void(std::string_view)>& on_message) {
  bool got = false;
  for (bool drained = false;;) {
    // First what an earlier call left (a callback threw), then each read's messages.
    while (next_message(frames_)) {  // keep the last frame of each: the body
      got = true;
      on_message(frames_.back());
    }
    if (drained || fill(drained) == 0) break;
  }
  return got;
}

}  // namespace mg::client
