// core/update.cc — update documents compiled once, applied to one Value tree at a time.
//
// Design: `Update::compile` parses the update map into a list of Actions, one per (operator,
// path), each owning its parsed FieldPath and decoded operand, so `updateMany` parses once.
// Compile-time checks: operator names, operand shapes, field names of stored values (§4), and
// path conflicts across all operators (same path or one a prefix of another, found by sorting
// the paths component-wise and comparing neighbours). The actions then run in MongoDB 5's field
// order (component-wise, numeric components numerically), so new fields are created in the
// order Mongo creates them. `apply` walks the owned Value tree (value.h); every action reports
// precisely whether it changed the document, comparing values structurally (which is byte
// identity of their encodings), so the whole document is never re-encoded to detect a no-op.
// $pull's element matcher lives in update_pull.cc (a small local matcher, so updates do not
// depend on the query engine).
#include "core/update.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/compare.h"
#include "core/error.h"
#include "core/path.h"
#include "core/sort.h"
#include "core/update_pull.h"

namespace mg {
namespace {

using update_detail::PullMatcher;

constexpr size_t kMaxPadding = 1500000;  // MongoDB's limit on nil-padding an array

// True when a and b encode to the same bytes (Value::encode is canonical).
bool identical(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case MpType::Nil:
      return true;
    case MpType::Bool:
      return a.as_bool() == b.as_bool();
    case MpType::Int:
      return a.as_int() == b.as_int();
    case MpType::Float: {
      double x = a.as_double(), y = b.as_double();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case MpType::Str:
    case MpType::Bin:
      return a.as_str() == b.as_str();
    case MpType::Date:
      return a.as_date() == b.as_date();
    case MpType::Array:
      return std::equal(a.as_array().begin(), a.as_array().end(), b.as_array().begin(),
                        b.as_array().end(), identical);
    case MpType::Map:
      return std::equal(a.as_map().begin(), a.as_map().end(), b.as_map().begin(), b.as_map().end(),
                        [](const auto& x, const auto& y) {
                          return x.first == y.first && identical(x.second, y.second);
                        });
  }
  return false;
}

// ---- paths over Value trees ----------------------------------------------------------------

// The existing child of container `c` for component i, or nullptr.
Value* child(Value& c, const FieldPath& p, size_t i) {
  if (c.is_map()) return c.find(p.parts[i]);
  if (c.is_array()) {
    int64_t pos = p.positions[i];
    auto& a = c.as_array();
    if (pos >= 0 && size_t(pos) < a.size()) return &a[size_t(pos)];
  }
  return nullptr;
}

// The value reached by the first n components, or nullptr when missing or blocked by a scalar
// (a no-op for $unset, $pop, $pull and a $rename source, as in MongoDB).
Value* find_path(Value& doc, const FieldPath& p, size_t n) {
  Value* cur = &doc;
  for (size_t i = 0; i < n && cur; ++i) cur = child(*cur, p, i);
  return cur;
}

// The slot for component i in container `c`; a missing one is created as nil (arrays are
// padded with nils, as in MongoDB) and `created` is set. Throws TypeMismatch through a scalar.
Value& slot(Value& c, const FieldPath& p, size_t i, bool& created) {
  if (c.is_map()) {
    if (Value* v = c.find(p.parts[i])) return *v;
    created = true;
    return c.set(p.parts[i], Value());
  }
  if (!c.is_array())
    fail(ErrorCode::TypeMismatch, "cannot use the part '" + p.parts[i] + "' of '" + p.dotted +
                                      "' to traverse a value of type " + mp_type_name(c.type()));
  int64_t pos = p.positions[i];
  if (pos < 0)
    fail(ErrorCode::TypeMismatch,
         "cannot create the field '" + p.parts[i] + "' of '" + p.dotted + "' in an array");
  auto& a = c.as_array();
  if (size_t(pos) < a.size()) return a[size_t(pos)];
  if (size_t(pos) - a.size() > kMaxPadding)
    fail(ErrorCode::BadValue, "'" + p.dotted + "' would pad an array with too many nils");
  a.resize(size_t(pos) + 1);
  created = true;
  return a.back();
}

// The value at `p`, creating maps for missing intermediates and a nil for a missing target
// (then `created` is true).
Value& make_path(Value& doc, const FieldPath& p, bool& created) {
  Value* cur = &doc;
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    bool made = false;
    Value& next = slot(*cur, p, i, made);
    if (made) next = Value::map();
    cur = &next;
  }
  created = false;
  return slot(*cur, p, p.size() - 1, created);
}

// $rename refuses paths through arrays (MongoDB: "cannot be an array element").
void check_no_array(Value& doc, const FieldPath& p, const char* which) {
  Value* cur = &doc;
  for (size_t i = 0; i < p.size(); ++i) {
    if (cur->is_array())
      fail(ErrorCode::BadValue,
           std::string("the $rename ") + which + " '" + p.dotted + "' cannot be an array element");
    if (!cur->is_map()) return;
    cur = cur->find(p.parts[i]);
    if (!cur) return;
  }
}

[[noreturn]] void not_array(const char* op, const FieldPath& p, const Value& v) {
  fail(ErrorCode::TypeMismatch, std::string(op) + " needs an array at '" + p.dotted +
                                    "' but found a value of type " + mp_type_name(v.type()));
}

// Integral value of an int or a float with no fraction.
bool integral(MpView v, int64_t& out) {
  if (v.type() == MpType::Int) {
    out = v.as_int();
    return true;
  }
  if (v.type() != MpType::Float) return false;
  double d = v.as_double();
  if (!(d >= -9.2e18 && d <= 9.2e18) || double(int64_t(d)) != d) return false;
  out = int64_t(d);
  return true;
}

// ---- actions -------------------------------------------------------------------------------

struct Ctx {
  bool inserting;
  Date now;
};

struct Action {
  explicit Action(FieldPath p) : path(std::move(p)) {}
  virtual ~Action() = default;
  virtual bool apply(Value& doc, const Ctx& ctx) const = 0;
  virtual const FieldPath* source() const { return nullptr; }  // $rename's other path
  FieldPath path;
};

bool assign(Value& doc, const FieldPath& p, const Value& v) {
  bool created;
  Value& s = make_path(doc, p, created);
  if (!created && identical(s, v)) return false;
  s = v;
  return true;
}

// $set, $setOnInsert, $currentDate.
struct SetAction : Action {
  enum class Kind { Plain, OnInsert, CurrentDate };
  SetAction(FieldPath p, Kind k, Value v) : Action(std::move(p)), kind(k), value(std::move(v)) {}
  bool apply(Value& doc, const Ctx& ctx) const override {
    if (kind == Kind::OnInsert && !ctx.inserting) return false;
    if (kind == Kind::CurrentDate) return assign(doc, path, Value::date(ctx.now));
    return assign(doc, path, value);
  }
  Kind kind;
  Value value;
};

struct UnsetAction : Action {
  using Action::Action;
  bool apply(Value& doc, const Ctx&) const override {
    Value* parent = find_path(doc, path, path.size() - 1);
    if (!parent) return false;
    if (parent->is_map()) return parent->erase(path.parts.back());
    Value* v = child(*parent, path, path.size() - 1);  // an array element becomes nil
    if (!v || v->is_nil()) return false;
    *v = Value();
    return true;
  }
};

// $inc and $mul.
struct ArithAction : Action {
  ArithAction(FieldPath p, bool m, Value v) : Action(std::move(p)), mul(m), by(std::move(v)) {}
  bool apply(Value& doc, const Ctx&) const override {
    bool created;
    Value& s = make_path(doc, path, created);
    if (created) {
      if (!mul)
        s = by;
      else
        s = by.type() == MpType::Int ? Value::integer(0) : Value::float64(0.0);
      return true;
    }
    if (!s.is_number())
      fail(ErrorCode::TypeMismatch, std::string("cannot apply ") + (mul ? "$mul" : "$inc") +
                                        " to '" + path.dotted + "' of non-numeric type " +
                                        mp_type_name(s.type()));
    Value r = compute(s);
    if (identical(s, r)) return false;
    s = std::move(r);
    return true;
  }
  Value compute(const Value& cur) const {
    if (cur.type() == MpType::Int && by.type() == MpType::Int) {
      int64_t r;
      bool overflow = mul ? __builtin_mul_overflow(cur.as_int(), by.as_int(), &r)
                          : __builtin_add_overflow(cur.as_int(), by.as_int(), &r);
      if (!overflow) return Value::integer(r);
    }
    double x = cur.as_double(), y = by.as_double();
    return Value::float64(mul ? x * y : x + y);
  }
  bool mul;
  Value by;
};

// $min (sign -1) and $max (sign 1).
struct MinMaxAction : Action {
  MinMaxAction(FieldPath p, int s, MpView v)
      : Action(std::move(p)), sign(s), value(Value::from(v)), encoded(v.bytes()) {}
  bool apply(Value& doc, const Ctx&) const override {
    bool created;
    Value& s = make_path(doc, path, created);
    if (!created) {
      std::string cur = s.encode();
      if (compare_values(MpView(encoded), MpView(cur)) * sign <= 0) return false;
    }
    s = value;
    return true;
  }
  int sign;
  Value value;
  std::string encoded;
};

struct RenameAction : Action {  // path is the destination
  RenameAction(FieldPath to, FieldPath f) : Action(std::move(to)), from(std::move(f)) {}
  const FieldPath* source() const override { return &from; }
  bool apply(Value& doc, const Ctx&) const override {
    check_no_array(doc, from, "source");
    check_no_array(doc, path, "destination");
    Value* parent = find_path(doc, from, from.size() - 1);
    if (!parent || !parent->is_map()) return false;
    Value* src = parent->find(from.parts.back());
    if (!src) return false;
    Value v = std::move(*src);
    parent->erase(from.parts.back());
    bool created;
    make_path(doc, path, created) = std::move(v);
    return true;
  }
  FieldPath from;
};

struct PushAction : Action {
  using Action::Action;
  bool apply(Value& doc, const Ctx&) const override;
  void sort_array(Value::Array& arr) const;
  std::vector<Value> each;
  std::optional<int64_t> slice, position;
  std::optional<SortSpec> sort_by;  // $sort: {field: dir}
  int sort_dir = 0;                 // $sort: 1 | -1
};

bool PushAction::apply(Value& doc, const Ctx&) const {
  bool created;
  Value& s = make_path(doc, path, created);
  if (created) s = Value::array();
  if (!s.is_array()) not_array("$push", path, s);
  bool reshapes = slice || sort_by || sort_dir;
  Value before = !created && reshapes ? s : Value();
  auto& arr = s.as_array();
  auto size = int64_t(arr.size()), at = size;
  if (position)
    at = *position < 0 ? std::max<int64_t>(0, size + *position) : std::min(*position, size);
  arr.insert(arr.begin() + at, each.begin(), each.end());
  if (sort_by || sort_dir) sort_array(arr);
  if (slice) {
    auto n = int64_t(arr.size()), keep = std::min(n, *slice < 0 ? -*slice : *slice);
    if (*slice >= 0)
      arr.erase(arr.begin() + keep, arr.end());
    else
      arr.erase(arr.begin(), arr.begin() + (n - keep));
  }
  if (created) return true;
  return reshapes ? !identical(before, s) : !each.empty();
}

void PushAction::sort_array(Value::Array& arr) const {
  std::vector<std::string> enc;
  enc.reserve(arr.size());
  for (const Value& v : arr) enc.push_back(v.encode());
  std::vector<size_t> idx(arr.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    MpView x(enc[a]), y(enc[b]);
    return (sort_by ? sort_by->compare(x, y) : sort_dir * compare_values(x, y)) < 0;
  });
  Value::Array out;
  out.reserve(arr.size());
  for (size_t i : idx) out.push_back(std::move(arr[i]));
  arr = std::move(out);
}

