// protocol/zmtp_pub_session.cc — see zmtp_pub_session.h.
#include "protocol/zmtp_pub_session.h"

#include <algorithm>

#include "protocol/zmtp_frame.h"

namespace mg::zmtp {

bool PubSession::feed(std::string_view bytes) {
  if (why_) return false;
  if (in_.empty()) {  // the usual case: whole frames, parsed in place
    int64_t used = parse(bytes);
    if (used < 0) return false;
    in_.assign(bytes.substr(size_t(used)));
    return true;
  }
  in_.append(bytes);
  int64_t used = parse(in_);
  if (used < 0) {
    in_.clear();
    return false;
  }
  in_.erase(0, size_t(used));
  return true;
}

int64_t PubSession::parse(std::string_view bytes) {
  size_t at = 0;
  if (!greeted_) {
    if (!bytes.empty() && uint8_t(bytes[0]) != 0xff) {
      fail("not a ZMTP 3 greeting");
      return -1;
    }
    if (bytes.size() < kGreetingSize) return 0;
    if (!valid_greeting(bytes)) {
      fail("not a ZMTP 3 greeting with NULL");
      return -1;
    }
    greeted_ = true, at = kGreetingSize;
  }
  for (FrameHead f; f.parse(bytes.data() + at, bytes.size() - at);) {
    if (f.size > limits_.max_frame) {
      fail("frame too long");
      return -1;
    }
    if (!f.whole(bytes.size() - at)) break;
    std::string_view body = bytes.substr(at + f.head, f.size);
    at += f.head + f.size;
    if (f.flags & kCommand) {
      if (!command(body)) return -1;
      continue;
    }
    if (!ready_) {
      fail("data before READY");
      return -1;
    }
    bool first = !in_message_;
    in_message_ = f.flags & kMore;
    if (first && !body.empty() && uint8_t(body[0]) <= 1 &&
        !subscribe(body.substr(1), body[0] == 1))  // 0x01 + prefix subscribes, 0x00 cancels
      return -1;
  }
  return int64_t(at);
}

bool PubSession::command(std::string_view body) {
  std::string_view name, data;
  if (!split_command(body, name, data)) return fail("bad command");
  if (name == "READY") {
    if (ready_) return fail("second READY");
    std::string_view type = property(data, "Socket-Type");
    ready_ = type == "SUB" || type == "XSUB";
    return ready_ || fail("READY from a socket other than SUB or XSUB");
  }
  if (!ready_) return fail("command before READY");
  if (name == "SUBSCRIBE" || name == "CANCEL") return subscribe(data, name == "SUBSCRIBE");
  if (name == "PING") pong_ = pong_frame(data);
  if (name == "ERROR") return fail("ERROR from the peer");
  return true;
}

bool PubSession::subscribe(std::string_view prefix, bool on) {
  if (prefix.size() > limits_.max_prefix) return true;  // matches no topic: ignored
  auto it = std::find(subs_.begin(), subs_.end(), prefix);
  if (!on) {
    if (it != subs_.end()) subs_.erase(it);
    return true;
  }
  if (it != subs_.end()) return true;
  if (subs_.size() >= limits_.max_subscriptions) return fail("too many subscriptions");
  subs_.emplace_back(prefix);
  return true;
}

bool PubSession::matches(std::string_view topic) const {
  for (auto& s : subs_)
    if (topic.substr(0, s.size()) == s) return true;
  return false;
}

}  // namespace mg::zmtp
