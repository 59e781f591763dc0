// Fuzzes document decoding: MessagePack validation, reading every value through MpView,
// the Value round trip, and Extended JSON both ways. Any crash, leak or UB is a finding.
#include <cstdint>
#include <string>

#include "core/compare.h"
#include "core/ejson.h"
#include "core/msgpack.h"
#include "core/value.h"

using namespace mg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ValidateOptions opts;
  opts.require_map = false;
  if (validate(bytes, opts).ok()) {
    MpView v(bytes);
    std::string again = Value::from(v).encode();
    if (compare_values(v, MpView(again)) != 0) __builtin_trap();
    std::string json;
    msgpack_to_ejson(v, json);
    std::string back;
    (void)ejson_to_msgpack(json, back);
  }
  // The same bytes as JSON text.
  std::string mp;
  if (ejson_to_msgpack(bytes, mp).ok() && !validate(mp, opts).ok()) __builtin_trap();
  return 0;
}
