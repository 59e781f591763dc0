#include "core/compare.h"

#include <cmath>
#include <string_view>

namespace mg {

int type_rank(MpType t) {
  switch (t) {
    case MpType::Nil:
      return 0;
    case MpType::Int:
    case MpType::Float:
      return 1;
    case MpType::Str:
      return 2;
    case MpType::Map:
      return 3;
    case MpType::Array:
      return 4;
    case MpType::Bin:
      return 5;
    case MpType::Bool:
      return 6;
    case MpType::Date:
      return 7;
  }
  return 0;
}

static int sign(auto x) {
  return (x > 0) - (x < 0);
}

// int64 vs double without losing precision.
static int cmp_int_double(int64_t i, double d) {
  if (std::isnan(d)) return 1;  // NaN is the smallest number
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  double fl = std::floor(d);
  auto di = int64_t(fl);
  if (i != di) return i < di ? -1 : 1;
  return fl == d ? 0 : -1;  // i == floor(d) and d has a fraction: i < d
}

int compare_numbers(MpView a, MpView b) {
  bool af = a.type() == MpType::Float, bf = b.type() == MpType::Float;
  if (!af && !bf) {
    int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (af && bf) {
    double x = a.as_double(), y = b.as_double();
    bool xn = std::isnan(x), yn = std::isnan(y);
    if (xn || yn) return xn && yn ? 0 : (xn ? -1 : 1);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (!af) return cmp_int_double(a.as_int(), b.as_double());
  return -cmp_int_double(b.as_int(), a.as_double());
}

static int compare_bytes(std::string_view x, std::string_view y) {
  int c = x.compare(y);
  return sign(c);
}

bool truthy(MpView v) {
  if (!v.valid()) return false;
  switch (v.type()) {
    case MpType::Nil:
      return false;
    case MpType::Bool:
      return v.as_bool();
    case MpType::Int:
      return v.as_int() != 0;
    case MpType::Float:
      return v.as_double() != 0;
    default:
      return true;
  }
}

int compare_values_slow(MpView a, MpView b) {
  MpType ta = a.type(), tb = b.type();
  int ra = type_rank(ta), rb = type_rank(tb);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ta) {
    case MpType::Nil:
      return 0;
    case MpType::Int:
    case MpType::Float:
      return compare_numbers(a, b);
    case MpType::Str:
      return compare_bytes(a.as_str(), b.as_str());
    case MpType::Bin: {
      auto x = a.as_bin(), y = b.as_bin();
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      return compare_bytes(x, y);
    }
    case MpType::Bool:
      return int(a.as_bool()) - int(b.as_bool());
    case MpType::Date: {
      Date x = a.as_date(), y = b.as_date();
      if (x.sec != y.sec) return x.sec < y.sec ? -1 : 1;
      return x.nsec < y.nsec ? -1 : (x.nsec > y.nsec ? 1 : 0);
    }
    case MpType::Array: {
      ArrayIter ia(a), ib(b);
      MpView ea, eb;
      while (true) {
        bool ha = ia.next(ea), hb = ib.next(eb);
        if (!ha || !hb) return ha == hb ? 0 : (ha ? 1 : -1);
        if (int c = compare_values(ea, eb)) return c;
      }
    }
    case MpType::Map: {
      MapIter ia(a), ib(b);
      std::string_view ka, kb;
      MpView ea, eb;
      while (true) {
        bool ha = ia.next(ka, ea), hb = ib.next(kb, eb);
        if (!ha || !hb) return ha == hb ? 0 : (ha ? 1 : -1);
        int r1 = type_rank(ea.type()), r2 = type_rank(eb.type());
        if (r1 != r2) return r1 < r2 ? -1 : 1;
        if (int c = compare_bytes(ka, kb)) return c;
        if (int c = compare_values(ea, eb)) return c;
      }
    }
  }
  return 0;
}

}  // namespace mg
