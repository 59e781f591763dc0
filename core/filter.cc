// core/filter.cc — compiling a query filter into a matcher (filter.h).
//
// Design: `Matcher::compile` checks the whole filter once and builds a tree (filter_ops.h):
// logical nodes ($and/$or/$nor and the implicit AND of a map's entries, cheapest first) over
// "path + FieldExpr" nodes; an operator map becomes an AND of leaf predicates, and $ne, $nin,
// $not and {$exists: false} wrap theirs in a NOT evaluated over the whole field, as MongoDB
// does. Operands stay encoded MessagePack, compared with compare_values over MpView, so
// matches() walks the document bytes without allocating. The most common leaf, equality on a
// top-level field, is a dedicated node: one MpView::get and one compare (plus the elements
// when the field is an array). Every compile error is BadValue naming the path.
//
// The planner's view (constraints, only_constraints, equalities) is collected by a second,
// non-throwing walk over the already checked filter, from its top-level conjunction only.
#include "core/filter.h"

#include <algorithm>
#include <cmath>

#include "core/compare.h"
#include "core/error.h"
#include "core/filter_ops.h"
#include "core/path.h"

namespace mg {

using namespace filter;

namespace {

// ---- Nodes over a map -------------------------------------------------------------------

struct TrueNode final : Node {
  bool match(MpView) const override { return true; }
  int cost() const override { return 0; }
};

// {f: v} / {f: {$eq: v}} with a single-component path.
struct TopEqNode final : Node {
  TopEqNode(std::string key, std::string op)
      : key_(std::move(key)), op_(std::move(op)), nil_(MpView(op_).type() == MpType::Nil) {}
  bool match(MpView doc) const override {
    MpView v = doc.get(key_);
    if (!v.valid()) return nil_;
    MpView op(op_);
    if (compare_values(v, op) == 0) return true;
    if (v.type() != MpType::Array) return false;
    ArrayIter it(v);
    MpView e;
    while (it.next(e))
      if (compare_values(e, op) == 0) return true;
    return false;
  }
  int cost() const override { return 1; }
  std::string key_, op_;
  bool nil_;
};

struct PathNode final : Node {
  PathNode(FieldPath p, ExprPtr e) : path_(std::move(p)), expr_(std::move(e)) {}
  bool match(MpView doc) const override { return expr_->match_path(doc, path_); }
  int cost() const override { return expr_->cost() + int(path_.size()); }
  FieldPath path_;
  ExprPtr expr_;
};

enum class Logic { And, Or, Nor };

struct LogicNode final : Node {
  LogicNode(Logic l, std::vector<NodePtr> kids) : logic_(l), kids_(std::move(kids)) {
    std::stable_sort(kids_.begin(), kids_.end(),
                     [](const NodePtr& a, const NodePtr& b) { return a->cost() < b->cost(); });
  }
  bool match(MpView doc) const override {
    if (logic_ == Logic::And) {
      for (auto& k : kids_)
        if (!k->match(doc)) return false;
      return true;
    }
    for (auto& k : kids_)
      if (k->match(doc)) return logic_ == Logic::Or;
    return logic_ == Logic::Nor;
  }
  int cost() const override {
    int c = 1;
    for (auto& k : kids_) c += k->cost();
    return c;
  }
  Logic logic_;
  std::vector<NodePtr> kids_;
};

// ---- Compiling ----------------------------------------------------------------------------

[[noreturn]] void bad(const std::string& msg) {
  fail(ErrorCode::BadValue, msg);
}

std::string where(const std::string& path) {
  return "'" + path + "'";
}

// A map whose keys all start with '$' ({$gt: 1}); a map without any is a literal value
// ({a: 1}); mixing the two is refused.
bool is_operator_map(MpView v, const std::string& path) {
  if (v.type() != MpType::Map || v.count() == 0) return false;
  size_t ops = 0, n = 0;
  MapIter it(v);
  std::string_view k;
  MpView x;
  while (it.next(k, x)) {
    ++n;
    if (!k.empty() && k[0] == '$') ++ops;
  }
  if (ops == 0) return false;
  if (ops != n) bad("cannot mix operators and field names in the condition on " + where(path));
  return true;
}

bool is_logical(std::string_view k) {
  return k == "$and" || k == "$or" || k == "$nor";
}

NodePtr compile_map(MpView m);
ExprPtr compile_ops(MpView ops, const std::string& path);

std::vector<std::string> array_operand(std::string_view op, MpView v, const std::string& path) {
  if (v.type() != MpType::Array) bad(std::string(op) + " on " + where(path) + " needs an array");
  std::vector<std::string> out;
  ArrayIter it(v);
  MpView e;
  while (it.next(e)) {
    if (is_operator_map(e, path))
      bad("cannot use an operator inside " + std::string(op) + " on " + where(path));
    out.emplace_back(e.bytes());
  }
  return out;
}

// A whole number operand ($size, $mod); floats must be integral and finite.
int64_t whole_number(std::string_view op, MpView v, const std::string& path) {
  if (v.type() == MpType::Int) return v.as_int();
  if (v.type() == MpType::Float) {
    double d = v.as_double();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) return int64_t(d);
  }
  bad(std::string(op) + " on " + where(path) + " needs a whole number");
}

ExprPtr compile_size(MpView v, const std::string& path) {
  int64_t n = whole_number("$size", v, path);
  if (n < 0) bad("$size on " + where(path) + " must not be negative");
  return make_size(n);
}

ExprPtr compile_mod(MpView v, const std::string& path) {
  if (v.type() != MpType::Array || v.count() != 2)
    bad("$mod on " + where(path) + " needs an array [divisor, remainder]");
  auto num = [&](MpView x) -> int64_t {
    if (!x.is_number() || !std::isfinite(x.as_double()) || std::fabs(x.as_double()) >= 9.2e18)
      bad("$mod on " + where(path) + " needs numbers");
    return x.type() == MpType::Int ? x.as_int() : int64_t(std::trunc(x.as_double()));
  };
  int64_t d = num(v.at(0)), r = num(v.at(1));
  if (d == 0) bad("$mod on " + where(path) + " has a divisor of 0");
  return make_mod(d, r);
}

ExprPtr compile_all(MpView v, const std::string& path) {
  if (v.type() != MpType::Array) bad("$all on " + where(path) + " needs an array");
  if (v.count() == 0) return make_never();  // {$all: []} matches nothing, as in MongoDB
  std::vector<ExprPtr> all;
  ArrayIter it(v);
  MpView e;
  while (it.next(e)) {
    if (is_operator_map(e, path)) {
      MpView em = e.get("$elemMatch");
      if (e.count() != 1 || !em.valid())
        bad("$all on " + where(path) + " takes values or {$elemMatch: ...} conditions");
      all.push_back(compile_ops(e, path));
    } else {
      all.push_back(make_eq(std::string(e.bytes())));
    }
  }
  return make_and(std::move(all));
}

// Value form ({$gt: 1, $lt: 5} on each element) when the first key is an operator other than
// a logical one; otherwise a sub-filter on each map element.
ExprPtr compile_elem_match(MpView v, const std::string& path) {
  if (v.type() != MpType::Map) bad("$elemMatch on " + where(path) + " needs a map");
  if (v.count() > 0) {
    MapIter it(v);
    std::string_view k;
    MpView x;
    it.next(k, x);
    if (!k.empty() && k[0] == '$' && !is_logical(k))
      return make_elem_match_value(compile_ops(v, path));
  }
  return make_elem_match_doc(compile_map(v));
}

ExprPtr compile_not(MpView v, const std::string& path) {
  if (v.type() != MpType::Map || v.count() == 0)
    bad("$not on " + where(path) + " needs a non-empty operator map or {$regex: ...}");
  if (!is_operator_map(v, path))
    bad("$not on " + where(path) + " needs operators, not a value (use $ne)");
  return make_not(compile_ops(v, path));
}

ExprPtr compile_regex(MpView ops, MpView pattern, const std::string& path) {
  if (pattern.type() != MpType::Str) bad("$regex on " + where(path) + " needs a string");
  std::string_view options;
  MpView o = ops.get("$options");
  if (o.valid()) {
    if (o.type() != MpType::Str) bad("$options on " + where(path) + " needs a string");
    options = o.as_str();
  }
  return make_regex(pattern.as_str(), options, path);
}

ExprPtr compile_cmp_op(std::string_view op, MpView v) {
  std::string x(v.bytes());
  if (op == "$gt") return make_cmp(Cmp::Gt, std::move(x));
  if (op == "$gte") return make_cmp(Cmp::Gte, std::move(x));
  if (op == "$lt") return make_cmp(Cmp::Lt, std::move(x));
  if (op == "$lte") return make_cmp(Cmp::Lte, std::move(x));
  return nullptr;
}

// One operator of an operator map. `ops` is the whole map (for $regex / $options).
ExprPtr compile_op(std::string_view op, MpView v, MpView ops, const std::string& path) {
  if (op == "$eq") return make_eq(std::string(v.bytes()));
  if (op == "$ne") return make_not(make_eq(std::string(v.bytes())));
  if (ExprPtr c = compile_cmp_op(op, v)) return c;
  if (op == "$in") return make_in(array_operand(op, v, path));
  if (op == "$nin") return make_not(make_in(array_operand(op, v, path)));
  if (op == "$exists") return truthy(v) ? make_exists() : make_not(make_exists());
  if (op == "$type") return make_type(parse_type_mask(v, path));
  if (op == "$regex") return compile_regex(ops, v, path);
  if (op == "$size") return compile_size(v, path);
  if (op == "$all") return compile_all(v, path);
  if (op == "$elemMatch") return compile_elem_match(v, path);
  if (op == "$mod") return compile_mod(v, path);
  if (op == "$not") return compile_not(v, path);
  bad("unknown operator '" + std::string(op) + "' on " + where(path));
}

ExprPtr compile_ops(MpView ops, const std::string& path) {
  std::vector<ExprPtr> all;
  bool has_regex = false;
  MapIter it(ops);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    if (k == "$options") continue;
    has_regex = has_regex || k == "$regex";
    all.push_back(compile_op(k, v, ops, path));
  }
  if (!has_regex && ops.get("$options").valid())
    bad("$options on " + where(path) + " needs a $regex");
  return make_and(std::move(all));
}

