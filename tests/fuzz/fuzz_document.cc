// Fuzzes document decoding: MessagePack validation, reading every value through MpView,
// the Value round trip, and Extended JSON both ways; validate()'s fast path for flat documents
// against the full validator; the index key encoding (core/index_key.h) against compare_values
// on the first two elements of an array. Any crash, leak, UB or disagreement is a finding.
#include <cstdint>
#include <string>

#include "core/compare.h"
#include "core/ejson.h"
#include "core/index_key.h"
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
  // As a stored document (a map, field-name rules): the fast path's verdict is the full one's.
  ValidateOptions doc_opts;
  doc_opts.document_names = true;
  size_t used = 0;
  bool full_ok = validate_prefix_full(bytes, doc_opts, used).ok() && used == size;
  if (validate(bytes, doc_opts).ok() != full_ok) __builtin_trap();
  // Two values: their encodings (and prefixes) order as compare_values, in both directions.
  if (validate(bytes, opts).ok() && MpView(bytes).type() == MpType::Array &&
      MpView(bytes).count() >= 2) {
    MpView a = MpView(bytes).at(0), b = MpView(bytes).at(1);
    int want = compare_values(a, b);
    want = (want > 0) - (want < 0);
    for (bool desc : {false, true}) {
      std::string ea, eb;
      append_index_key(a, desc, ea);
      append_index_key(b, desc, eb);
      int got = ea.compare(eb);
      got = (got > 0) - (got < 0);
      if (got != (desc ? -want : want)) __builtin_trap();
      int pa = compare(index_key_prefix(a, desc), index_key_prefix(b, desc));
      if (pa != 0 && pa != got) __builtin_trap();
      int pe = compare(index_key_prefix(ea), index_key_prefix(eb));
      if (pe != 0 && pe != got) __builtin_trap();
    }
  }
  // The same bytes as JSON text.
  std::string mp;
  if (ejson_to_msgpack(bytes, mp).ok() && !validate(mp, opts).ok()) __builtin_trap();
  return 0;
}
