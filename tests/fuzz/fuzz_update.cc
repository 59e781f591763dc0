// Fuzzes update compilation and application: arbitrary bytes as an update document, applied
// to fixed documents (also as an upsert). Errors are expected; crashes are findings.
#include <cstdint>
#include <string>

#include "core/ejson.h"
#include "core/error.h"
#include "core/msgpack.h"
#include "core/update.h"
#include "core/value.h"

using namespace mg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string docs[] = {
      mp_from_json(R"({"_id":1,"a":5,"b":"hello","c":[1,2,{"d":3}],"e":{"f":null}})"),
      mp_from_json(R"({"_id":"x","arr":[3,1,2],"m":{"x":{"y":[{"z":1}]}},"n":1.5})"),
  };
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!validate(bytes).ok()) return 0;
  try {
    auto u = Update::compile(MpView(bytes));
    for (auto& d : docs)
      for (bool inserting : {false, true}) {
        Value v = Value::from(MpView(d));
        try {
          u->apply(v, inserting, Date{1700000000, 0});
          std::string out = v.encode();
          if (!validate(out, ValidateOptions{100, true, false, 0}).ok()) {
            // An update may build deeper documents; the collection re-validates. Nothing to do.
          }
        } catch (const Error&) {
        }
      }
  } catch (const Error&) {
  }
  return 0;
}
