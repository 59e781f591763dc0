// core/ejson.h — MongoDB Extended JSON <-> MessagePack, for the file and SQLite backends, the
// CLI and tests.
//
// Mapping (CONTRACT.md §8): nil <-> null, bool, int <-> JSON integer, float <-> JSON number
// with a fraction or exponent (always written with one, so floats stay floats; NaN and
// infinities as {"$numberDouble": "NaN" | "Infinity" | "-Infinity"}), str, array, map <->
// object in order, bin <-> {"$binary": "<base64>"}, date <-> {"$date": "2024-01-02T03:04:05.678Z"}
// (millisecond precision; {"$date": {"$numberLong": "<ms>"}} and {"$date": <ms>} are read too).
// Integers beyond int64 are read as floats.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/msgpack.h"

namespace mg {

// Parses one JSON value (surrounding whitespace allowed) and appends its MessagePack encoding
// to `out`. Returns FailedToParse with the offset for bad JSON, BadValue for a bad $date or
// $binary. Depth is limited to 100 levels of nesting + 2.
Status ejson_to_msgpack(std::string_view json, std::string& out);

// Appends the Extended JSON text of a validated value to `out` (no newline).
void msgpack_to_ejson(MpView v, std::string& out);

// Convenience for tests and tools: throws Error on bad input.
std::string mp_from_json(std::string_view json);
std::string json_from_mp(std::string_view msgpack);

// ISO-8601 UTC with milliseconds ("1970-01-01T00:00:00.000Z") and its parser (accepts a
// trailing Z or ±HH:MM offset, optional fraction). parse returns false on bad text.
std::string format_iso_date(Date d);
bool parse_iso_date(std::string_view s, Date& out);

std::string base64_encode(std::string_view bytes);
bool base64_decode(std::string_view text, std::string& out);

}  // namespace mg
