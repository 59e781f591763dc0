// protocol/envelope.h — the request envelope of CONTRACT.md §3 and the names rule of §4.
//
// A request body is one MessagePack map: `id` (optional, any value, echoed back as its raw
// bytes), `op` (string, required), `db` (string, default "default"), `model` (string, for model
// operations), then the operation's own arguments. parse_envelope checks only what routing
// needs; the operation's handler checks its arguments.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/msgpack.h"

namespace mg {

struct Envelope {
  std::string_view id;  // raw encoded `id` value; empty when the request has none
  std::string_view op;
  std::string_view db = "default";
  std::string_view model;  // empty when absent
  MpView body;             // the whole request map
  std::string_view bytes;  // the whole request, as received

  // The value of top-level key `key` (the first occurrence), or an invalid view. Answered from
  // a table of the keys filled while parsing, so the handlers' many lookups (most of them for
  // optional arguments that are absent) never walk the body; bodies with more keys than the
  // table holds fall back to MpView::get.
  MpView arg(std::string_view key) const {
    if (nargs > kMaxArgs) return body.get(key);
    for (uint32_t i = 0; i < nargs; ++i)
      if (args[i].first == key) return MpView(args[i].second);
    return MpView();
  }
  // True when the body's last pair is an insertMany's `docs` (the first `docs` key, after the
  // first `op`, "insertMany") holding an array, in a body of at most kMaxArgs pairs (so that
  // arg() never walks the body): parse_envelope then checked only that the array's header lies
  // within the body, and its elements are untrusted bytes until insert_many_documents has
  // sliced them (the engine validates each document strictly anyway, so the largest bodies are
  // walked once, not twice). read_checked_envelope sets it by the same rule.
  bool docs_unchecked = false;
  static constexpr uint32_t kMaxArgs = 12;
  uint32_t nargs = 0;  // keys of the body; > kMaxArgs: the table is not used
  std::pair<std::string_view, const uint8_t*> args[kMaxArgs];
};

// Maximum nesting accepted in a request body: documents inside it may nest 100 levels
// (checked again, exactly, by the engine), plus the envelope's own levels.
constexpr int kMaxRequestDepth = 104;

// Parses `bytes` into `out`. Errors: FailedToParse when the body is not one well-formed
// MessagePack map (then out.id is empty); BadValue for a missing `op`, nesting beyond
// kMaxRequestDepth, an unsupported extension type, or a db/model name not matching the names
// rule; TypeMismatch when op/db/model are not strings. out.id is set as soon as it is known, so
// errors after FailedToParse can echo it.
Status parse_envelope(std::string_view bytes, Envelope& out);

// The documents of an insertMany, `docs` (an array: env.arg("docs")), each checked with
// validate_prefix(opts) and appended to `out` as its bytes, in one pass. The bytes read are
// bounded by the end of the request (env.bytes; by the array's own end when env.bytes is
// empty, an envelope not parsed from received bytes). On a refused document: its error with
// `index` set. When env.docs_unchecked and the array is not well-formed MessagePack ending
// exactly at the end of the body (truncated, trailing bytes, byte 0xc1), whatever else is
// wrong with it: FailedToParse with `index` -1 and `malformed_body` set — the caller answers
// it as parse_envelope's refusal of such a body would have been (CONTRACT.md §3: without the
// request's id).
Status insert_many_documents(const Envelope& env, MpView docs, const ValidateOptions& opts,
                             std::vector<std::string_view>& out, bool& malformed_body);

// For a body that already passed parse_envelope (the front door checked it): reads the
// envelope fields again without re-validating the bytes.
void read_checked_envelope(std::string_view bytes, Envelope& out);

// ^[A-Za-z_][A-Za-z0-9_-]{0,63}$ (CONTRACT.md §4).
bool valid_name(std::string_view name);

}  // namespace mg
