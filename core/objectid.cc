#include "core/objectid.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>

namespace mg {

namespace {
struct ProcessBits {
  uint8_t random[5];
  std::atomic<uint32_t> counter;
  ProcessBits() {
    std::random_device rd;
    for (auto& b : random) b = uint8_t(rd());
    counter = rd() & 0xffffff;
  }
};
ProcessBits& bits() {
  static ProcessBits b;
  return b;
}
}  // namespace

void new_object_id(char out[24]) {
  static const char* hex = "0123456789abcdef";
  auto secs = uint32_t(std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
  ProcessBits& b = bits();
  // The first 18 digits (time, then the process's random bytes) change once a second: kept
  // per thread, written again when the second changes.
  struct Head {
    uint32_t secs = 0;
    bool set = false;
    char digits[18];
  };
  thread_local Head head;
  if (!head.set || head.secs != secs) {
    uint8_t raw[9] = {uint8_t(secs >> 24), uint8_t(secs >> 16), uint8_t(secs >> 8), uint8_t(secs)};
    for (int i = 0; i < 5; ++i) raw[4 + i] = b.random[i];
    for (int i = 0; i < 9; ++i) {
      head.digits[2 * i] = hex[raw[i] >> 4];
      head.digits[2 * i + 1] = hex[raw[i] & 15];
    }
    head.secs = secs, head.set = true;
  }
  std::memcpy(out, head.digits, 18);
  uint32_t c = b.counter.fetch_add(1, std::memory_order_relaxed);
  for (int i = 5; i >= 0; --i, c >>= 4) out[18 + i] = hex[c & 15];
}

bool may_collide_with_generated(std::string_view id) {
  if (id.size() != 24) return false;
  static const char* hex = "0123456789abcdef";
  const uint8_t* r = bits().random;
  for (int i = 0; i < 5; ++i)
    if (id[8 + 2 * i] != hex[r[i] >> 4] || id[9 + 2 * i] != hex[r[i] & 15]) return false;
  return true;
}

std::string new_object_id() {
  std::string s(24, '0');
  new_object_id(s.data());
  return s;
}

}  // namespace mg