struct AddToSetAction : Action {
  using Action::Action;
  bool apply(Value& doc, const Ctx&) const override {
    bool created;
    Value& s = make_path(doc, path, created);
    if (created) s = Value::array();
    if (!s.is_array()) not_array("$addToSet", path, s);
    auto& arr = s.as_array();
    std::vector<std::string> have;
    have.reserve(arr.size() + each.size());
    for (const Value& v : arr) have.push_back(v.encode());
    bool added = false;
    for (size_t i = 0; i < each.size(); ++i) {
      MpView x(encoded[i]);
      bool dup = std::any_of(have.begin(), have.end(),
                             [&](const std::string& h) { return values_equal(MpView(h), x); });
      if (dup) continue;
      arr.push_back(each[i]);
      have.push_back(encoded[i]);
      added = true;
    }
    return created || added;
  }
  std::vector<Value> each;
  std::vector<std::string> encoded;
};

struct PopAction : Action {
  PopAction(FieldPath p, bool f) : Action(std::move(p)), first(f) {}
  bool apply(Value& doc, const Ctx&) const override {
    Value* v = find_path(doc, path, path.size());
    if (!v) return false;
    if (!v->is_array()) not_array("$pop", path, *v);
    auto& arr = v->as_array();
    if (arr.empty()) return false;
    arr.erase(first ? arr.begin() : arr.end() - 1);
    return true;
  }
  bool first;
};