NodePtr compile_field(std::string_view key, MpView v) {
  FieldPath path = FieldPath::parse(key);
  if (!is_operator_map(v, path.dotted)) {
    if (path.size() == 1) return std::make_unique<TopEqNode>(path.dotted, std::string(v.bytes()));
    return std::make_unique<PathNode>(std::move(path), make_eq(std::string(v.bytes())));
  }
  if (v.count() == 1 && path.size() == 1) {
    MapIter it(v);
    std::string_view op;
    MpView x;
    it.next(op, x);
    if (op == "$eq") return std::make_unique<TopEqNode>(path.dotted, std::string(x.bytes()));
  }
  ExprPtr e = compile_ops(v, path.dotted);
  return std::make_unique<PathNode>(std::move(path), std::move(e));
}

NodePtr compile_logical(std::string_view k, MpView v) {
  if (v.type() != MpType::Array || v.count() == 0)
    bad(std::string(k) + " needs a non-empty array of maps");
  std::vector<NodePtr> kids;
  ArrayIter it(v);
  MpView e;
  while (it.next(e)) {
    if (e.type() != MpType::Map) bad(std::string(k) + " needs a non-empty array of maps");
    kids.push_back(compile_map(e));
  }
  Logic l = k == "$and" ? Logic::And : (k == "$or" ? Logic::Or : Logic::Nor);
  if (l != Logic::Nor && kids.size() == 1) return std::move(kids[0]);
  return std::make_unique<LogicNode>(l, std::move(kids));
}

