// core/compare.h — MongoDB's total order over values (CONTRACT.md §4).
//
// nil < numbers (int and float compared by value) < strings (bytewise) < maps < arrays < bin
// < bool < dates. Maps compare pair by pair (type rank of the value, then key, then value),
// arrays element by element; a shorter prefix is smaller. NaN sorts below every other number
// and equals itself, as in MongoDB.
#pragma once

#include "core/msgpack.h"

namespace mg {

// Rank of a type in the order above (0 = nil ... 7 = date). Int and Float share a rank.
int type_rank(MpType t);

// <0, 0, >0 as a is less than, equal to, greater than b.
int compare_values_slow(MpView a, MpView b);
inline int compare_values(MpView a, MpView b) {
  uint8_t ha = *a.data(), hb = *b.data();
  if (ha >= 0xa0 && ha <= 0xbf && hb >= 0xa0 && hb <= 0xbf) {  // two short strings: the hot case
    size_t la = ha & 0x1f, lb = hb & 0x1f;
    int c = std::memcmp(a.data() + 1, b.data() + 1, la < lb ? la : lb);
    if (c != 0) return c < 0 ? -1 : 1;
    return la < lb ? -1 : (la > lb ? 1 : 0);
  }
  if (ha <= 0x7f && hb <= 0x7f) return ha < hb ? -1 : (ha > hb ? 1 : 0);  // two small ints
  return compare_values_slow(a, b);
}

inline bool values_equal(MpView a, MpView b) {
  return compare_values(a, b) == 0;
}

// Compares two numbers by value: int64 and double, without precision loss.
int compare_numbers(MpView a, MpView b);

}  // namespace mg