struct PullAction : Action {
  PullAction(FieldPath p, PullMatcher m) : Action(std::move(p)), matcher(std::move(m)) {}
  bool apply(Value& doc, const Ctx&) const override {
    Value* v = find_path(doc, path, path.size());
    if (!v) return false;
    if (!v->is_array()) not_array("$pull", path, *v);
    auto& arr = v->as_array();
    size_t before = arr.size();
    std::string enc;
    auto gone = std::remove_if(arr.begin(), arr.end(), [&](const Value& e) {
      enc.clear();
      MpWriter w(enc);
      e.encode(w);
      return matcher.matches(MpView(enc));
    });
    arr.erase(gone, arr.end());
    return arr.size() != before;
  }
  PullMatcher matcher;
};

// ---- compilation ---------------------------------------------------------------------------

enum class OpKind {
  Set,
  Unset,
  Inc,
  Mul,
  Min,
  Max,
  Rename,
  Push,
  Pull,
  AddToSet,
  Pop,
  SetOnInsert,
  CurrentDate
};

OpKind op_kind(std::string_view name) {
  static const std::pair<std::string_view, OpKind> kOps[] = {{"$set", OpKind::Set},
                                                             {"$unset", OpKind::Unset},
                                                             {"$inc", OpKind::Inc},
                                                             {"$mul", OpKind::Mul},
                                                             {"$min", OpKind::Min},
                                                             {"$max", OpKind::Max},
                                                             {"$rename", OpKind::Rename},
                                                             {"$push", OpKind::Push},
                                                             {"$pull", OpKind::Pull},
                                                             {"$addToSet", OpKind::AddToSet},
                                                             {"$pop", OpKind::Pop},
                                                             {"$setOnInsert", OpKind::SetOnInsert},
                                                             {"$currentDate", OpKind::CurrentDate}};
  for (auto& [n, k] : kOps)
    if (n == name) return k;
  fail(ErrorCode::BadValue, "unknown update operator '" + std::string(name) + "'");
}

