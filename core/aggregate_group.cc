// core/aggregate_group.cc — $group, $bucket and the grouping half of $sortByCount.
//
// The hot path reads the group key and the accumulated fields straight from the documents'
// MessagePack bytes (a field-path expression returns a view, no tree is built), hashes the
// key's canonical bytes (value_key.h, so 1 and 1.0 group together) in a flat hash map, and
// accumulates numbers in place. Groups come out in the order they were first seen.
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/strings/string_view.h>

#include <algorithm>
#include <optional>

#include "core/aggregate_stage.h"
#include "core/compare.h"
#include "core/value_key.h"

namespace mg::agg {

namespace {

enum class Acc : uint8_t { Sum, Avg, Min, Max, First, Last, Push, AddToSet, Count };

struct AccSpec {
  std::string field;
  Acc kind;
  ExprPtr arg;  // null for $count
  int64_t const_int = 0;
  bool const_num = false;  // $sum of an integer constant ({$sum: 1}): no evaluation
};

struct AccState {
  int64_t isum = 0;
  double dsum = 0;
  bool is_double = false;
  int64_t n = 0;      // numbers seen ($avg), values kept ($push/$addToSet)
  bool seen = false;  // $first / $min / $max hold a value
  std::string value;  // $min $max $first $last: encoded
  std::string items;  // $push / $addToSet: encoded elements, concatenated
  std::unique_ptr<absl::flat_hash_set<std::string>> set;  // $addToSet keys

  void add_number(MpView v) {
    if (!is_double && v.type() == MpType::Int) {
      int64_t r;
      if (!__builtin_add_overflow(isum, v.as_int(), &r)) return void(isum = r);
    }
    if (!is_double) dsum = double(isum), is_double = true;
    dsum += v.as_double();
  }
};

Acc acc_kind(std::string_view op) {
  static const std::pair<std::string_view, Acc> names[] = {
      {"$sum", Acc::Sum},   {"$avg", Acc::Avg},           {"$min", Acc::Min},
      {"$max", Acc::Max},   {"$first", Acc::First},       {"$last", Acc::Last},
      {"$push", Acc::Push}, {"$addToSet", Acc::AddToSet}, {"$count", Acc::Count}};
  for (auto& [n, k] : names)
    if (n == op) return k;
  fail(ErrorCode::BadValue, "unknown group operator '" + std::string(op) + "'");
}

// The accumulators of a $group / $bucket `output`, over groups numbered 0, 1, ...
class Accumulators {
 public:
  void add_spec(std::string_view stage, std::string_view field, MpView spec) {
    if (field.empty() || field[0] == '$' || field.find('.') != std::string_view::npos)
      fail(ErrorCode::BadValue, std::string(stage) + ": the field name '" + std::string(field) +
                                    "' cannot be used (no '$' prefix, no '.')");
    if (spec.type() != MpType::Map || spec.count() != 1)
      fail(ErrorCode::BadValue, std::string(stage) + ": the field '" + std::string(field) +
                                    "' must be an accumulator object with one operator");
    std::string_view op = MpView(spec.first()).as_str();
    MpView arg(MpView(spec.first()).end());
    AccSpec a;
    a.field = std::string(field);
    a.kind = acc_kind(op);
    if (a.kind == Acc::Count) {
      if (arg.type() != MpType::Map || arg.count() != 0)
        fail(ErrorCode::BadValue, "$count takes no arguments: {$count: {}}");
    } else {
      if (arg.type() == MpType::Array)
        fail(ErrorCode::BadValue, "the " + std::string(op) + " accumulator is a unary operator");
      a.arg = Expr::compile(arg);
      if (a.kind == Acc::Sum && arg.type() == MpType::Int) {
        a.const_num = true;
        a.const_int = arg.as_int();
      }
    }
    specs_.push_back(std::move(a));
  }

  size_t size() const { return specs_.size(); }

