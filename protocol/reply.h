// protocol/reply.h — encoding replies (CONTRACT.md §3).
//
// A success reply is {ok: true, ...results, id?}; an error reply is
// {ok: false, error: {code, name, message, ...details}, id?}. `id` is the request's raw bytes,
// echoed unchanged, and absent when the request had none (or could not be parsed).
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/msgpack.h"

namespace mg {

// Writes a success reply with exactly `nfields` result fields: construct, then call
// key(name) followed by one value through writer() for each field, then take().
class ReplyWriter {
 public:
  ReplyWriter(std::string_view id, uint32_t nfields, size_t reserve = 64);
  // Writes a field name; the caller writes its value next with writer().
  MpWriter& key(std::string_view name) {
    w_.str(name);
    return w_;
  }
  MpWriter& writer() { return w_; }
  std::string take() { return std::move(buf_); }

 private:
  std::string buf_;
  MpWriter w_;
};

// The error reply for `s` (s must not be OK), with the details §6 names: `index`,
// `keyPattern`/`keyValue`, `errors`.
std::string error_reply(std::string_view id, const Status& s);

// {ok: true, id?} with no result fields.
std::string ok_reply(std::string_view id);

}  // namespace mg
