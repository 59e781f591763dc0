// core/expr_string.cc — string operators ($concat $toUpper $toLower $substrCP $strLenCP $split
// $trim $ltrim $rtrim), conversions ($toString $toInt $toLong $toDouble $toDate $toBool) and
// $type. Strings are UTF-8; "CP" operators count code points; case mapping is ASCII, as in
// MongoDB. A string that does not convert is BadValue; a type that cannot convert TypeMismatch.
#include <charconv>
#include <cmath>

#include "core/compare.h"
#include "core/ejson.h"
#include "core/expr_impl.h"

namespace mg::expr {

namespace {

MpView op_concat(std::string_view op, std::span<const MpView> a, std::string& out) {
  std::string s;
  for (auto& v : a) {
    if (is_nullish(v)) return put_null(out);
    if (v.type() != MpType::Str) type_error(op, "only supports strings", v);
    s.append(v.as_str());
  }
  return put_str(out, s);
}

std::string number_text(MpView v) {
  if (v.type() == MpType::Int) return std::to_string(v.as_int());
  double d = v.as_double();
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

// The text of a scalar, as $toString and the case operators give it.
std::string text_of(std::string_view op, MpView v) {
  switch (v.type()) {
    case MpType::Str:
      return std::string(v.as_str());
    case MpType::Int:
    case MpType::Float:
      return number_text(v);
    case MpType::Bool:
      return v.as_bool() ? "true" : "false";
    case MpType::Date:
      return format_iso_date(v.as_date());
    default:
      type_error(op, "cannot convert to a string", v);
  }
}

template <bool Upper>
MpView op_case(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_str(out, "");
  std::string s = text_of(op, a[0]);
  for (char& c : s)
    if (Upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) c = char(c ^ 0x20);
  return put_str(out, s);
}

// Byte offset of code point `cp` in s (s.size() when past the end).
size_t cp_offset(std::string_view s, int64_t cp) {
  size_t i = 0;
  for (; i < s.size() && cp > 0; --cp) {
    ++i;
    while (i < s.size() && (uint8_t(s[i]) & 0xc0) == 0x80) ++i;
  }
  return i;
}

int64_t cp_count(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (uint8_t(c) & 0xc0) != 0x80;
  return n;
}

MpView op_substr_cp(std::string_view op, std::span<const MpView> a, std::string& out) {
  int64_t start = 0, count = 0;
  if (!integral(a[1], start) || start < 0)
    fail(ErrorCode::BadValue, "$substrCP: starting index must be a non-negative integer");
  if (!integral(a[2], count) || count < 0)
    fail(ErrorCode::BadValue, "$substrCP: length must be a non-negative integer");
  if (is_nullish(a[0])) return put_str(out, "");
  std::string s = text_of(op, a[0]);
  size_t b = cp_offset(s, start);
  size_t e = b + cp_offset(std::string_view(s).substr(b), count);
  return put_str(out, std::string_view(s).substr(b, e - b));
}

MpView op_strlen_cp(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (!a[0].valid() || a[0].type() != MpType::Str)
    type_error(op, "requires a string argument", a[0]);
  return put_int(out, cp_count(a[0].as_str()));
}

MpView op_split(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  if (a[0].type() != MpType::Str)
    type_error(op, "requires an expression that evaluates to a string as a first argument", a[0]);
  if (!a[1].valid() || a[1].type() != MpType::Str)
    type_error(op, "requires an expression that evaluates to a string as a second argument", a[1]);
  std::string_view s = a[0].as_str(), d = a[1].as_str();
  if (d.empty()) fail(ErrorCode::BadValue, "$split requires a non-empty separator");
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t f = s.find(d, pos);
    parts.push_back(s.substr(pos, f == std::string_view::npos ? f : f - pos));
    if (f == std::string_view::npos) break;
    pos = f + d.size();
  }
  out.clear();
  MpWriter w(out);
  w.array_header(uint32_t(parts.size()));
  for (auto p : parts) w.str(p);
  return MpView(out);
}

// $trim / $ltrim / $rtrim: {input, chars}; default chars are whitespace and NUL.
class Trim final : public Expr {
 public:
  Trim(bool left, bool right, ExprPtr input, ExprPtr chars)
      : left_(left), right_(right), input_(std::move(input)), chars_(std::move(chars)) {}
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::string ib, cb;
    MpView in = input_->eval(vars, ib);
    if (is_nullish(in)) return put_null(out);
    if (in.type() != MpType::Str) type_error("$trim", "requires its input to be a string", in);
    std::vector<std::string_view> set;
    if (chars_) {
      MpView c = chars_->eval(vars, cb);
      if (is_nullish(c)) return put_null(out);
      if (c.type() != MpType::Str) type_error("$trim", "requires 'chars' to be a string", c);
      std::string_view cs = c.as_str();
      for (size_t i = 0; i < cs.size();) {
        size_t j = cp_offset(cs.substr(i), 1);
        set.push_back(cs.substr(i, j));
        i += j;
      }
    } else {
      static const std::string_view ws[] = {
          std::string_view("\0", 1), " ", "\t", "\n", "\v", "\f", "\r", "\xc2\xa0"};
      set.assign(std::begin(ws), std::end(ws));
    }
    std::string_view s = in.as_str();
    auto starts = [&](std::string_view t) -> size_t {
      for (auto c : set)
        if (t.starts_with(c)) return c.size();
      return 0;
    };
    auto ends = [&](std::string_view t) -> size_t {
      for (auto c : set)
        if (t.ends_with(c)) return c.size();
      return 0;
    };
    for (size_t n; left_ && !s.empty() && (n = starts(s));) s.remove_prefix(n);
    for (size_t n; right_ && !s.empty() && (n = ends(s));) s.remove_suffix(n);
    return put_str(out, s);
  }