// A filter map: the AND of its entries.
NodePtr compile_map(MpView m) {
  std::vector<NodePtr> kids;
  MapIter it(m);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    if (is_logical(k)) {
      kids.push_back(compile_logical(k, v));
    } else if (k == "$comment") {
      continue;  // ignored, as in MongoDB
    } else if (!k.empty() && k[0] == '$') {
      bad("unknown top-level operator '" + std::string(k) + "'");
    } else {
      kids.push_back(compile_field(k, v));
    }
  }
  if (kids.empty()) return std::make_unique<TrueNode>();
  if (kids.size() == 1) return std::move(kids[0]);
  return std::make_unique<LogicNode>(Logic::And, std::move(kids));
}

// ---- The planner's view -------------------------------------------------------------------

bool is_scalar(MpView v) {
  MpType t = v.type();
  return t != MpType::Array && t != MpType::Map;
}

// Walks the top-level conjunction (flattening $and). Never throws: the filter compiled.
struct Collector {
  std::vector<PathConstraint> cons;
  std::vector<std::pair<std::string, std::string>> eqs;
  bool pure = true;  // nothing but scalar equalities / ranges, at most one of each per path

  PathConstraint& at(std::string_view path) {
    for (auto& c : cons)
      if (c.path == path) return c;
    cons.emplace_back().path = std::string(path);
    return cons.back();
  }

