// core/compare.h — MongoDB's total order over values (CONTRACT.md §4).
//
// nil < numbers (int and float compared by value) < strings (bytewise) < maps < arrays < bin
// < bool < dates. Maps compare pair by pair (type rank of the value, then key, then value),
// arrays element by element; a shorter prefix is smaller. NaN sorts below every other number
// and equals itself, as in MongoDB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/msgpack.h"

namespace mg {

// Rank of a type in the order above (0 = nil ... 7 = date). Int and Float share a rank.
int type_rank(MpType t);

// Lexicographic order of two short byte strings, inline (no libc call): 8 bytes per step and
// the last 8 (overlapping) for 8 bytes or more, two overlapping 4-byte loads for 4 to 7.
[[gnu::always_inline]] inline int compare_short_bytes(const uint8_t* a, size_t la, const uint8_t* b,
                                                      size_t lb) {
  size_t n = la < lb ? la : lb;
  if (n >= 8) {
    const uint8_t* last_a = a + n - 8;
    const uint8_t* last_b = b + n - 8;
    uint64_t x, y;
    for (; a < last_a; a += 8, b += 8) {
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
    }
    std::memcpy(&x, last_a, 8);  // bytes before it are equal: its order is the rest's
    std::memcpy(&y, last_b, 8);
    if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
  } else if (n >= 4) {
    uint32_t x, y;
    std::memcpy(&x, a, 4);
    std::memcpy(&y, b, 4);
    if (x != y) return __builtin_bswap32(x) < __builtin_bswap32(y) ? -1 : 1;
    std::memcpy(&x, a + n - 4, 4);
    std::memcpy(&y, b + n - 4, 4);
    if (x != y) return __builtin_bswap32(x) < __builtin_bswap32(y) ? -1 : 1;
  } else {
    for (size_t i = 0; i < n; ++i)
      if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return la < lb ? -1 : (la > lb ? 1 : 0);
}

// <0, 0, >0 as a is less than, equal to, greater than b.
int compare_values_slow(MpView a, MpView b);
inline int compare_values(MpView a, MpView b) {
  uint8_t ha = *a.data(), hb = *b.data();
  if (ha >= 0xa0 && ha <= 0xbf && hb >= 0xa0 && hb <= 0xbf)  // two short strings: the hot case
    return compare_short_bytes(a.data() + 1, ha & 0x1f, b.data() + 1, hb & 0x1f);
  if (ha <= 0x7f && hb <= 0x7f) return ha < hb ? -1 : (ha > hb ? 1 : 0);  // two small ints
  return compare_values_slow(a, b);
}

// MongoDB's truthiness ($exists, $cond, $and ...): false, null, missing (an invalid view) and
// numeric zero are false; everything else (empty strings and arrays included) is true.
bool truthy(MpView v);

inline bool values_equal(MpView a, MpView b) {
  return compare_values(a, b) == 0;
}

// Compares two numbers by value: int64 and double, without precision loss.
int compare_numbers(MpView a, MpView b);

}  // namespace mg
