// core/expr_date.cc — date operators: the parts ($year $month $dayOfMonth $hour $minute $second
// $millisecond $dayOfWeek $dayOfYear), $dateToString and $dateTrunc, with MongoDB's arguments
// (a date, or {date, timezone}; null or missing gives null). Time zones are "UTC"/"GMT"/"Z" or
// fixed offsets ("+05:30", "-0800", "+02"); an Olson name is BadValue (memgoosed choice: no
// time zone database).
#include <chrono>
#include <cstdio>

#include <algorithm>

#include "core/expr_impl.h"

namespace mg::expr {

namespace {

using namespace std::chrono;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Offset in milliseconds of a time zone argument.
int64_t tz_offset(MpView tz) {
  if (!tz.valid() || tz.type() == MpType::Nil) return 0;
  if (tz.type() != MpType::Str) type_error("timezone", "must be a string", tz);
  std::string_view s = tz.as_str();
  if (s == "UTC" || s == "GMT" || s == "Z" || s == "Etc/UTC" || s == "Etc/GMT") return 0;
  if (s.size() >= 3 && (s[0] == '+' || s[0] == '-')) {
    std::string digits;
    for (char c : s.substr(1))
      if (c != ':') digits.push_back(c);
    bool ok = (digits.size() == 2 || digits.size() == 4) &&
              digits.find_first_not_of("0123456789") == std::string::npos &&
              (s.size() != 6 || s[3] == ':');
    if (ok) {
      int h = std::stoi(digits.substr(0, 2)),
          m = digits.size() == 4 ? std::stoi(digits.substr(2)) : 0;
      if (h <= 23 && m <= 59) return (s[0] == '-' ? -1 : 1) * (h * 3600000LL + m * 60000LL);
    }
  }
  fail(ErrorCode::BadValue, "unrecognized time zone identifier: \"" + std::string(s) +
                                "\" (memgoosed takes UTC or a fixed offset such as +05:30)");
}

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second, ms, wday /* 1 = Sunday */, yday /* 1.. */;
};

// Date expressions work on years -30,000..30,000 or so (std::chrono's civil calendar ends at
// ±32,767): a date outside ±kMaxExprMs is BadValue rather than overflowing arithmetic.
constexpr int64_t kMaxExprMs = 900'000'000'000'000;  // about 28,500 years from 1970

// ms + offset, in range.
int64_t local_ms(int64_t ms, int64_t offset) {
  int64_t local;
  if (__builtin_add_overflow(ms, offset, &local) || local < -kMaxExprMs || local > kMaxExprMs)
    fail(ErrorCode::BadValue, "date expressions take dates within about 28,000 years of 1970");
  return local;
}

Civil civil(int64_t local_ms) {
  int64_t days = floor_div(local_ms, 86400000);
  int64_t rem = local_ms - days * 86400000;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  Civil c;
  c.year = int(ymd.year());
  c.month = unsigned(ymd.month());
  c.day = unsigned(ymd.day());
  c.hour = unsigned(rem / 3600000);
  c.minute = unsigned(rem / 60000 % 60);
  c.second = unsigned(rem / 1000 % 60);
  c.ms = unsigned(rem % 1000);
  c.wday = weekday{sys_days{std::chrono::days{days}}}.c_encoding() + 1;
  sys_days jan1{year{int(c.year)} / January / 1};
  c.yday = unsigned(days - jan1.time_since_epoch().count() + 1);
  return c;
}

int64_t days_of(int64_t y, unsigned m, unsigned d) {
  return sys_days{year{int(y)} / month{m} / day{d}}.time_since_epoch().count();
}

Date need_date(std::string_view op, MpView v) {
  if (v.type() != MpType::Date) type_error(op, "requires a date", v);
  return v.as_date();
}

enum Part { YEAR, MONTH, DAY, HOUR, MINUTE, SECOND, MILLI, WDAY, YDAY };

// A date part: the operand is a date expression, [date], or {date, timezone}.
class DatePart final : public Expr {
 public:
  DatePart(std::string_view op, Part p, ExprPtr date, ExprPtr tz)
      : op_(op), part_(p), date_(std::move(date)), tz_(std::move(tz)) {}
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::string db, tb;
    MpView d = date_->eval(vars, db);
    MpView tz = tz_ ? tz_->eval(vars, tb) : MpView();
    if (is_nullish(d) || (tz_ && is_nullish(tz))) return put_null(out);
    Civil c = civil(local_ms(need_date(op_, d).millis(), tz_offset(tz)));
    int64_t v[] = {c.year, c.month, c.day, c.hour, c.minute, c.second, c.ms, c.wday, c.yday};
    return put_int(out, v[part_]);
  }

 private:
  std::string_view op_;
  Part part_;
  ExprPtr date_, tz_;
};

