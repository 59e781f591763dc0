// core/expr_arith.cc — arithmetic, comparison, boolean and conditional expression operators,
// with MongoDB's typing: integer operands give an integer (a double on overflow), any double
// gives a double, null or missing gives null, any other type is TypeMismatch.
#include <cmath>

#include "core/compare.h"
#include "core/expr_impl.h"

namespace mg::expr {

namespace {

bool is_num(MpView v) {
  return v.valid() && v.is_number();
}

void need_number(std::string_view op, MpView v) {
  if (!is_num(v)) type_error(op, "only supports numeric types", v);
}

// A running sum or product of int64 that turns into a double on overflow or a double operand.
struct Acc {
  bool is_int = true;
  int64_t i = 0;
  double d = 0;
  void add(MpView v) {
    if (is_int && v.type() == MpType::Int) {
      int64_t r;
      if (!__builtin_add_overflow(i, v.as_int(), &r)) return void(i = r);
    }
    if (is_int) d = double(i), is_int = false;
    d += v.as_double();
  }
  void mul(MpView v) {
    if (is_int && v.type() == MpType::Int) {
      int64_t r;
      if (!__builtin_mul_overflow(i, v.as_int(), &r)) return void(i = r);
    }
    if (is_int) d = double(i), is_int = false;
    d *= v.as_double();
  }
  MpView put(std::string& out) const { return is_int ? put_int(out, i) : put_double(out, d); }
};

MpView op_add(std::string_view op, std::span<const MpView> a, std::string& out) {
  Acc acc;
  const MpView* date = nullptr;
  for (auto& v : a) {
    if (is_nullish(v)) return put_null(out);
    if (v.type() == MpType::Date) {
      if (date) fail(ErrorCode::TypeMismatch, "only one date allowed in an $add expression");
      date = &v;
    } else if (!v.is_number()) {
      type_error(op, "only supports numeric or date types", v);
    } else {
      acc.add(v);
    }
  }
  if (!date) return acc.put(out);
  double ms = acc.is_int ? double(acc.i) : std::llround(acc.d);
  return put_date(out, Date::from_millis(date->as_date().millis() + int64_t(ms)));
}

MpView op_subtract(std::string_view, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0]) || is_nullish(a[1])) return put_null(out);
  MpType t0 = a[0].type(), t1 = a[1].type();
  if (t0 == MpType::Date && t1 == MpType::Date)
    return put_int(out, a[0].as_date().millis() - a[1].as_date().millis());
  if (t0 == MpType::Date && a[1].is_number()) {
    int64_t ms = t1 == MpType::Int ? a[1].as_int() : std::llround(a[1].as_double());
    return put_date(out, Date::from_millis(a[0].as_date().millis() - ms));
  }
  if (!a[0].is_number() || !a[1].is_number())
    fail(ErrorCode::TypeMismatch, "can't $subtract " + std::string(expr_type_name(a[1])) +
                                      " from " + std::string(expr_type_name(a[0])));
  if (t0 == MpType::Int && t1 == MpType::Int) {
    int64_t r;
    if (!__builtin_sub_overflow(a[0].as_int(), a[1].as_int(), &r)) return put_int(out, r);
  }
  return put_double(out, a[0].as_double() - a[1].as_double());
}

MpView op_multiply(std::string_view op, std::span<const MpView> a, std::string& out) {
  Acc acc;
  acc.i = 1;
  for (auto& v : a) {
    if (is_nullish(v)) return put_null(out);
    need_number(op, v);
    acc.mul(v);
  }
  return acc.put(out);
}

MpView op_divide(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0]) || is_nullish(a[1])) return put_null(out);
  need_number(op, a[0]), need_number(op, a[1]);
  if (a[1].as_double() == 0) fail(ErrorCode::BadValue, "can't $divide by zero");
  return put_double(out, a[0].as_double() / a[1].as_double());
}

MpView op_mod(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0]) || is_nullish(a[1])) return put_null(out);
  need_number(op, a[0]), need_number(op, a[1]);
  if (a[1].as_double() == 0) fail(ErrorCode::BadValue, "can't $mod by zero");
  if (a[0].type() == MpType::Int && a[1].type() == MpType::Int) {
    if (a[1].as_int() == -1) return put_int(out, 0);
    return put_int(out, a[0].as_int() % a[1].as_int());
  }
  return put_double(out, std::fmod(a[0].as_double(), a[1].as_double()));
}

MpView op_abs(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  need_number(op, a[0]);
  if (a[0].type() == MpType::Int && a[0].as_int() != INT64_MIN)
    return put_int(out, std::llabs(a[0].as_int()));
  return put_double(out, std::fabs(a[0].as_double()));
}