  void filter(MpView m) {
    MapIter it(m);
    std::string_view k;
    MpView v;
    while (it.next(k, v)) {
      if (k == "$and") {
        ArrayIter ai(v);
        MpView e;
        while (ai.next(e)) filter(e);
      } else if (k == "$comment") {
        continue;
      } else if (!k.empty() && k[0] == '$') {
        pure = false;  // $or, $nor
      } else {
        field(k, v);
      }
    }
  }

  void field(std::string_view path, MpView v) {
    bool ops =
        v.type() == MpType::Map && v.count() > 0 && MpView(v.first()).as_str().starts_with('$');
    if (!ops) return equality(path, v);
    MapIter it(v);
    std::string_view op;
    MpView x;
    while (it.next(op, x)) {
      if (op == "$eq")
        equality(path, x);
      else if (op == "$in")
        in(path, x);
      else if (op == "$gt" || op == "$gte")
        bound(path, x, true, op == "$gte");
      else if (op == "$lt" || op == "$lte")
        bound(path, x, false, op == "$lte");
      else
        pure = false;
    }
  }

  void equality(std::string_view path, MpView v) {
    eqs.emplace_back(std::string(path), std::string(v.bytes()));
    if (!is_scalar(v)) return void(pure = false);
    PathConstraint& c = at(path);
    if (c.has_eq) return void(pure = false);  // keep one; the filter is more than it
    c.has_eq = true;
    c.eq_values.emplace_back(v.bytes());
  }

  void in(std::string_view path, MpView arr) {
    std::vector<std::string> vals;
    ArrayIter it(arr);
    MpView e;
    while (it.next(e)) {
      if (!is_scalar(e)) return void(pure = false);
      vals.emplace_back(e.bytes());
    }
    PathConstraint& c = at(path);
    if (c.has_eq) return void(pure = false);
    std::sort(vals.begin(), vals.end(), [](const std::string& a, const std::string& b) {
      return compare_values(MpView(a), MpView(b)) < 0;
    });
    auto same = [](const std::string& a, const std::string& b) {
      return values_equal(MpView(a), MpView(b));
    };
    vals.erase(std::unique(vals.begin(), vals.end(), same), vals.end());
    c.has_eq = true;
    c.eq_values = std::move(vals);
  }

  void bound(std::string_view path, MpView v, bool lower, bool inclusive) {
    if (!is_scalar(v)) return void(pure = false);
    PathConstraint& c = at(path);
    bool& has = lower ? c.has_lower : c.has_upper;
    if (has) return void(pure = false);
    has = true;
    (lower ? c.lower_inclusive : c.upper_inclusive) = inclusive;
    (lower ? c.lower : c.upper) = std::string(v.bytes());
  }
};

class CompiledMatcher final : public Matcher {
 public:
  CompiledMatcher(NodePtr root, bool all, Collector&& c)
      : root_(std::move(root)),
        all_(all),
        cons_(std::move(c.cons)),
        only_(c.pure && !cons_.empty()),
        eqs_(std::move(c.eqs)) {}

  bool matches(MpView doc) const override {
    if (all_) return true;
    if (!doc.valid() || doc.type() != MpType::Map) return false;
    try {
      return root_->match(doc);
    } catch (...) {
      return false;  // nothing throws here; this keeps the promise even on bad_alloc
    }
  }
  bool matches_all() const override { return all_; }
  const std::vector<PathConstraint>& constraints() const override { return cons_; }
  bool only_constraints() const override { return only_; }
  std::vector<std::pair<std::string, std::string>> equalities() const override { return eqs_; }

 private:
  NodePtr root_;
  bool all_;
  std::vector<PathConstraint> cons_;
  bool only_;
  std::vector<std::pair<std::string, std::string>> eqs_;
};

}  // namespace

std::unique_ptr<Matcher> Matcher::compile(MpView f) {
  if (!f.valid() || (f.type() == MpType::Map && f.count() == 0))
    return std::make_unique<CompiledMatcher>(std::make_unique<TrueNode>(), true, Collector{});
  if (f.type() != MpType::Map) bad("a filter must be a map");
  NodePtr root = compile_map(f);
  Collector c;
  c.filter(f);
  bool all = dynamic_cast<const TrueNode*>(root.get()) != nullptr;
  return std::make_unique<CompiledMatcher>(std::move(root), all, std::move(c));
}

}  // namespace mg
