// core/update_pull.cc — the `$pull` matcher (see update_pull.h for the semantics).
//
// Design: the operand is parsed once into one of three modes, keeping every operand as its
// encoded bytes so matching is a walk over MpViews with compare_values: no allocation per
// element. Query semantics for a field reached by a path (update_pull.h) are implemented by
// `eq_query` / `cond_query` over one reached value; negations ($ne, $nin) are evaluated as
// "no reached value matches the positive form", as MongoDB does across array fan-out.
#include "core/update_pull.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include "core/compare.h"
#include "core/error.h"

namespace mg::update_detail {
namespace {

// Query equality of one reached value (invalid = missing) against x: an array matches when it
// or any element equals x; nil matches missing.
bool eq_query(MpView v, MpView x) {
  if (!v.valid()) return x.type() == MpType::Nil;
  if (values_equal(v, x)) return true;
  if (v.type() != MpType::Array) return false;
  ArrayIter it(v);
  MpView e;
  while (it.next(e))
    if (values_equal(e, x)) return true;
  return false;
}

bool cmp_one(MpView v, MpView x, CondOp op) {
  if (type_rank(v.type()) != type_rank(x.type())) return false;  // type bracketing
  int c = compare_values(v, x);
  switch (op) {
    case CondOp::Gt:
      return c > 0;
    case CondOp::Gte:
      return c >= 0;
    case CondOp::Lt:
      return c < 0;
    default:
      return c <= 0;
  }
}

// Does the reached value v satisfy condition c evaluated as `op` (c.op, or its positive form)?
bool cond_query(MpView v, const Cond& c, CondOp op) {
  MpView x(c.value);
  switch (op) {
    case CondOp::Eq:
      return eq_query(v, x);
    case CondOp::Ne:
      return !eq_query(v, x);
    case CondOp::In:
    case CondOp::Nin: {
      bool any = std::any_of(c.list.begin(), c.list.end(),
                             [&](const std::string& e) { return eq_query(v, MpView(e)); });
      return op == CondOp::In ? any : !any;
    }
    default:
      break;
  }
  if (!v.valid()) return x.type() == MpType::Nil && (op == CondOp::Gte || op == CondOp::Lte);
  if (cmp_one(v, x, op)) return true;
  if (v.type() != MpType::Array) return false;
  ArrayIter it(v);
  MpView e;
  while (it.next(e))
    if (cmp_one(e, x, op)) return true;
  return false;
}

std::vector<Cond> parse_conds(MpView m) {
  static const std::pair<std::string_view, CondOp> kOps[] = {
      {"$eq", CondOp::Eq}, {"$ne", CondOp::Ne},   {"$gt", CondOp::Gt}, {"$gte", CondOp::Gte},
      {"$lt", CondOp::Lt}, {"$lte", CondOp::Lte}, {"$in", CondOp::In}, {"$nin", CondOp::Nin}};
  std::vector<Cond> out;
  MapIter it(m);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    auto op = std::find_if(std::begin(kOps), std::end(kOps), [&](auto& e) { return e.first == k; });
    if (op == std::end(kOps))
      fail(ErrorCode::BadValue, "$pull does not support the condition '" + std::string(k) + "'");
    Cond c{op->second, std::string(v.bytes()), {}};
    if (c.op == CondOp::In || c.op == CondOp::Nin) {
      if (v.type() != MpType::Array)
        fail(ErrorCode::BadValue, "$pull: " + std::string(k) + " needs an array");
      ArrayIter ai(v);
      MpView e;
      while (ai.next(e)) c.list.emplace_back(e.bytes());
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

bool all_dollar_keys(MpView m, bool& any_dollar) {
  size_t n = 0, dollars = 0;
  MapIter it(m);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) ++n, dollars += !k.empty() && k[0] == '$';
  any_dollar = dollars > 0;
  return n > 0 && dollars == n;
}

PullMatcher PullMatcher::compile(MpView operand) {
  PullMatcher m;
  if (operand.type() != MpType::Map) {
    m.value_ = std::string(operand.bytes());
    return m;
  }
  bool any_dollar = false;
  if (all_dollar_keys(operand, any_dollar)) {
    m.mode_ = Mode::Conds;
    m.conds_ = parse_conds(operand);
    return m;
  }
  if (any_dollar) fail(ErrorCode::BadValue, "$pull cannot mix conditions and fields");
  m.mode_ = Mode::Fields;
  MapIter it(operand);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    Field f{FieldPath::parse(k), {}, {}};
    bool nested_dollar = false;
    if (v.type() == MpType::Map && all_dollar_keys(v, nested_dollar)) {
      f.conds = parse_conds(v);
    } else {
      f.value = std::string(v.bytes());
    }
    m.fields_.push_back(std::move(f));
  }
  return m;
}

bool PullMatcher::field_matches(MpView elem, const Field& f) {
  auto any = [&](auto pred) {
    return visit_path(elem, f.path, 0, [&](MpView v) { return pred(v); });
  };
  if (f.conds.empty()) return any([&](MpView v) { return eq_query(v, MpView(f.value)); });
  for (const Cond& c : f.conds) {
    bool negated = c.op == CondOp::Ne || c.op == CondOp::Nin;
    CondOp op = !negated ? c.op : (c.op == CondOp::Ne ? CondOp::Eq : CondOp::In);
    bool hit = any([&](MpView v) { return cond_query(v, c, op); });
    if (hit == negated) return false;
  }
  return true;
}

bool PullMatcher::matches(MpView elem) const {
  switch (mode_) {
    case Mode::Exact:
      return values_equal(elem, MpView(value_));
    case Mode::Conds:
      return std::all_of(conds_.begin(), conds_.end(),
                         [&](const Cond& c) { return cond_query(elem, c, c.op); });
    case Mode::Fields:
      if (elem.type() != MpType::Map) return false;
      return std::all_of(fields_.begin(), fields_.end(),
                         [&](const Field& f) { return field_matches(elem, f); });
  }
  return false;
}

}  // namespace mg::update_detail
