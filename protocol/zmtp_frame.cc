// protocol/zmtp_frame.cc — see zmtp_frame.h.
#include "protocol/zmtp_frame.h"

#include <strings.h>

#include <cstring>

namespace mg::zmtp {

std::string hello(std::string_view socket_type) {
  std::string g(kGreetingSize, '\0');
  g[0] = char(0xff), g[8] = 1, g[9] = 0x7f, g[10] = 3, g[11] = 0;
  std::memcpy(&g[12], "NULL", 4);
  std::string ready("\x05READY\x0bSocket-Type", 1 + 5 + 1 + 11);
  ready.append("\0\0\0", 3).append(1, char(socket_type.size())).append(socket_type);
  char h[9];
  g.append(h, put_head(h, kCommand, ready.size()));
  return g + ready;
}

bool valid_greeting(std::string_view g) {
  auto u = [&](size_t i) { return uint8_t(g[i]); };
  return g.size() >= kGreetingSize && u(0) == 0xff && (u(9) & 1) == 1 && u(10) >= 3 &&
         g.substr(12, 5) == std::string_view("NULL\0", 5);
}

bool FrameHead::parse(const char* p, size_t avail) {
  if (avail < 2) return false;
  flags = uint8_t(p[0]);
  head = (flags & kLong) ? 9 : 2;
  if (avail < head) return false;
  size = 0;
  if (flags & kLong) {
    for (size_t i = 1; i < 9; ++i) size = (size << 8) | uint8_t(p[i]);
  } else {
    size = uint8_t(p[1]);
  }
  return true;
}

size_t put_head(char* p, uint8_t flags, size_t size) {
  if (size <= 255) {
    p[0] = char(flags), p[1] = char(size);
    return 2;
  }
  p[0] = char(flags | kLong);
  for (int i = 0; i < 8; ++i) p[1 + i] = char(uint64_t(size) >> (56 - 8 * i));
  return 9;
}

bool split_command(std::string_view body, std::string_view& name, std::string_view& data) {
  if (body.empty() || body.size() < 1 + size_t(uint8_t(body[0]))) return false;
  name = body.substr(1, uint8_t(body[0]));
  data = body.substr(1 + name.size());
  return true;
}

std::string_view property(std::string_view props, std::string_view name) {
  while (!props.empty()) {
    size_t n = uint8_t(props[0]);
    if (props.size() < 1 + n + 4) return {};
    std::string_view key = props.substr(1, n);
    size_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | uint8_t(props[1 + n + i]);
    if (props.size() < 1 + n + 4 + v) return {};
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), key.size()) == 0)
      return props.substr(1 + n + 4, v);
    props.remove_prefix(1 + n + 4 + v);
  }
  return {};
}

std::string pong_frame(std::string_view ping_data) {
  std::string pong("\x04PONG", 5);
  if (ping_data.size() > 2) pong.append(ping_data.substr(2, 16));  // the context, after the TTL
  char h[9];
  return std::string(h, put_head(h, kCommand, pong.size())) + pong;
}

}  // namespace mg::zmtp