 private:
  bool left_, right_;
  ExprPtr input_, chars_;
};

template <bool L, bool R>
ExprPtr compile_trim(std::string_view op, MpView args, Scope& scope) {
  MpView m = map_args(op, args, {"input", "chars"});
  MpView in = m.get("input"), chars = m.get("chars");
  if (!in.valid()) fail(ErrorCode::BadValue, std::string(op) + " requires an 'input' field");
  return std::make_unique<Trim>(L, R, compile(in, scope),
                                chars.valid() ? compile(chars, scope) : nullptr);
}

MpView op_to_string(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  return put_str(out, text_of(op, a[0]));
}

void bad_conversion(std::string_view op, std::string_view s) {
  fail(ErrorCode::BadValue,
       std::string(op) + ": failed to parse '" + std::string(s.substr(0, 100)) + "'");
}

MpView op_to_int(std::string_view op, std::span<const MpView> a, std::string& out) {
  MpView v = a[0];
  if (is_nullish(v)) return put_null(out);
  switch (v.type()) {
    case MpType::Int:
      return put_raw(out, v.bytes());
    case MpType::Float: {
      double d = std::trunc(v.as_double());
      if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18))
        fail(ErrorCode::BadValue, std::string(op) + ": conversion would overflow");
      return put_int(out, int64_t(d));
    }
    case MpType::Bool:
      return put_int(out, v.as_bool() ? 1 : 0);
    case MpType::Str: {
      std::string_view s = v.as_str();
      int64_t i = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), i);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) bad_conversion(op, s);
      return put_int(out, i);
    }
    case MpType::Date:
      if (op == "$toLong") return put_int(out, v.as_date().millis());
      [[fallthrough]];
    default:
      type_error(op, "cannot convert", v);
  }
}

MpView op_to_double(std::string_view op, std::span<const MpView> a, std::string& out) {
  MpView v = a[0];
  if (is_nullish(v)) return put_null(out);
  switch (v.type()) {
    case MpType::Int:
    case MpType::Float:
      return put_double(out, v.as_double());
    case MpType::Bool:
      return put_double(out, v.as_bool() ? 1 : 0);
    case MpType::Date:
      return put_double(out, double(v.as_date().millis()));
    case MpType::Str: {
      std::string_view s = v.as_str();
      double d = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), d);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) bad_conversion(op, s);
      return put_double(out, d);
    }
    default:
      type_error(op, "cannot convert", v);
  }
}

MpView op_to_date(std::string_view op, std::span<const MpView> a, std::string& out) {
  MpView v = a[0];
  if (is_nullish(v)) return put_null(out);
  switch (v.type()) {
    case MpType::Date:
      return put_raw(out, v.bytes());
    case MpType::Int:
      return put_date(out, Date::from_millis(v.as_int()));
    case MpType::Float: {
      double d = v.as_double();
      if (!std::isfinite(d))
        fail(ErrorCode::BadValue, "$toDate: cannot convert a non-finite number");
      return put_date(out, Date::from_millis(int64_t(std::trunc(d))));
    }
    case MpType::Str: {
      Date d;
      if (!parse_iso_date(v.as_str(), d)) bad_conversion(op, v.as_str());
      return put_date(out, d);
    }
    default:
      type_error(op, "cannot convert", v);
  }
}

MpView op_to_bool(std::string_view, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  return put_bool(out, truthy(a[0]));
}

MpView op_type(std::string_view, std::span<const MpView> a, std::string& out) {
  return put_str(out, expr_type_name(a[0]));
}

}  // namespace

void register_string_ops(OpTable& t) {
  t.emplace("$concat", eager<op_concat, 0, SIZE_MAX>);
  t.emplace("$toUpper", eager<op_case<true>, 1, 1>);
  t.emplace("$toLower", eager<op_case<false>, 1, 1>);
  t.emplace("$substrCP", eager<op_substr_cp, 3, 3>);
  t.emplace("$strLenCP", eager<op_strlen_cp, 1, 1>);
  t.emplace("$split", eager<op_split, 2, 2>);
  t.emplace("$trim", compile_trim<true, true>);
  t.emplace("$ltrim", compile_trim<true, false>);
  t.emplace("$rtrim", compile_trim<false, true>);
  t.emplace("$toString", eager<op_to_string, 1, 1>);
  t.emplace("$toInt", eager<op_to_int, 1, 1>);
  t.emplace("$toLong", eager<op_to_int, 1, 1>);
  t.emplace("$toDouble", eager<op_to_double, 1, 1>);
  t.emplace("$toDate", eager<op_to_date, 1, 1>);
  t.emplace("$toBool", eager<op_to_bool, 1, 1>);
  t.emplace("$type", eager<op_type, 1, 1>);
}

}  // namespace mg::expr