  // Makes room for group g (groups are added in order).
  void add_group(StageCtx& ctx) {
    states_.resize(states_.size() + specs_.size());
    ctx.budget.charge(specs_.size() * sizeof(AccState) + 64);
  }

  // The top-level field accumulator i reads when its argument is a one-part field path
  // ("$score"), else nullptr; `constant` says it reads nothing ($count, {$sum: 1}).
  const std::string* top_field(size_t i, bool& constant) const {
    const AccSpec& a = specs_[i];
    constant = a.kind == Acc::Count || a.const_num;
    if (constant) return nullptr;
    const FieldPath* p = a.arg->field_path();
    return p && p->size() == 1 ? &p->parts[0] : nullptr;
  }

  // accumulate() with the arguments already read: vals[i] is accumulator i's value.
  void accumulate_values(uint32_t g, const MpView* vals, StageCtx& ctx) {
    AccState* st = &states_[size_t(g) * specs_.size()];
    for (size_t i = 0; i < specs_.size(); ++i) {
      const AccSpec& a = specs_[i];
      if (a.kind == Acc::Count || a.const_num)
        add_constant(a, st[i]);
      else
        add(a.kind, st[i], vals[i], ctx);
    }
  }

  void accumulate(uint32_t g, ExprVars& vars, StageCtx& ctx) {
    AccState* st = &states_[size_t(g) * specs_.size()];
    for (size_t i = 0; i < specs_.size(); ++i) {
      const AccSpec& a = specs_[i];
      AccState& s = st[i];
      if (a.kind == Acc::Count || a.const_num) {
        add_constant(a, s);
        continue;
      }
      MpView v = a.arg->eval(vars, buf_);
      add(a.kind, s, v, ctx);
    }
  }

  // Writes the accumulated fields of group g (field, value pairs).
  void write(uint32_t g, MpWriter& w) const {
    const AccState* st = &states_[size_t(g) * specs_.size()];
    for (size_t i = 0; i < specs_.size(); ++i) {
      const AccState& s = st[i];
      w.str(specs_[i].field);
      switch (specs_[i].kind) {
        case Acc::Sum:
        case Acc::Count:
          s.is_double ? w.float64(s.dsum) : w.integer(s.isum);
          break;
        case Acc::Avg:
          if (s.n == 0)
            w.nil();
          else
            w.float64((s.is_double ? s.dsum : double(s.isum)) / double(s.n));
          break;
        case Acc::Min:
        case Acc::Max:
        case Acc::First:
        case Acc::Last:
          s.seen ? w.raw(s.value) : w.nil();
          break;
        case Acc::Push:
        case Acc::AddToSet:
          w.array_header(uint32_t(s.n));
          w.raw(s.items);
          break;
      }
    }
  }

 private:
  static void add_constant(const AccSpec& a, AccState& s) {
    int64_t r, inc = a.kind == Acc::Count ? 1 : a.const_int;
    if (!s.is_double && !__builtin_add_overflow(s.isum, inc, &r)) return void(s.isum = r);
    if (!s.is_double) s.dsum = double(s.isum), s.is_double = true;
    s.dsum += double(inc);
  }

  void add(Acc kind, AccState& s, MpView v, StageCtx& ctx) {
    switch (kind) {
      case Acc::Sum:
      case Acc::Avg:
        if (v.valid() && v.is_number()) s.add_number(v), ++s.n;
        return;
      case Acc::Min:
      case Acc::Max:
        if (!v.valid() || v.type() == MpType::Nil) return;
        if (!s.seen || (kind == Acc::Min ? compare_values(v, MpView(s.value)) < 0
                                         : compare_values(v, MpView(s.value)) > 0)) {
          ctx.budget.charge(v.byte_size());
          s.value.assign(v.bytes());
          s.seen = true;
        }
        return;
      case Acc::First:
        if (s.seen) return;
        [[fallthrough]];
      case Acc::Last:
        s.seen = true;
        if (v.valid())
          s.value.assign(v.bytes());
        else
          s.value.assign("\xc0", 1);  // missing becomes null
        return;
      case Acc::AddToSet: {
        if (!v.valid()) return;
        if (!s.set) s.set = std::make_unique<absl::flat_hash_set<std::string>>();
        std::string_view k = canonical_key_view(v, key_);
        if (s.set->contains(absl::string_view(k.data(), k.size()))) return;
        ctx.budget.charge(k.size() + 32);
        s.set->emplace(k);
      }
        [[fallthrough]];
      case Acc::Push:
        if (!v.valid()) return;
        ctx.budget.charge(v.byte_size());
        s.items.append(v.bytes());
        ++s.n;
        return;
      case Acc::Count:
        return;
    }
  }

