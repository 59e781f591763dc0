// core/expr_impl.h — internals shared by the expression files (expr.cc and expr_<family>.cc):
// compile-time scope, the operator table, argument parsing and result writers. Not a public API.
//
// Each family file defines `register_<family>_ops(OpTable&)`, adding a factory per operator
// name; expr.cc builds the table once. A factory compiles `args` (the value under the
// operator's key) into an Expr, throwing BadValue for a wrong shape.
#pragma once

#include <absl/container/inlined_vector.h>

#include <cmath>
#include <span>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "core/expr.h"

namespace mg::expr {

// Variable names visible while compiling; a name's position is its slot in ExprVars::bound.
struct Scope {
  std::vector<std::string> names;
};

ExprPtr compile(MpView spec, Scope& scope);

using Factory = ExprPtr (*)(std::string_view op, MpView args, Scope& scope);
using OpTable = std::unordered_map<std::string_view, Factory>;

void register_arith_ops(OpTable& t);   // arithmetic, comparison, boolean, conditionals
void register_string_ops(OpTable& t);  // strings, conversions, $type
void register_array_ops(OpTable& t);   // arrays, $mergeObjects
void register_date_ops(OpTable& t);    // dates

// The operands of `op`: an array of expressions, or one expression (a non-array argument).
// BadValue unless min <= count <= max.
std::vector<ExprPtr> compile_args(std::string_view op, MpView args, Scope& scope, size_t min,
                                  size_t max);
// The map argument of `op` ({input, as, in} ...): BadValue when not a map or when it has a key
// outside `allowed`.
MpView map_args(std::string_view op, MpView args, std::initializer_list<std::string_view> allowed);
// A bound variable name ("as") checked like MongoDB's: a letter first, then word characters.
std::string var_name(std::string_view op, MpView v);

// An operator evaluated from all its operands (each evaluated first).
using EagerFn = MpView (*)(std::string_view op, std::span<const MpView> args, std::string& out);
class EagerExpr final : public Expr {
 public:
  EagerExpr(std::string_view op, std::vector<ExprPtr> args, EagerFn fn)
      : op_(op), args_(std::move(args)), fn_(fn) {}
  MpView eval(ExprVars& vars, std::string& out) const override;

 private:
  std::string_view op_;  // a key of the static operator table
  std::vector<ExprPtr> args_;
  EagerFn fn_;
};

// Factory for an EagerExpr with [min, max] operands.
template <EagerFn Fn, size_t Min, size_t Max>
ExprPtr eager(std::string_view op, MpView args, Scope& scope) {
  return std::make_unique<EagerExpr>(op, compile_args(op, args, scope, Min, Max), Fn);
}

// ---- operand helpers ----

inline bool is_nullish(MpView v) {
  return !v.valid() || v.type() == MpType::Nil;
}
// [[noreturn]] TypeMismatch "<op> <what>, not <type of v>".
[[noreturn]] void type_error(std::string_view op, std::string_view what, MpView v);
// The value as an int64 when it is an integer or an integral double within range.
bool integral(MpView v, int64_t& out);

// ---- result writers: overwrite `out`, return the view of it ----

MpView put_null(std::string& out);
MpView put_bool(std::string& out, bool b);
MpView put_int(std::string& out, int64_t i);
MpView put_double(std::string& out, double d);
MpView put_str(std::string& out, std::string_view s);
MpView put_date(std::string& out, Date d);
MpView put_raw(std::string& out, std::string_view bytes);

}  // namespace mg::expr