FieldPath parse_path(std::string_view op, std::string_view dotted) {
  FieldPath p = FieldPath::parse(dotted);
  for (const std::string& part : p.parts)
    if (part[0] == '$')
      fail(ErrorCode::BadValue, std::string(op) + ": the path '" + p.dotted +
                                    "' has a '$'-prefixed component (positional operators are "
                                    "not supported)");
  return p;
}

// A value about to be stored must follow the field-name rules of §4.
Value stored_value(std::string_view op, const FieldPath& p, MpView v) {
  ValidateOptions o;
  o.require_map = false;
  o.document_names = true;
  o.max_bytes = 0;
  Status s = validate(v.bytes(), o);
  if (!s.ok()) fail(ErrorCode::BadValue, std::string(op) + " '" + p.dotted + "': " + s.message);
  return Value::from(v);
}

bool has_dollar_key(MpView v) {
  bool any = false;
  if (v.type() == MpType::Map) update_detail::all_dollar_keys(v, any);
  return any;
}

// $each items of $push/$addToSet (or the single value) into `each`; returns the modifiers map
// or an invalid view.
MpView each_items(std::string_view op, const FieldPath& p, MpView v, std::vector<Value>& each) {
  if (!has_dollar_key(v)) {
    each.push_back(stored_value(op, p, v));
    return MpView();
  }
  MpView items = v.get("$each");
  if (!items.valid())
    fail(ErrorCode::BadValue,
         std::string(op) + " '" + p.dotted + "': a map with '$' keys needs $each");
  if (items.type() != MpType::Array)
    fail(ErrorCode::BadValue, std::string(op) + " '" + p.dotted + "': $each must be an array");
  ArrayIter it(items);
  MpView e;
  while (it.next(e)) each.push_back(stored_value(op, p, e));
  return v;
}

int64_t modifier_int(const FieldPath& p, std::string_view name, MpView v) {
  int64_t n;
  if (!integral(v, n))
    fail(ErrorCode::BadValue,
         "$push '" + p.dotted + "': " + std::string(name) + " must be an integer");
  constexpr int64_t kHuge = int64_t(1) << 40;  // beyond any array: same effect, no overflow
  return std::clamp(n, -kHuge, kHuge);
}