  std::vector<AccSpec> specs_;
  std::vector<AccState> states_;
  std::string buf_, key_;
};

// {$group: {_id: <expr>, field: {<acc>: <expr>}, ...}}
class Group final : public Stage {
 public:
  explicit Group(MpView spec) {
    if (spec.type() != MpType::Map) fail(ErrorCode::BadValue, "$group takes an object");
    MpView id = spec.get("_id");
    if (!id.valid()) fail(ErrorCode::BadValue, "a group specification must include an _id");
    id_ = Expr::compile(id);
    MapIter it(spec);
    std::string_view k;
    MpView v;
    while (it.next(k, v))
      if (k != "_id") accs_.add_spec("$group", k, v);
    plan_fast_path();
  }
  // For $sortByCount: {_id: expr, count: {$sum: 1}}.
  Group(ExprPtr id, Accumulators accs) : id_(std::move(id)), accs_(std::move(accs)) {
    plan_fast_path();
  }

  bool streams() const override { return true; }

  void consume(MpView doc, StageCtx& ctx) override {
    if (fast_) return consume_fast(doc, ctx);
    vars_.root = doc;
    MpView k = id_->eval(vars_, kbuf_);
    uint32_t g = group_of(k, ctx);
    accs_.accumulate(g, vars_, ctx);
  }

  // The hot path: key and arguments are top-level fields, read in one pass over the document.
  void consume_fast(MpView doc, StageCtx& ctx) {
    MpView found[kMaxFast + 1];
    size_t want = names_.size(), got = 0;
    MapIter it(doc);
    std::string_view k;
    MpView v;
    while (got < want && it.next(k, v)) {
      for (size_t j = 0; j < want; ++j) {
        if (!found[j].valid() && names_[j] == k) {
          found[j] = v;
          ++got;
          break;
        }
      }
    }
    MpView vals[kMaxFast];
    for (size_t i = 0; i < acc_slot_.size(); ++i)
      vals[i] = acc_slot_[i] < 0 ? MpView() : found[size_t(acc_slot_[i])];
    MpView key = key_slot_ < 0 ? MpView(key_const_) : found[size_t(key_slot_)];
    accs_.accumulate_values(group_of(key, ctx), vals, ctx);
  }

  uint32_t group_of(MpView k, StageCtx& ctx) {
    if (!k.valid()) k = MpView(reinterpret_cast<const uint8_t*>("\xc0"));  // missing: null
    std::string_view ck = canonical_key_view(k, kscratch_);
    auto it = index_.find(absl::string_view(ck.data(), ck.size()));
    uint32_t g;
    if (it != index_.end()) {
      g = it->second;
    } else {
      g = uint32_t(keys_.size());
      index_.emplace(std::string(ck), g);
      keys_.emplace_back(k.bytes());
      ctx.budget.charge(ck.size() + k.byte_size() + 64);
      accs_.add_group(ctx);
    }
    return g;
  }

  void finish(Batch& out, StageCtx& ctx) override {
    out.clear();
    out.reserve(keys_.size());
    for (uint32_t g = 0; g < keys_.size(); ++g) {
      std::string d;
      MpWriter w(d);
      w.map_header(uint32_t(1 + accs_.size()));
      w.str("_id");
      w.raw(keys_[g]);
      accs_.write(g, w);
      ctx.budget.charge(sizeof(Doc) + d.size());
      out.push_back(Doc::of(std::move(d)));
    }
  }

