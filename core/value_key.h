// core/value_key.h — a canonical encoding of a value, for hashing values by MongoDB equality.
//
// Two values are equal under compare_values (compare.h) exactly when their canonical encodings
// are the same bytes: integers take their smallest encoding, a double with an integral value in
// int64 range is written as that integer (1 and 1.0 group together), other doubles as float64
// (one NaN, 0.0 for -0.0), dates in one encoding, containers element by element. $group keys,
// $addToSet and $lookup's join use it.
#pragma once

#include <string>
#include <string_view>

#include "core/msgpack.h"

namespace mg {

// Appends the canonical encoding of `v` to `out`.
void canonical_key(MpView v, std::string& out);

// The canonical encoding of `v`: its own bytes when they already are (strings in their
// smallest encoding, small ints, nil, bool — the common keys, without copying), else written
// into `scratch` (a short string sent as str8 becomes the fixstr it equals).
inline std::string_view canonical_key_view(MpView v, std::string& scratch) {
  const uint8_t* p = v.data();
  uint8_t b = *p;
  bool minimal_str = (b >= 0xa0 && b <= 0xbf) || (b == 0xd9 && p[1] >= 32) ||
                     (b == 0xda && (p[1] << 8 | p[2]) >= 256) || (b == 0xdb && (p[1] | p[2]) != 0);
  if (minimal_str || b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
    return v.bytes();
  scratch.clear();
  canonical_key(v, scratch);
  return scratch;
}

}  // namespace mg
