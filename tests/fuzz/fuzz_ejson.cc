// Fuzzes the Extended JSON reader (core/ejson.h), which reads every snapshot and WAL line of the
// `file` backend, every SQLite row and the CLI's arguments. Invariants:
//  - ejson_to_msgpack either fails with a Status or produces one valid MessagePack value;
//  - what it produced, written back as Extended JSON and read again, is a fixed point: the
//    writer's text reads back to the same text (types, key order and values survive);
//  - the date and base64 helpers round-trip what they accept.
// Crashes, UB, leaks and broken invariants (__builtin_trap) are findings.
#include <cstdint>
#include <string>

#include "core/ejson.h"
#include "core/error.h"
#include "core/msgpack.h"

using namespace mg;

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ValidateOptions any;
  any.require_map = false;
  any.max_depth = 128;
  any.max_bytes = 0;
  std::string mp;
  if (ejson_to_msgpack(text, mp).ok()) {
    require(validate(mp, any).ok());
    std::string json1;
    msgpack_to_ejson(MpView(mp), json1);
    std::string mp2;
    require(ejson_to_msgpack(json1, mp2).ok());
    require(validate(mp2, any).ok());
    std::string json2;
    msgpack_to_ejson(MpView(mp2), json2);
    require(json1 == json2);
  }
  Date d;
  if (parse_iso_date(text, d)) {
    Date back;
    require(parse_iso_date(format_iso_date(d), back));
    require(back.millis() == d.millis());
  }
  std::string bytes;
  if (base64_decode(text, bytes)) {
    std::string again;
    require(base64_decode(base64_encode(bytes), again) && again == bytes);
  }
  return 0;
}
