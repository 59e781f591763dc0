#include "core/value_key.h"

#include <cmath>

namespace mg {

void canonical_key(MpView v, std::string& out) {
  MpWriter w(out);
  switch (v.type()) {
    case MpType::Int:
      return w.integer(v.as_int());
    case MpType::Float: {
      double d = v.as_double();
      if (std::isnan(d)) return w.float64(std::nan(""));
      if (d >= -9.2233720368547758e18 && d < 9.2233720368547758e18 && std::trunc(d) == d)
        return w.integer(int64_t(d));
      return w.float64(d);
    }
    case MpType::Date:
      return w.date(v.as_date());
    case MpType::Array: {
      w.array_header(v.count());
      ArrayIter it(v);
      MpView e;
      while (it.next(e)) canonical_key(e, out);
      return;
    }
    case MpType::Map: {
      w.map_header(v.count());
      MapIter it(v);
      std::string_view k;
      MpView e;
      while (it.next(k, e)) {
        w.str(k);
        canonical_key(e, out);
      }
      return;
    }
    case MpType::Str:
      return w.str(v.as_str());
    case MpType::Bin:
      return w.bin(v.as_bin());
    default:
      return w.raw(v);
  }
}

}  // namespace mg
