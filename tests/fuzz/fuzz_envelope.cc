// Fuzzes the request decoder (protocol/envelope.h) the way the front door uses it: arbitrary
// bytes as a request body through parse_envelope; when it accepts them, read_checked_envelope
// must read the same fields, names must obey the names rule, and the replies built for the
// request (ok and error, echoing its raw `id`) must be valid MessagePack maps that echo the id
// unchanged. When it refuses them, the error reply must still be a valid map. Crashes, UB,
// leaks and broken invariants (__builtin_trap) are findings.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/msgpack.h"
#include "protocol/envelope.h"
#include "protocol/reply.h"

using namespace mg;

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// A reply must be one well-formed map whose `id` is exactly the request's raw id bytes (or
// absent). The id is any MessagePack value (a map with integer keys too), so only the
// structure of the whole reply is checked; the daemon's own parts must pass validate().
void check_reply(const std::string& reply, std::string_view id) {
  require(check_structure(reply).ok());
  MpView r(reply);
  require(r.type() == MpType::Map);
  MapIter it(r);
  std::string_view key;
  MpView value;
  while (it.next(key, value))
    if (key != "id") {
      ValidateOptions any;
      any.require_map = false;
      require(validate(value.bytes(), any).ok());
    }
  MpView got = r.get("id");
  if (id.empty())
    require(!got.valid());
  else
    require(got.valid() && got.bytes() == id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Envelope env;
  Status s = parse_envelope(bytes, env);
  if (!s.ok()) {
    check_reply(error_reply(env.id, s), env.id);
    return 0;
  }
  require(!env.op.empty() || env.body.get("op").valid());
  require(valid_name(env.db));
  require(env.model.empty() || valid_name(env.model));
  Envelope again;
  read_checked_envelope(bytes, again);
  require(again.id == env.id && again.op == env.op && again.db == env.db &&
          again.model == env.model);
  check_reply(ok_reply(env.id), env.id);
  check_reply(error_reply(env.id, make_status(ErrorCode::BadValue, std::string(env.op))), env.id);
  require(again.docs_unchecked == env.docs_unchecked);
  if (env.docs_unchecked) {
    // The last value (an insertMany's docs) is untrusted: only the engine's one pass over it,
    // insert_many_documents, may read it, and it must either slice documents that are valid
    // MessagePack ending exactly at the end of the body or refuse them.
    MpView docs = env.arg("docs");
    require(docs.valid() && docs.type() == MpType::Array);
    std::vector<std::string_view> raws;
    bool malformed = false;
    Status d = insert_many_documents(env, docs, ValidateOptions{}, raws, malformed);
    auto* start = reinterpret_cast<const char*>(docs.data());
    std::string_view tail(start, size_t(bytes.data() + bytes.size() - start));
    if (d.ok()) require(check_structure(tail).ok() && raws.size() == docs.count());
    if (malformed) require(!check_structure(tail).ok() && d.code == ErrorCode::FailedToParse);
    if (!d.ok() && !malformed) require(d.index >= 0 && check_structure(tail).ok());
    if (!d.ok())
      check_reply(error_reply(malformed ? std::string_view() : env.id, d),
                  malformed ? std::string_view() : env.id);
    if (!d.ok()) return 0;
  }
  // Every argument is readable as a value of the body.
  MapIter it(env.body);
  std::string_view key;
  MpView value;
  while (it.next(key, value)) {
    require(value.end() <= env.body.end());
    // The argument table answers as the body does (the first occurrence of a key counts).
    require(env.arg(key).bytes() == env.body.get(key).bytes());
    require(again.arg(key).bytes() == env.body.get(key).bytes());
  }
  require(!env.body.get("no such argument").valid() ||
          (env.arg("no such argument").valid() && again.arg("no such argument").valid()));
  require(env.body.get("no such argument").valid() ||
          (!env.arg("no such argument").valid() && !again.arg("no such argument").valid()));
  return 0;
}