  void apply(Batch& batch, StageCtx& ctx) override {
    for (auto& d : batch) consume(d.view(), ctx);
    finish(batch, ctx);
  }

 private:
  // Enables consume_fast when the key is a constant or a top-level field and so is every
  // accumulator's argument (or it reads nothing), at most kMaxFast of them.
  void plan_fast_path() {
    static constexpr uint8_t kNil[] = {0xc0};
    if (accs_.size() > kMaxFast) return;
    auto slot = [&](const std::string& name) {
      for (size_t j = 0; j < names_.size(); ++j)
        if (names_[j] == name) return int(j);
      names_.push_back(name);
      return int(names_.size() - 1);
    };
    if (const FieldPath* p = id_->field_path(); p && p->size() == 1) {
      key_slot_ = slot(p->parts[0]);
    } else if (id_->is_constant()) {
      std::string unused;
      ExprVars none;
      none.root = MpView(kNil);
      key_const_ = std::string(id_->eval(none, unused).bytes());
    } else {
      return;
    }
    for (size_t i = 0; i < accs_.size(); ++i) {
      bool constant = false;
      const std::string* f = accs_.top_field(i, constant);
      if (!f && !constant) return;
      acc_slot_.push_back(f ? slot(*f) : -1);
    }
    fast_ = names_.size() <= kMaxFast;
  }

  static constexpr size_t kMaxFast = 8;
  ExprPtr id_;
  Accumulators accs_;
  bool fast_ = false;
  std::vector<std::string> names_;  // the top-level fields the fast path reads
  int key_slot_ = -1;               // position in names_, or -1: the constant key_const_
  std::string key_const_;
  std::vector<int> acc_slot_;  // per accumulator: position in names_, or -1 (constant)
  absl::flat_hash_map<std::string, uint32_t> index_;
  std::vector<std::string> keys_;
  ExprVars vars_;
  std::string kbuf_, kscratch_;
};

// {$bucket: {groupBy, boundaries, default, output}}
class Bucket final : public Stage {
 public:
  explicit Bucket(MpView spec) {
    if (spec.type() != MpType::Map) fail(ErrorCode::BadValue, "$bucket takes an object");
    MapIter it(spec);
    std::string_view k;
    MpView v;
    while (it.next(k, v))
      if (k != "groupBy" && k != "boundaries" && k != "default" && k != "output")
        fail(ErrorCode::BadValue, "$bucket: unrecognized option '" + std::string(k) + "'");
    MpView by = spec.get("groupBy"), bounds = spec.get("boundaries"), def = spec.get("default");
    if (!by.valid() || !bounds.valid())
      fail(ErrorCode::BadValue, "$bucket requires 'groupBy' and 'boundaries'");
    if (!(by.type() == MpType::Str && by.as_str().starts_with("$")) && by.type() != MpType::Map)
      fail(ErrorCode::BadValue, "$bucket: 'groupBy' must be a field path or an expression object");
    by_ = Expr::compile(by);
    if (bounds.type() != MpType::Array || bounds.count() < 2)
      fail(ErrorCode::BadValue, "$bucket: 'boundaries' must be an array of at least 2 values");
    ArrayIter bi(bounds);
    MpView b;
    while (bi.next(b)) {
      if (!bounds_.empty()) {
        MpView prev(bounds_.back());
        if (type_rank(prev.type()) != type_rank(b.type()))
          fail(ErrorCode::BadValue, "$bucket: all 'boundaries' must have the same type");
        if (compare_values(prev, b) >= 0)
          fail(ErrorCode::BadValue, "$bucket: 'boundaries' must be sorted in ascending order");
      }
      bounds_.emplace_back(b.bytes());
    }
    if (def.valid()) {
      default_ = std::string(def.bytes());
      if (type_rank(def.type()) == type_rank(MpView(bounds_[0]).type()) &&
          compare_values(def, MpView(bounds_.front())) >= 0 &&
          compare_values(def, MpView(bounds_.back())) < 0)
        fail(ErrorCode::BadValue,
             "$bucket: 'default' must be less than the lowest boundary or greater than or equal "
             "to the highest");
    }
    MpView output = spec.get("output");
    if (output.valid()) {
      if (output.type() != MpType::Map)
        fail(ErrorCode::BadValue, "$bucket: 'output' must be an object");
      MapIter oi(output);
      while (oi.next(k, v)) accs_.add_spec("$bucket", k, v);
    } else {
      std::string count;
      MpWriter w(count);
      w.map_header(1), w.str("$sum"), w.integer(1);
      accs_.add_spec("$bucket", "count", MpView(count));
    }
  }

