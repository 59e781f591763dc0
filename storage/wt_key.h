// storage/wt_key.h — the WiredTiger key of a document: its `_id` as bytes that sort like the
// values (table `<Model>_docs`, key_format=u, compared bytewise, shorter first).
//
// The key is a type tag, chosen so that the tags follow MongoDB's order of types (numbers <
// strings < bin < bool < dates), then the value:
//
//   'N' number  8 bytes: the value as a double, order-preserving (sign bit flipped for >= 0,
//               all bits flipped for < 0; -0.0 as 0.0, NaN as all zeroes, so first), then
//               'f' + the float's own 8 order-preserving bytes, or 'i' + the int64 with its
//               sign bit flipped, big-endian. Ints and floats interleave by value; the suffix
//               keeps 1 and 1.0 (and ints beyond 2^53 that round to the same double) distinct.
//   'S' string  the UTF-8 bytes as they are (so `wt dump` shows ObjectIds readably).
//   'b' bin     the bytes as they are.
//   'o' bool    one byte, 0 or 1.
//   't' date    seconds as int64 with the sign bit flipped, big-endian, then nanoseconds as
//               uint32 big-endian.
//   'z' other   (maps, arrays, nil: not valid `_id`s, CONTRACT.md §4) the MessagePack bytes.
//
// Examples: "66a1f0c2e4b0a1b2c3d4e5f6" -> `S66a1f0c2e4b0a1b2c3d4e5f6`; 5 -> `N` c0 14 00 00 00 00
// 00 00 `i` 80 00 00 00 00 00 00 05. ObjectIds begin with their creation second, so generated
// ids arrive in key order and bulk inserts append at the right edge of the B-tree. The key is
// never decoded: the value (the whole document) holds the `_id`.
#pragma once

#include <string>

#include "core/msgpack.h"

namespace mg {

// Appends the key of `id` (a valid MessagePack value) to `out`. Deterministic: the same _id
// gives the same key whatever MessagePack encoding it came in (fixint or int64, ts32 or ts96).
void wt_key_of(MpView id, std::string& out);

}  // namespace mg