template <Part P>
ExprPtr compile_part(std::string_view op, MpView args, Scope& scope) {
  if (args.type() == MpType::Map && args.count() > 0 && args.get("date").valid()) {
    MpView m = map_args(op, args, {"date", "timezone"});
    MpView tz = m.get("timezone");
    return std::make_unique<DatePart>(op, P, compile(m.get("date"), scope),
                                      tz.valid() ? compile(tz, scope) : nullptr);
  }
  auto a = compile_args(op, args, scope, 1, 1);
  return std::make_unique<DatePart>(op, P, std::move(a[0]), nullptr);
}

void append_num(std::string& s, int64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v));
  s += buf;
}

std::string format_date(std::string_view fmt, int64_t ms, int64_t offset) {
  Civil c = civil(local_ms(ms, offset));
  std::string s;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      s.push_back(fmt[i]);
      continue;
    }
    if (++i == fmt.size())
      fail(ErrorCode::BadValue, "$dateToString: unmatched '%' at end of format");
    switch (fmt[i]) {
      case 'Y':
        append_num(s, c.year, 4);
        break;
      case 'm':
        append_num(s, c.month, 2);
        break;
      case 'd':
        append_num(s, c.day, 2);
        break;
      case 'H':
        append_num(s, c.hour, 2);
        break;
      case 'M':
        append_num(s, c.minute, 2);
        break;
      case 'S':
        append_num(s, c.second, 2);
        break;
      case 'L':
        append_num(s, c.ms, 3);
        break;
      case 'j':
        append_num(s, c.yday, 3);
        break;
      case 'w':
        append_num(s, c.wday, 1);
        break;
      case 'u':
        append_num(s, c.wday == 1 ? 7 : c.wday - 1, 1);
        break;
      case '%':
        s.push_back('%');
        break;
      case 'Z':
        append_num(s, offset / 60000, 1);
        break;
      case 'z': {
        int64_t m = offset / 60000;
        s.push_back(m < 0 ? '-' : '+');
        append_num(s, std::abs(m) / 60, 2);
        append_num(s, std::abs(m) % 60, 2);
        break;
      }
      default:
        fail(ErrorCode::BadValue,
             std::string("$dateToString: invalid format character '%") + fmt[i] + "'");
    }
  }
  return s;
}

// {$dateToString: {date, format, timezone, onNull}}
class DateToString final : public Expr {
 public:
  ExprPtr date, format, tz, on_null;
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::string db, fb, tb;
    MpView d = date->eval(vars, db);
    MpView f = format ? format->eval(vars, fb) : MpView();
    MpView z = tz ? tz->eval(vars, tb) : MpView();
    if (format && is_nullish(f)) return put_null(out);
    if (tz && is_nullish(z)) return put_null(out);
    if (is_nullish(d)) return on_null ? on_null->eval(vars, out) : put_null(out);
    if (format && f.type() != MpType::Str)
      type_error("$dateToString", "requires 'format' to be a string", f);
    int64_t off = tz_offset(z);
    std::string_view fmt = format ? f.as_str() : std::string_view("%Y-%m-%dT%H:%M:%S.%LZ");
    return put_str(out, format_date(fmt, need_date("$dateToString", d).millis(), off));
  }
};

ExprPtr compile_to_string(std::string_view op, MpView args, Scope& scope) {
  MpView m = map_args(op, args, {"date", "format", "timezone", "onNull"});
  if (!m.get("date").valid()) fail(ErrorCode::BadValue, "$dateToString requires 'date'");
  auto e = std::make_unique<DateToString>();
  e->date = compile(m.get("date"), scope);
  if (m.get("format").valid()) e->format = compile(m.get("format"), scope);
  if (m.get("timezone").valid()) e->tz = compile(m.get("timezone"), scope);
  if (m.get("onNull").valid()) e->on_null = compile(m.get("onNull"), scope);
  return e;
}

int64_t unit_ms(std::string_view u) {
  if (u == "millisecond") return 1;
  if (u == "second") return 1000;
  if (u == "minute") return 60000;
  if (u == "hour") return 3600000;
  if (u == "day") return 86400000;
  if (u == "week") return 7 * 86400000LL;
  return 0;  // month, quarter, year: calendar units
}

