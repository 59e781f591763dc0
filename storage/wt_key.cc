// storage/wt_key.cc — the key encoding described in wt_key.h.
#include "storage/wt_key.h"

#include <cmath>
#include <cstring>

namespace mg {

namespace {

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(char(uint8_t(v >> (8 * i))));
}

// IEEE-754 bits rearranged so that unsigned comparison follows numeric order.
uint64_t ordered_bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  return (u >> 63) ? ~u : u | (uint64_t(1) << 63);
}

}  // namespace

void wt_key_of(MpView id, std::string& out) {
  switch (id.type()) {
    case MpType::Int:
    case MpType::Float: {
      double d = id.as_double();
      out.push_back('N');
      put_be(out, std::isnan(d) ? 0 : ordered_bits(d == 0 ? 0.0 : d), 8);
      if (id.type() == MpType::Int) {
        out.push_back('i');
        put_be(out, uint64_t(id.as_int()) ^ (uint64_t(1) << 63), 8);
      } else {
        out.push_back('f');
        put_be(out, ordered_bits(d), 8);
      }
      return;
    }
    case MpType::Str:
      out.push_back('S');
      out += id.as_str();
      return;
    case MpType::Bin:
      out.push_back('b');
      out += id.as_bin();
      return;
    case MpType::Bool:
      out.push_back('o');
      out.push_back(id.as_bool() ? 1 : 0);
      return;
    case MpType::Date: {
      Date dt = id.as_date();
      out.push_back('t');
      put_be(out, uint64_t(dt.sec) ^ (uint64_t(1) << 63), 8);
      put_be(out, dt.nsec, 4);
      return;
    }
    default:
      out.push_back('z');
      out += id.bytes();
  }
}

}  // namespace mg
