// protocol/zmtp_router_session.cc — see zmtp_router_session.h.
#include "protocol/zmtp_router_session.h"

#include <algorithm>
#include <cstring>

#include "protocol/zmtp_frame.h"

namespace mg::zmtp {

namespace {
constexpr size_t kFirstBig = size_t(1) << 20;  // a big frame's first allocation
}

RouterSession::RouterSession(Limits limits) : limits_(limits), in_(new char[kBufferSize]) {}

bool RouterSession::feed(std::string_view bytes, std::vector<Request>& out) {
  if (why_) return false;
  while (!bytes.empty()) {
    size_t n = std::min(room(), bytes.size());
    std::memcpy(buffer(), bytes.data(), n);
    if (!received(n, out)) return false;
    bytes.remove_prefix(n);
  }
  return true;
}

bool RouterSession::received(size_t n, std::vector<Request>& out) {
  if (why_) return false;
  if (big_) {
    big_filled_ += n;
    if (big_filled_ == big_->size() && big_filled_ < big_size_)  // full so far: grow
      big_->resize(std::min(big_size_, 2 * big_filled_));
    if (big_filled_ < big_size_) return true;
    std::unique_ptr<std::string> body = std::move(big_);
    big_filled_ = 0;
    data_frame(big_flags_, std::move(*body), out);
    return true;
  }
  end_ += n;
  bool ok = parse(out);
  if (!ok) return false;
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0) {  // the start of a frame: to the front, so the rest fits behind it
    std::memmove(in_.get(), in_.get() + begin_, end_ - begin_);
    end_ -= begin_, begin_ = 0;
  }
  return true;
}

bool RouterSession::parse(std::vector<Request>& out) {
  const char* p = in_.get();
  if (!greeted_) {
    if (end_ > begin_ && uint8_t(p[begin_]) != 0xff) return fail("not a ZMTP 3 greeting");
    if (end_ - begin_ < kGreetingSize) return true;
    if (!valid_greeting(std::string_view(p + begin_, kGreetingSize)))
      return fail("not a ZMTP 3 greeting with NULL");
    greeted_ = true, begin_ += kGreetingSize;
  }
  for (FrameHead f; f.parse(p + begin_, end_ - begin_);) {
    bool is_command = f.flags & kCommand;
    if (is_command && f.size > limits_.max_command) return fail("command frame too long");
    if (!is_command && f.size > limits_.max_frame)
      return fail("request larger than the daemon's max request bytes");
    if (!is_command && !ready_) return fail("data before READY");
    size_t avail = end_ - begin_;
    if (!f.whole(avail)) {
      if (is_command || f.head + f.size <= kBufferSize) break;  // the rest fits: wait for it
      // Too big for the buffer: the rest goes straight into the frame's body.
      big_size_ = f.size;
      big_filled_ = avail - f.head;
      big_ =
          std::make_unique<std::string>(std::min(f.size, std::max(kFirstBig, big_filled_)), '\0');
      std::memcpy(big_->data(), p + begin_ + f.head, big_filled_);
      big_flags_ = f.flags;
      begin_ = end_ = 0;
      return true;
    }
    std::string_view body(p + begin_ + f.head, f.size);
    begin_ += f.head + f.size;
    if (is_command) {
      if (!command(body)) return false;
    } else if (f.flags & kMore) {
      if (frames_++ == 0) first_empty_ = body.empty();  // a frame before the last: not kept
    } else {
      data_frame(f.flags, std::string(body), out);
    }
  }
  return true;
}

void RouterSession::data_frame(uint8_t flags, std::string&& body, std::vector<Request>& out) {
  if (frames_++ == 0) first_empty_ = body.empty();
  if (flags & kMore) return;  // only the last frame is the body
  out.push_back(Request{frames_ >= 2 && first_empty_, std::move(body)});
  frames_ = 0, first_empty_ = false;
}

bool RouterSession::command(std::string_view body) {
  std::string_view name, data;
  if (!split_command(body, name, data)) return fail("bad command");
  if (name == "READY") {
    if (ready_) return fail("second READY");
    std::string_view type = property(data, "Socket-Type");
    ready_ = type == "REQ" || type == "DEALER" || type == "ROUTER";
    return ready_ || fail("READY from a socket other than REQ, DEALER or ROUTER");
  }
  if (!ready_) return fail("command before READY");
  if (name == "PING") pong_ = pong_frame(data);
  if (name == "ERROR") return fail("ERROR from the peer");
  return true;
}

}  // namespace mg::zmtp
