// core/index_key.cc — the order-preserving key encoding (see index_key.h).
#include "core/index_key.h"

#include <bit>
#include <cmath>

#include "core/compare.h"

namespace mg {

namespace {

constexpr uint8_t kTagStep = 0x10;

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
  if (v.type() == MpType::Int) {
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

// True when one of the n bytes at p is 00 (eight at a time).
static bool has_zero_byte(const uint8_t* p, size_t n) {
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    if ((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull) return true;
  }
  for (; n > 0; --n, ++p)
    if (*p == 0) return true;
  return false;
}

void append_index_key(MpView v, bool descending, std::string& out) {
  size_t from = out.size();
  const uint8_t* p = v.data();
  uint8_t h = *p;
  if ((h & 0xe0) == 0xa0 && !has_zero_byte(p + 1, h & 0x1f)) {  // a short string, no escape
    size_t len = h & 0x1f;
    out.resize(from + len + 3);  // the terminator 00 00 comes from the resize
    char* o = out.data() + from;
    o[0] = char(tag_of(MpType::Str));
    std::memcpy(o + 1, p + 1, len);
  } else if (h <= 0x7f || h >= 0xe0 || (h >= 0xca && h <= 0xd3)) {  // a number
    uint64_t bits;
    uint16_t delta;
    number_parts(v, bits, delta);
    char buf[11];
    buf[0] = char(tag_of(MpType::Int));
    bits = __builtin_bswap64(bits);
    std::memcpy(buf + 1, &bits, 8);
    buf[9] = char(delta >> 8), buf[10] = char(delta);
    out.append(buf, 11);
  } else {
    put_value(v, out);
  }
  if (descending) invert_from(out, from);
}

void append_type_edge(int rank, int side, bool descending, std::string& out) {
  uint8_t tag = uint8_t(kTagStep * (rank + 1));
  uint8_t b = side < 0 ? uint8_t(tag - 1) : uint8_t(tag + 1);
  out.push_back(char(descending ? uint8_t(~b) : b));
}

// The ascending prefix; descending is its complement (monotone too, and one convention for
// every value: the fast and the general path agree).
static uint64_t ascending_prefix(MpView v) {
  const uint8_t* p = v.data();
  uint8_t h = *p;
  bool fix = (h & 0xe0) == 0xa0;
  if (fix || h == 0xd9) {  // a string of up to 255 bytes: the hot case
    size_t len = fix ? (h & 0x1f) : p[1];
    const uint8_t* s = p + (fix ? 1 : 2);
    uint64_t x;
    if (len >= 7) {  // the 8 bytes ending with the 7th: all within the value
      std::memcpy(&x, s - 1, 8);
      x = __builtin_bswap64(x) & 0x00ffffffffffffffull;
    } else {
      x = 0;
      for (size_t i = 0; i < len; ++i) x |= uint64_t(s[i]) << (48 - 8 * i);
    }
    // No 00 among the (up to) 7 bytes: no escape, and the terminator (00 00) of a short
    // string falls in the zero padding.
    uint64_t lanes = x | (uint64_t(0xff) << 56) | (len < 7 ? (~uint64_t(0) >> (8 + 8 * len)) : 0);
    if (!((lanes - 0x0101010101010101ull) & ~lanes & 0x8080808080808080ull))
      return uint64_t(tag_of(MpType::Str)) << 56 | x;
  } else if (h <= 0x7f || h >= 0xe0 || (h >= 0xca && h <= 0xd3)) {  // a number
    uint64_t bits;
    uint16_t delta;
    number_parts(v, bits, delta);
    return uint64_t(tag_of(MpType::Int)) << 56 | bits >> 8;
  }
  thread_local std::string scratch;
  scratch.clear();
  append_index_key(v, false, scratch);
  return index_key_prefix(scratch);
}

uint64_t index_key_prefix(MpView v, bool descending) {
  uint64_t x = ascending_prefix(v);
  return descending ? ~x : x;
}

}  // namespace mg
