// Fuzzes filter compilation and matching: arbitrary bytes as a filter, matched against a few
// fixed documents. Compile errors are expected (they are Status/Error); crashes are findings.
#include <cstdint>
#include <string>

#include "core/ejson.h"
#include "core/error.h"
#include "core/filter.h"
#include "core/msgpack.h"

using namespace mg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string docs[] = {
      mp_from_json(R"({"_id":1,"a":5,"b":"hello","c":[1,2,{"d":3}],"e":{"f":null}})"),
      mp_from_json(R"({"_id":"x","a":[[1],[2,3]],"tags":["a","b"],"n":1.5,"t":true})"),
      mp_from_json(R"({"_id":2})"),
  };
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!validate(bytes).ok()) return 0;
  try {
    auto m = Matcher::compile(MpView(bytes));
    for (auto& d : docs) (void)m->matches(MpView(d));
    (void)m->constraints();
    (void)m->equalities();
  } catch (const Error&) {
  }
  return 0;
}
