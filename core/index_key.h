// core/index_key.h — an order-preserving binary encoding of values, for index keys.
//
// Contract: for any two values a and b, and either direction,
//   compare_values(a, b) (compare.h) has the sign of memcmp-order(enc(a), enc(b)) — the
//   bytes compared lexicographically, a proper prefix sorting first — negated for descending;
//   in particular a and b are equal under compare_values exactly when their encodings are the
//   same bytes (1, 1.0 and -0.0 encode alike; every NaN encodes alike).
// The encoding of one value is prefix-free (no encoding is a proper prefix of another), so the
// concatenation of the encodings of a fixed number of values (a compound key) orders
// lexicographically field by field, each field in its own direction.
//
// Layout, ascending (descending inverts every byte of the value's encoding). Each value
// starts with the tag of its type rank (compare.h), 0x10 apart:
//   nil     10
//   number  20, 8 bytes: the value rounded to the nearest double, its bits mapped so that
//           unsigned order is numeric order (NaN: all zero, below -inf); 2 bytes: the exact
//           int64's distance from that double, biased by 0x8000 (0 for doubles and for ints
//           within ±2^53): int64s beyond 2^53 keep their exact order among themselves and
//           with doubles
//   string  30, the bytes with each 00 written 00 ff, then 00 00
//   map     40, per pair: the tag of the value, the key as a string body (escaped, 00 00),
//           the value; then 00
//   array   50, the elements; then 00
//   bin     60, 4-byte big-endian length, the bytes (MongoDB orders bin by length first)
//   bool    70, 00 or 01
//   date    80, seconds (8 bytes, sign bit flipped), nanoseconds (4 bytes), big-endian
// Type-bracket edges (type_edge) are single bytes tag-1 and tag+1: they sort before / after
// every value of that rank and are a prefix of no value's encoding.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/msgpack.h"

namespace mg {

// Appends the encoding of `v` (a valid view) to `out`, bytes inverted when `descending`.
void append_index_key(MpView v, bool descending, std::string& out);

// The most bytes encode_short writes (a fixstr of 31 bytes).
inline constexpr size_t kShortKeyMax = 34;
// The common values without a std::string: writes the encoding of `v` to `out` when `v` is a
// number or a fixstr without 00 bytes and returns its size, else returns 0 having written
// nothing (append_index_key then).
size_t encode_short(MpView v, bool descending, char* out);

// Appends the edge of type bracket `rank` (type_rank): side < 0 sorts before every value of
// that rank, side > 0 after (both still between the neighbouring ranks).
void append_type_edge(int rank, int side, bool descending, std::string& out);

// The first 12 bytes of an encoding, zero-padded, as big-endian integers: bytes 0-7 in `hi`,
// 8-11 in `lo`. Ordered as (hi, lo), a.prefix < b.prefix implies a < b, so a comparison can
// stop there when the prefixes differ (12 bytes: a number's whole encoding but its last byte,
// a string's first 11 bytes).
struct KeyPrefix {
  uint64_t hi = 0;
  uint32_t lo = 0;
  friend bool operator==(const KeyPrefix&, const KeyPrefix&) = default;
  // -1, 0 or 1 as a sorts before, with, or after b.
  friend int compare(const KeyPrefix& a, const KeyPrefix& b) {
    if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
    return a.lo == b.lo ? 0 : (a.lo < b.lo ? -1 : 1);
  }
};

inline KeyPrefix index_key_prefix(std::string_view enc) {
  unsigned char buf[12] = {};
  std::memcpy(buf, enc.data(), enc.size() < 12 ? enc.size() : 12);
  uint64_t hi;
  uint32_t lo;
  std::memcpy(&hi, buf, 8);
  std::memcpy(&lo, buf + 8, 4);
  return {__builtin_bswap64(hi), __builtin_bswap32(lo)};
}

// A prefix of `v` with the same property, computed without writing the whole encoding: the
// ascending encoding's prefix, complemented when `descending`. (Not the same numbers as
// index_key_prefix(enc) of a descending encoding: compare prefixes of one kind only.)
KeyPrefix index_key_prefix(MpView v, bool descending);

}  // namespace mg