void push_sort(PushAction& a, MpView v) {
  int64_t dir;
  if (integral(v, dir) && (dir == 1 || dir == -1)) {
    a.sort_dir = int(dir);
  } else if (v.type() == MpType::Map && v.count() > 0) {
    a.sort_by = SortSpec::compile(v);
  } else {
    fail(ErrorCode::BadValue,
         "$push '" + a.path.dotted + "': $sort must be 1, -1 or {field: 1|-1}");
  }
}

std::unique_ptr<Action> build_push(FieldPath p, MpView v) {
  auto a = std::make_unique<PushAction>(std::move(p));
  MpView mods = each_items("$push", a->path, v, a->each);
  if (!mods.valid()) return a;
  MapIter it(mods);
  std::string_view k;
  MpView m;
  while (it.next(k, m)) {
    if (k == "$each") continue;
    if (k == "$slice")
      a->slice = modifier_int(a->path, k, m);
    else if (k == "$position")
      a->position = modifier_int(a->path, k, m);
    else if (k == "$sort")
      push_sort(*a, m);
    else
      fail(ErrorCode::BadValue,
           "$push '" + a->path.dotted + "': unknown modifier '" + std::string(k) + "'");
  }
  return a;
}

std::unique_ptr<Action> build_add_to_set(FieldPath p, MpView v) {
  auto a = std::make_unique<AddToSetAction>(std::move(p));
  MpView mods = each_items("$addToSet", a->path, v, a->each);
  if (mods.valid() && mods.count() != 1)
    fail(ErrorCode::BadValue, "$addToSet '" + a->path.dotted + "': only $each is allowed");
  for (const Value& e : a->each) a->encoded.push_back(e.encode());
  return a;
}

std::unique_ptr<Action> build_arith(OpKind k, FieldPath p, MpView v) {
  const char* op = k == OpKind::Mul ? "$mul" : "$inc";
  if (!v.is_number())
    fail(ErrorCode::BadValue, std::string(op) + " '" + p.dotted +
                                  "' needs a numeric argument, not " + mp_type_name(v.type()));
  return std::make_unique<ArithAction>(std::move(p), k == OpKind::Mul, Value::from(v));
}

std::unique_ptr<Action> build_current_date(FieldPath p, MpView v) {
  bool ok = v.type() == MpType::Bool;
  if (v.type() == MpType::Map && v.count() == 1) {
    MpView t = v.get("$type");
    ok =
        t.valid() && t.type() == MpType::Str && (t.as_str() == "date" || t.as_str() == "timestamp");
  }
  if (!ok)
    fail(ErrorCode::BadValue,
         "$currentDate '" + p.dotted + "' needs true or {$type: \"date\" | \"timestamp\"}");
  return std::make_unique<SetAction>(std::move(p), SetAction::Kind::CurrentDate, Value());
}

std::unique_ptr<Action> build_rename(FieldPath from, MpView v) {
  if (v.type() != MpType::Str)
    fail(ErrorCode::BadValue, "$rename '" + from.dotted + "' needs a string destination");
  FieldPath to = parse_path("$rename", v.as_str());
  return std::make_unique<RenameAction>(std::move(to), std::move(from));
}

std::unique_ptr<Action> build_pop(FieldPath p, MpView v) {
  int64_t n;
  if (!integral(v, n) || (n != 1 && n != -1))
    fail(ErrorCode::BadValue, "$pop '" + p.dotted + "' expects 1 or -1");
  return std::make_unique<PopAction>(std::move(p), n == -1);
}

std::unique_ptr<Action> build(OpKind k, std::string_view op, FieldPath p, MpView v) {
  using K = SetAction::Kind;
  switch (k) {
    case OpKind::Set:
      return std::make_unique<SetAction>(std::move(p), K::Plain, stored_value(op, p, v));
    case OpKind::SetOnInsert:
      return std::make_unique<SetAction>(std::move(p), K::OnInsert, stored_value(op, p, v));
    case OpKind::CurrentDate:
      return build_current_date(std::move(p), v);
    case OpKind::Unset:
      return std::make_unique<UnsetAction>(std::move(p));
    case OpKind::Inc:
    case OpKind::Mul:
      return build_arith(k, std::move(p), v);
    case OpKind::Min:
    case OpKind::Max: {
      stored_value(op, p, v);
      return std::make_unique<MinMaxAction>(std::move(p), k == OpKind::Min ? -1 : 1, v);
    }
    case OpKind::Rename:
      return build_rename(std::move(p), v);
    case OpKind::Push:
      return build_push(std::move(p), v);
    case OpKind::AddToSet:
      return build_add_to_set(std::move(p), v);
    case OpKind::Pop:
      return build_pop(std::move(p), v);
    case OpKind::Pull:
      return std::make_unique<PullAction>(std::move(p), PullMatcher::compile(v));
  }
  fail(ErrorCode::InternalError, "unhandled update operator");
}