template <double (*F)(double)>
MpView op_round_like(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  need_number(op, a[0]);
  if (a[0].type() == MpType::Int) return put_raw(out, a[0].bytes());
  return put_double(out, F(a[0].as_double()));
}

// $round / $trunc: [number, place] (place -20..100), half to even for $round as in MongoDB.
template <bool Round>
MpView op_round(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  need_number(op, a[0]);
  int64_t place = 0;
  if (a.size() > 1) {
    if (is_nullish(a[1])) return put_null(out);
    if (!integral(a[1], place) || place < -20 || place > 100)
      fail(ErrorCode::BadValue, std::string(op) + ": place must be an integer in [-20, 100]");
  }
  auto f = [](double x) { return Round ? std::nearbyint(x) : std::trunc(x); };
  if (a[0].type() == MpType::Int) {
    if (place >= 0) return put_raw(out, a[0].bytes());
    double scale = std::pow(10.0, double(-place));
    return put_int(out, int64_t(f(double(a[0].as_int()) / scale) * scale));
  }
  double x = a[0].as_double(), scale = std::pow(10.0, double(place));
  return put_double(out, place == 0 ? f(x) : f(x * scale) / scale);
}

MpView op_sqrt(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  need_number(op, a[0]);
  if (a[0].as_double() < 0) fail(ErrorCode::BadValue, "$sqrt's argument must be >= 0");
  return put_double(out, std::sqrt(a[0].as_double()));
}

MpView op_pow(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0]) || is_nullish(a[1])) return put_null(out);
  need_number(op, a[0]), need_number(op, a[1]);
  if (a[0].as_double() == 0 && a[1].as_double() < 0)
    fail(ErrorCode::BadValue, "$pow cannot take a base of 0 and a negative exponent");
  if (a[0].type() == MpType::Int && a[1].type() == MpType::Int && a[1].as_int() >= 0) {
    int64_t r = 1, b = a[0].as_int();
    bool overflow = false;
    for (int64_t e = a[1].as_int(); e > 0 && !overflow; --e)
      overflow = __builtin_mul_overflow(r, b, &r) || (e > 64 && (b < -1 || b > 1));
    if (!overflow) return put_int(out, r);
  }
  return put_double(out, std::pow(a[0].as_double(), a[1].as_double()));
}

template <double (*F)(double), bool Positive>
MpView op_math(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  need_number(op, a[0]);
  if (Positive && a[0].as_double() <= 0)
    fail(ErrorCode::BadValue, std::string(op) + "'s argument must be a positive number");
  return put_double(out, F(a[0].as_double()));
}

double exp_(double x) {
  return std::exp(x);
}
double log_(double x) {
  return std::log(x);
}
double log10_(double x) {
  return std::log10(x);
}
double ceil_(double x) {
  return std::ceil(x);
}
double floor_(double x) {
  return std::floor(x);
}

