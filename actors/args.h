// actors/args.h — typed access to an operation's arguments (CONTRACT.md §5), with the
// contract's errors: TypeMismatch for a value of the wrong type, BadValue for a missing
// required one or a value out of range. All throw mg::Error; handlers run inside guard().
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/msgpack.h"
#include "protocol/envelope.h"

namespace mg::args {

// The argument as a map (nil counts as absent): an invalid view when absent and !required.
MpView map(const Envelope& env, std::string_view key, bool required = false);
// The argument as an array.
MpView array(const Envelope& env, std::string_view key, bool required = false);
// Any value, required (nil allowed only when allow_nil).
MpView value(const Envelope& env, std::string_view key, bool allow_nil = false);
// An integer (a float with an integral value is accepted); `fallback` when absent.
int64_t integer(const Envelope& env, std::string_view key, int64_t fallback);
bool boolean(const Envelope& env, std::string_view key, bool fallback);
std::string_view string(const Envelope& env, std::string_view key, bool required,
                        std::string_view fallback = {});

}  // namespace mg::args
