// core/objectid.h — generation of `_id` values (CONTRACT.md §4).
//
// A 24-character lowercase hex string: 4 bytes of seconds since the epoch (big-endian), 5 random
// bytes chosen once per process, and a 3-byte counter starting at a random value. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mg {

// Writes 24 hex characters to out (no terminator).
void new_object_id(char out[24]);
std::string new_object_id();

// True when `id` could equal an ObjectId this process generates: 24 characters whose
// process-random part (characters 8..17) is this process's. Ids from other processes (or
// earlier runs) never can, so a collection may skip the `_id` uniqueness probe for the ids it
// generates until it has seen such an id from a client.
bool may_collide_with_generated(std::string_view id);

}  // namespace mg