// {$dateTrunc: {date, unit, binSize, timezone, startOfWeek}}: bins are counted from
// 2000-01-01T00:00 local time (for weeks, the first `startOfWeek` on or after it), as in MongoDB.
class DateTrunc final : public Expr {
 public:
  ExprPtr date, unit, bin, tz, sow;
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::string b1, b2, b3, b4, b5;
    MpView d = date->eval(vars, b1), u = unit->eval(vars, b2);
    MpView n = bin ? bin->eval(vars, b3) : MpView(), z = tz ? tz->eval(vars, b4) : MpView();
    MpView w = sow ? sow->eval(vars, b5) : MpView();
    if (is_nullish(d) || is_nullish(u) || (bin && is_nullish(n)) || (tz && is_nullish(z)) ||
        (sow && is_nullish(w)))
      return put_null(out);
    int64_t t = need_date("$dateTrunc", d).millis(), off = tz_offset(z), size = 1;
    if (bin && (!integral(n, size) || size < 1))
      fail(ErrorCode::BadValue, "$dateTrunc: 'binSize' must be a positive integer");
    if (u.type() != MpType::Str) type_error("$dateTrunc", "requires 'unit' to be a string", u);
    std::string_view us = u.as_str();
    int64_t local = local_ms(t, off), start;
    // A bin longer than the range of dates puts every date in the bin that starts at the
    // reference point or the one before it; capping binSize there keeps the arithmetic exact.
    size = std::min<int64_t>(size, 2 * kMaxExprMs);
    if (int64_t ums = unit_ms(us)) {
      int64_t ref = days_of(2000, 1, 1) * 86400000;
      if (us == "week") ref += week_shift(w) * 86400000;
      int64_t bin = ums > 2 * kMaxExprMs / size ? 4 * kMaxExprMs : ums * size;
      start = ref + floor_div(local - ref, bin) * bin;
    } else if (us == "month" || us == "quarter" || us == "year") {
      Civil c = civil(local);
      int64_t months = (c.year - 2000) * 12 + (c.month - 1);
      int64_t step = std::min<int64_t>(size, 1'000'000) * (us == "month"     ? 1
                                                           : us == "quarter" ? 3
                                                                             : 12);
      int64_t m = floor_div(months, step) * step;
      if (m < -28'000 * 12 || m > 28'000 * 12)
        fail(ErrorCode::BadValue, "$dateTrunc: the bin's start is out of the range of dates");
      start =
          days_of(2000 + floor_div(m, 12), unsigned(m - floor_div(m, 12) * 12 + 1), 1) * 86400000;
    } else {
      fail(ErrorCode::BadValue, "$dateTrunc: unknown unit '" + std::string(us) + "'");
    }
    int64_t utc;
    if (__builtin_sub_overflow(start, off, &utc))
      fail(ErrorCode::BadValue, "$dateTrunc: the bin's start is out of the range of dates");
    return put_date(out, Date::from_millis(utc));
  }

 private:
  // Days from 2000-01-01 (a Saturday) to the first `startOfWeek` (default Sunday).
  static int64_t week_shift(MpView w) {
    static const char* names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                  "thursday", "friday", "saturday"};
    int wd = 0;
    if (w.valid()) {
      if (w.type() != MpType::Str)
        type_error("$dateTrunc", "requires 'startOfWeek' to be a string", w);
      std::string s(w.as_str());
      for (char& c : s) c = char(std::tolower(uint8_t(c)));
      wd = -1;
      for (int i = 0; i < 7; ++i)
        if (s == names[i] || s == std::string(names[i]).substr(0, 3)) wd = i;
      if (wd < 0) fail(ErrorCode::BadValue, "$dateTrunc: unknown startOfWeek '" + s + "'");
    }
    return (wd - 6 + 7) % 7;
  }
};

ExprPtr compile_trunc(std::string_view op, MpView args, Scope& scope) {
  MpView m = map_args(op, args, {"date", "unit", "binSize", "timezone", "startOfWeek"});
  if (!m.get("date").valid() || !m.get("unit").valid())
    fail(ErrorCode::BadValue, "$dateTrunc requires 'date' and 'unit'");
  auto e = std::make_unique<DateTrunc>();
  e->date = compile(m.get("date"), scope);
  e->unit = compile(m.get("unit"), scope);
  if (m.get("binSize").valid()) e->bin = compile(m.get("binSize"), scope);
  if (m.get("timezone").valid()) e->tz = compile(m.get("timezone"), scope);
  if (m.get("startOfWeek").valid()) e->sow = compile(m.get("startOfWeek"), scope);
  return e;
}

}  // namespace

void register_date_ops(OpTable& t) {
  t.emplace("$year", compile_part<YEAR>);
  t.emplace("$month", compile_part<MONTH>);
  t.emplace("$dayOfMonth", compile_part<DAY>);
  t.emplace("$hour", compile_part<HOUR>);
  t.emplace("$minute", compile_part<MINUTE>);
  t.emplace("$second", compile_part<SECOND>);
  t.emplace("$millisecond", compile_part<MILLI>);
  t.emplace("$dayOfWeek", compile_part<WDAY>);
  t.emplace("$dayOfYear", compile_part<YDAY>);
  t.emplace("$dateToString", compile_to_string);
  t.emplace("$dateTrunc", compile_trunc);
}

}  // namespace mg::expr
