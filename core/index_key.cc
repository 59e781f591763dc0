// core/index_key.cc — the order-preserving key encoding (see index_key.h).
#include "core/index_key.h"

#include <bit>
#include <cmath>

#include "core/compare.h"

namespace mg {

namespace {

constexpr uint8_t kTagStep = 0x10;
constexpr uint8_t kTagNumber = 0x20, kTagString = 0x30;  // tag_of(Int), tag_of(Str)

uint8_t tag_of(MpType t) {
  return uint8_t(kTagStep * (type_rank(t) + 1));
}

void put_be(std::string& out, uint64_t v, int bytes) {
  char buf[8];
  for (int i = 0; i < bytes; ++i) buf[i] = char(v >> (8 * (bytes - 1 - i)));
  out.append(buf, size_t(bytes));
}

// A string body: each 00 as 00 ff, then the terminator 00 00.
void put_escaped(std::string& out, std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  while (n > 0) {
    const void* z = std::memchr(p, 0, n);
    if (!z) {
      out.append(p, n);
      break;
    }
    size_t k = size_t(static_cast<const char*>(z) - p);
    out.append(p, k);
    out.append("\0\xff", 2);
    p += k + 1;
    n -= k + 1;
  }
  out.append("\0\0", 2);
}

// The 8 ordered bytes and the 2-byte correction of a number (see the header).
void number_parts(MpView v, uint64_t& bits, uint16_t& delta) {
  double d;
  int64_t diff = 0;
  uint8_t h = *v.data();
  if (h <= 0x7f || h >= 0xe0) {  // a fixint: exact as a double
    d = double(int8_t(h));
  } else if (v.type() == MpType::Int) {
    int64_t i = v.as_int();
    d = double(i);  // round to nearest
    if (d >= 9223372036854775808.0)
      diff = (i - INT64_MAX) - 1;  // i - 2^63
    else
      diff = i - int64_t(d);
  } else {
    d = v.as_double();
    if (std::isnan(d)) {
      bits = 0;
      delta = 0x8000;
      return;
    }
    if (d == 0) d = 0;  // -0.0 equals 0
  }
  uint64_t u = std::bit_cast<uint64_t>(d);
  bits = (u >> 63) ? ~u : (u | (uint64_t(1) << 63));
  delta = uint16_t(0x8000 + diff);  // |diff| <= 512
}

void put_value(MpView v, std::string& out) {
  MpType t = v.type();
  out.push_back(char(tag_of(t)));
  switch (t) {
    case MpType::Nil:
      return;
    case MpType::Int:
    case MpType::Float: {
      uint64_t bits;
      uint16_t delta;
      number_parts(v, bits, delta);
      put_be(out, bits, 8);
      put_be(out, delta, 2);
      return;
    }
    case MpType::Str:
      return put_escaped(out, v.as_str());
    case MpType::Bin: {
      std::string_view b = v.as_bin();
      put_be(out, b.size(), 4);
      out.append(b);
      return;
    }
    case MpType::Bool:
      out.push_back(char(v.as_bool() ? 1 : 0));
      return;
    case MpType::Date: {
      Date dt = v.as_date();
      put_be(out, uint64_t(dt.sec) ^ (uint64_t(1) << 63), 8);
      put_be(out, dt.nsec, 4);
      return;
    }
    case MpType::Array: {
      ArrayIter it(v);
      MpView e;
      while (it.next(e)) put_value(e, out);
      out.push_back('\0');
      return;
    }
    case MpType::Map: {
      MapIter it(v);
      std::string_view k;
      MpView e;
      while (it.next(k, e)) {
        out.push_back(char(tag_of(e.type())));
        put_escaped(out, k);
        put_value(e, out);
      }
      out.push_back('\0');
      return;
    }
  }
}

void invert_from(std::string& out, size_t from) {
  for (size_t i = from; i < out.size(); ++i) out[i] = char(~uint8_t(out[i]));
}

}  // namespace

// True when one of the n bytes at p is 00: eight at a time and the last eight (overlapping),
// two overlapping 4-byte words for 4 to 7.
static bool has_zero_byte(const uint8_t* p, size_t n) {
  auto zero_in = [](uint64_t x, uint64_t ones) { return ((x - ones) & ~x & (ones << 7)) != 0; };
  if (n >= 8) {
    uint64_t x;
    for (; n > 8; n -= 8, p += 8) {
      std::memcpy(&x, p, 8);
      if (zero_in(x, 0x0101010101010101ull)) return true;
    }
    std::memcpy(&x, p + n - 8, 8);
    return zero_in(x, 0x0101010101010101ull);
  }
  if (n >= 4) {
    uint32_t x, y;
    std::memcpy(&x, p, 4);
    std::memcpy(&y, p + n - 4, 4);
    return zero_in(x, 0x01010101u) || zero_in(y, 0x01010101u);
  }
  for (; n > 0; --n, ++p)
    if (*p == 0) return true;
  return false;
}

size_t encode_short(MpView v, bool descending, char* out) {
  const uint8_t* p = v.data();
  uint8_t h = *p;
  size_t n;
  if ((h & 0xe0) == 0xa0) {  // a fixstr
    size_t len = h & 0x1f;
    if (has_zero_byte(p + 1, len)) return 0;  // escapes: the general path
    out[0] = char(kTagString);
    std::memcpy(out + 1, p + 1, len);
    out[len + 1] = 0, out[len + 2] = 0;
    n = len + 3;
  } else if (h <= 0x7f || h >= 0xe0 || (h >= 0xca && h <= 0xd3)) {  // a number
    uint64_t bits;
    uint16_t delta;
    number_parts(v, bits, delta);
    out[0] = char(kTagNumber);
    bits = __builtin_bswap64(bits);
    std::memcpy(out + 1, &bits, 8);
    out[9] = char(delta >> 8), out[10] = char(delta);
    n = 11;
  } else {
    return 0;
  }
  if (descending)
    for (size_t i = 0; i < n; ++i) out[i] = char(~uint8_t(out[i]));
  return n;
}

void append_index_key(MpView v, bool descending, std::string& out) {
  char buf[kShortKeyMax];
  if (size_t n = encode_short(v, descending, buf)) {
    out.append(buf, n);
    return;
  }
  size_t from = out.size();
  put_value(v, out);
  if (descending) invert_from(out, from);
}

void append_type_edge(int rank, int side, bool descending, std::string& out) {
  uint8_t tag = uint8_t(kTagStep * (rank + 1));
  uint8_t b = side < 0 ? uint8_t(tag - 1) : uint8_t(tag + 1);
  out.push_back(char(descending ? uint8_t(~b) : b));
}

// The ascending prefix; descending is its complement (monotone too, and one convention for
// every value: the fast and the general path agree).
static KeyPrefix ascending_prefix(MpView v) {
  const uint8_t* p = v.data();
  uint8_t h = *p;
  bool fix = (h & 0xe0) == 0xa0;
  if (fix || h == 0xd9) {  // a string of up to 255 bytes: the hot case
    size_t len = fix ? (h & 0x1f) : p[1];
    const uint8_t* s = p + (fix ? 1 : 2);
    // The tag, then the first 11 bytes (zero-padded: the terminator 00 00 of a shorter string
    // falls there) when none of them is 00 (an escape).
    if (len >= 11) {  // the header (or length byte) and 7 characters, then 4 more
      uint64_t hi;
      uint32_t lo;
      std::memcpy(&hi, s - 1, 8);
      std::memcpy(&lo, s + 7, 4);
      hi = (__builtin_bswap64(hi) & 0x00ffffffffffffffull) | uint64_t(kTagString) << 56;
      lo = __builtin_bswap32(lo);
      constexpr uint64_t kOnes = 0x0101010101010101ull;
      bool zero = ((hi - kOnes) & ~hi & (kOnes << 7)) ||
                  ((uint64_t(lo) - 0x01010101u) & ~uint64_t(lo) & 0x80808080u);
      if (!zero) return {hi, lo};
    } else {
      unsigned char buf[12] = {kTagString};
      bool zero = false;
      for (size_t i = 0; i < len; ++i) zero |= (buf[1 + i] = s[i]) == 0;
      if (!zero) return index_key_prefix(std::string_view(reinterpret_cast<const char*>(buf), 12));
    }
  } else if (h <= 0x7f || h >= 0xe0 || (h >= 0xca && h <= 0xd3)) {  // a number
    uint64_t bits;
    uint16_t delta;
    number_parts(v, bits, delta);
    return {uint64_t(kTagNumber) << 56 | bits >> 8, uint32_t(bits & 0xff) << 24 | uint32_t(delta)
                                                                                      << 8};
  }
  thread_local std::string scratch;
  scratch.clear();
  append_index_key(v, false, scratch);
  return index_key_prefix(scratch);
}

KeyPrefix index_key_prefix(MpView v, bool descending) {
  KeyPrefix x = ascending_prefix(v);
  return descending ? KeyPrefix{~x.hi, ~x.lo} : x;
}

}  // namespace mg
