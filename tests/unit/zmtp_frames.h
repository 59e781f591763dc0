// tests/unit/zmtp_frames.h — ZMTP frames and commands as a peer writes them, for the tests of
// the daemon's own ZMTP sessions (zmtp_pub_session_test, zmtp_router_session_test).
#pragma once

#include <string>
#include <string_view>

#include "protocol/zmtp_frame.h"

namespace mg::zmtp::testing {

inline std::string frame(uint8_t flags, std::string_view body) {
  char h[9];
  return std::string(h, put_head(h, flags, body.size())).append(body);
}
inline std::string command(std::string_view name, std::string_view data) {
  return frame(kCommand, std::string(1, char(name.size())).append(name).append(data));
}

}  // namespace mg::zmtp::testing