bool is_prefix(const FieldPath& a, const FieldPath& b) {
  return a.size() <= b.size() && std::equal(a.parts.begin(), a.parts.end(), b.parts.begin());
}

// Same path twice, or one path a prefix of another, is a conflict. Sorted component-wise, a
// prefix comes right before the paths it prefixes, so neighbours suffice.
void check_conflicts(const std::vector<std::unique_ptr<Action>>& actions) {
  std::vector<const FieldPath*> paths;
  for (const auto& a : actions) {
    paths.push_back(&a->path);
    if (const FieldPath* s = a->source()) paths.push_back(s);
  }
  std::sort(paths.begin(), paths.end(),
            [](const FieldPath* a, const FieldPath* b) { return a->parts < b->parts; });
  for (size_t i = 1; i < paths.size(); ++i)
    if (is_prefix(*paths[i - 1], *paths[i]))
      fail(ErrorCode::BadValue, "updating the path '" + paths[i]->dotted +
                                    "' would create a conflict at '" + paths[i - 1]->dotted + "'");
}

// MongoDB 5's processing order: component-wise, numeric components numerically.
bool mongo_order(const std::unique_ptr<Action>& x, const std::unique_ptr<Action>& y) {
  const FieldPath &a = x->path, &b = y->path;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a.parts[i] == b.parts[i]) continue;
    if (a.positions[i] >= 0 && b.positions[i] >= 0 && a.positions[i] != b.positions[i])
      return a.positions[i] < b.positions[i];
    return a.parts[i] < b.parts[i];
  }
  return a.size() < b.size();
}

class CompiledUpdate : public Update {
 public:
  explicit CompiledUpdate(std::vector<std::unique_ptr<Action>> a) : actions_(std::move(a)) {}
  bool apply(Value& doc, bool inserting, Date now) const override {
    if (!doc.is_map()) fail(ErrorCode::BadValue, "an update applies to a map");
    Ctx ctx{inserting, now};
    bool changed = false;
    for (const auto& a : actions_) changed |= a->apply(doc, ctx);
    return changed;
  }

 private:
  std::vector<std::unique_ptr<Action>> actions_;
};

void check_operator_keys(MpView update) {
  size_t ops = 0;
  std::string plain;
  MapIter it(update);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    if (!k.empty() && k[0] == '$')
      ++ops;
    else if (plain.empty())
      plain.append("'").append(k).append("'");
  }
  if (!ops)
    fail(ErrorCode::BadValue,
         "an update needs $-operators such as $set (use replaceOne to replace a document)");
  if (!plain.empty())
    fail(ErrorCode::BadValue, "an update cannot mix $-operators and plain fields (" + plain +
                                  "); use replaceOne to replace a document");
}

}  // namespace

std::unique_ptr<Update> Update::compile(MpView update) {
  if (!update.valid() || update.type() != MpType::Map)
    fail(ErrorCode::BadValue, "an update must be a map of $-operators");
  check_operator_keys(update);
  std::vector<std::unique_ptr<Action>> actions;
  MapIter it(update);
  std::string_view op;
  MpView operand;
  while (it.next(op, operand)) {
    OpKind kind = op_kind(op);
    if (operand.type() != MpType::Map)
      fail(ErrorCode::BadValue,
           std::string(op) + " needs a map of {path: value}, not " + mp_type_name(operand.type()));
    MapIter fields(operand);
    std::string_view path;
    MpView v;
    while (fields.next(path, v)) actions.push_back(build(kind, op, parse_path(op, path), v));
  }
  check_conflicts(actions);
  std::stable_sort(actions.begin(), actions.end(), mongo_order);
  return std::make_unique<CompiledUpdate>(std::move(actions));
}

void set_path(Value& doc, std::string_view dotted, Value v) {
  if (!doc.is_map()) fail(ErrorCode::TypeMismatch, "set_path needs a map");
  FieldPath p = FieldPath::parse(dotted);
  bool created;
  make_path(doc, p, created) = std::move(v);
}

}  // namespace mg