  void apply(Batch& batch, StageCtx& ctx) override {
    size_t nb = bounds_.size();  // bucket i in [0, nb-1) or nb-1 = default
    std::vector<int64_t> group_of(nb, -1);
    uint32_t groups = 0;
    ExprVars vars;
    std::string buf;
    for (auto& d : batch) {
      vars.root = d.view();
      MpView v = by_->eval(vars, buf);
      size_t bucket = nb - 1;
      if (v.valid() && type_rank(v.type()) == type_rank(MpView(bounds_[0]).type()) &&
          compare_values(v, MpView(bounds_[0])) >= 0 &&
          compare_values(v, MpView(bounds_.back())) < 0) {
        auto it = std::upper_bound(
            bounds_.begin(), bounds_.end(), v,
            [](MpView x, const std::string& b) { return compare_values(x, MpView(b)) < 0; });
        bucket = size_t(it - bounds_.begin()) - 1;
      } else if (!default_) {
        fail(ErrorCode::BadValue,
             "$bucket could not find a matching branch for an input, and no default was specified");
      }
      if (group_of[bucket] < 0) group_of[bucket] = groups++, accs_.add_group(ctx);
      accs_.accumulate(uint32_t(group_of[bucket]), vars, ctx);
    }
    batch.clear();
    for (size_t b = 0; b < nb; ++b) {
      if (group_of[b] < 0) continue;
      std::string d;
      MpWriter w(d);
      w.map_header(uint32_t(1 + accs_.size()));
      w.str("_id");
      w.raw(b + 1 < nb ? std::string_view(bounds_[b]) : std::string_view(*default_));
      accs_.write(uint32_t(group_of[b]), w);
      ctx.budget.charge(sizeof(Doc) + d.size());
      batch.push_back(Doc::of(std::move(d)));
    }
  }

 private:
  ExprPtr by_;
  std::vector<std::string> bounds_;
  std::optional<std::string> default_;
  Accumulators accs_;
};

}  // namespace

StagePtr make_group(MpView arg) {
  return std::make_unique<Group>(arg);
}

StagePtr make_bucket(MpView arg) {
  return std::make_unique<Bucket>(arg);
}

StagePtr make_sort_by_count_group(MpView arg) {
  if (!(arg.type() == MpType::Str && arg.as_str().starts_with("$")) && arg.type() != MpType::Map)
    fail(ErrorCode::BadValue,
         "$sortByCount takes a field path (\"$field\") or an expression object");
  if (arg.type() == MpType::Map &&
      (arg.count() != 1 || !MpView(arg.first()).as_str().starts_with("$")))
    fail(ErrorCode::BadValue, "$sortByCount takes an expression object with one operator");
  Accumulators accs;
  std::string count;
  MpWriter w(count);
  w.map_header(1), w.str("$sum"), w.integer(1);
  accs.add_spec("$sortByCount", "count", MpView(count));
  return std::make_unique<Group>(Expr::compile(arg), std::move(accs));
}

}  // namespace mg::agg
