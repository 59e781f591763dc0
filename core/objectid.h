// core/objectid.h — generation of `_id` values (CONTRACT.md §4).
//
// A 24-character lowercase hex string: 4 bytes of seconds since the epoch (big-endian), 5 random
// bytes chosen once per process, and a 3-byte counter starting at a random value. Thread-safe.
#pragma once

#include <string>

namespace mg {

// Writes 24 hex characters to out (no terminator).
void new_object_id(char out[24]);
std::string new_object_id();

}  // namespace mg