enum Cmp { EQ, NE, GT, GTE, LT, LTE, CMP };
template <Cmp C>
MpView op_compare(std::string_view, std::span<const MpView> a, std::string& out) {
  int c = expr_compare(a[0], a[1]);
  switch (C) {
    case EQ:
      return put_bool(out, c == 0);
    case NE:
      return put_bool(out, c != 0);
    case GT:
      return put_bool(out, c > 0);
    case GTE:
      return put_bool(out, c >= 0);
    case LT:
      return put_bool(out, c < 0);
    case LTE:
      return put_bool(out, c <= 0);
    case CMP:
      return put_int(out, c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  return put_null(out);
}

MpView op_not(std::string_view, std::span<const MpView> a, std::string& out) {
  return put_bool(out, !truthy(a[0]));
}

// $and / $or: operands evaluated left to right until the result is known.
class Logic final : public Expr {
 public:
  Logic(bool is_and, std::vector<ExprPtr> args) : and_(is_and), args_(std::move(args)) {}
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::string scratch;
    for (auto& e : args_)
      if (truthy(e->eval(vars, scratch)) != and_) return put_bool(out, !and_);
    return put_bool(out, and_);
  }

 private:
  bool and_;
  std::vector<ExprPtr> args_;
};

template <bool And>
ExprPtr compile_logic(std::string_view op, MpView args, Scope& scope) {
  return std::make_unique<Logic>(And, compile_args(op, args, scope, 0, SIZE_MAX));
}

// $cond, $switch: (case, then) branches and a fallback; `fallback_required` = $switch without
// default fails when nothing matches.
class Branches final : public Expr {
 public:
  std::vector<std::pair<ExprPtr, ExprPtr>> branches;
  ExprPtr fallback;
  MpView eval(ExprVars& vars, std::string& out) const override {
    for (auto& [c, t] : branches)
      if (truthy(c->eval(vars, out))) return t->eval(vars, out);
    if (!fallback)
      fail(ErrorCode::BadValue,
           "$switch could not find a matching branch for an input, and no default was specified");
    return fallback->eval(vars, out);
  }
};

ExprPtr compile_cond(std::string_view op, MpView args, Scope& scope) {
  auto b = std::make_unique<Branches>();
  if (args.type() == MpType::Array) {
    auto v = compile_args(op, args, scope, 3, 3);
    b->branches.emplace_back(std::move(v[0]), std::move(v[1]));
    b->fallback = std::move(v[2]);
    return b;
  }
  MpView m = map_args(op, args, {"if", "then", "else"});
  MpView i = m.get("if"), t = m.get("then"), e = m.get("else");
  if (!i.valid()) fail(ErrorCode::BadValue, "missing 'if' parameter to $cond");
  if (!t.valid()) fail(ErrorCode::BadValue, "missing 'then' parameter to $cond");
  if (!e.valid()) fail(ErrorCode::BadValue, "missing 'else' parameter to $cond");
  b->branches.emplace_back(compile(i, scope), compile(t, scope));
  b->fallback = compile(e, scope);
  return b;
}

ExprPtr compile_switch(std::string_view op, MpView args, Scope& scope) {
  MpView m = map_args(op, args, {"branches", "default"});
  MpView br = m.get("branches"), def = m.get("default");
  if (!br.valid() || br.type() != MpType::Array)
    fail(ErrorCode::BadValue, "$switch expected an array for 'branches'");
  auto b = std::make_unique<Branches>();
  ArrayIter it(br);
  MpView e;
  while (it.next(e)) {
    if (e.type() != MpType::Map)
      fail(ErrorCode::BadValue, "$switch expected each branch to be an object");
    map_args("$switch branch", e, {"case", "then"});
    MpView c = e.get("case"), t = e.get("then");
    if (!c.valid() || !t.valid())
      fail(ErrorCode::BadValue, "$switch requires each branch have a 'case' and a 'then'");
    b->branches.emplace_back(compile(c, scope), compile(t, scope));
  }
  if (def.valid()) b->fallback = compile(def, scope);
  return b;
}

class IfNull final : public Expr {
 public:
  explicit IfNull(std::vector<ExprPtr> args) : args_(std::move(args)) {}
  MpView eval(ExprVars& vars, std::string& out) const override {
    for (size_t i = 0; i + 1 < args_.size(); ++i) {
      MpView v = args_[i]->eval(vars, out);
      if (!is_nullish(v)) return v;
    }
    return args_.back()->eval(vars, out);
  }

 private:
  std::vector<ExprPtr> args_;
};

ExprPtr compile_if_null(std::string_view op, MpView args, Scope& scope) {
  return std::make_unique<IfNull>(compile_args(op, args, scope, 2, SIZE_MAX));
}

}  // namespace

void register_arith_ops(OpTable& t) {
  t.emplace("$add", eager<op_add, 0, SIZE_MAX>);
  t.emplace("$subtract", eager<op_subtract, 2, 2>);
  t.emplace("$multiply", eager<op_multiply, 0, SIZE_MAX>);
  t.emplace("$divide", eager<op_divide, 2, 2>);
  t.emplace("$mod", eager<op_mod, 2, 2>);
  t.emplace("$abs", eager<op_abs, 1, 1>);
  t.emplace("$ceil", eager<op_round_like<ceil_>, 1, 1>);
  t.emplace("$floor", eager<op_round_like<floor_>, 1, 1>);
  t.emplace("$round", eager<op_round<true>, 1, 2>);
  t.emplace("$trunc", eager<op_round<false>, 1, 2>);
  t.emplace("$sqrt", eager<op_sqrt, 1, 1>);
  t.emplace("$pow", eager<op_pow, 2, 2>);
  t.emplace("$exp", eager<op_math<exp_, false>, 1, 1>);
  t.emplace("$ln", eager<op_math<log_, true>, 1, 1>);
  t.emplace("$log10", eager<op_math<log10_, true>, 1, 1>);
  t.emplace("$eq", eager<op_compare<EQ>, 2, 2>);
  t.emplace("$ne", eager<op_compare<NE>, 2, 2>);
  t.emplace("$gt", eager<op_compare<GT>, 2, 2>);
  t.emplace("$gte", eager<op_compare<GTE>, 2, 2>);
  t.emplace("$lt", eager<op_compare<LT>, 2, 2>);
  t.emplace("$lte", eager<op_compare<LTE>, 2, 2>);
  t.emplace("$cmp", eager<op_compare<CMP>, 2, 2>);
  t.emplace("$and", compile_logic<true>);
  t.emplace("$or", compile_logic<false>);
  t.emplace("$not", eager<op_not, 1, 1>);
  t.emplace("$cond", compile_cond);
  t.emplace("$switch", compile_switch);
  t.emplace("$ifNull", compile_if_null);
}

}  // namespace mg::expr
