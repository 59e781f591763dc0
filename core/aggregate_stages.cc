// core/aggregate_stages.cc — the document-shaping stages: $match, $project, $addFields / $set,
// $unset, $sort, $skip, $limit, $count, $unwind, $replaceRoot / $replaceWith, $sample, $facet,
// and the document-editing helpers they share (aggregate_stage.h).
#include <algorithm>

#include "core/aggregate_stage.h"
#include "core/filter.h"
#include "core/projection.h"
#include "core/sort.h"

namespace mg::agg {

void Budget::exceeded() const {
  fail(ErrorCode::BadValue,
       "aggregate: the pipeline exceeded its memory limit of " + std::to_string(limit_ >> 20) +
           " MiB of intermediate data (reduce it with an earlier $match, $project or $limit)");
}

size_t batch_bytes(const Batch& b) {
  size_t n = 0;
  for (auto& d : b) n += d.bytes();
  return n;
}

int64_t stage_integer(std::string_view stage, MpView v) {
  int64_t n = 0;
  bool ok = false;
  if (v.type() == MpType::Int) n = v.as_int(), ok = true;
  if (v.type() == MpType::Float && v.as_double() == double(int64_t(v.as_double())))
    n = int64_t(v.as_double()), ok = true;
  if (!ok) fail(ErrorCode::TypeMismatch, std::string(stage) + " takes an integer");
  if (n < 0) fail(ErrorCode::BadValue, std::string(stage) + " must not be negative");
  return n;
}

std::string with_field(MpView doc, std::string_view key, std::string_view value) {
  std::string out;
  MpWriter w(out);
  bool found = doc.get(key).valid();
  w.map_header(doc.count() + (found ? 0 : 1));
  MapIter it(doc);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    w.str(k);
    k == key ? w.raw(value) : w.raw(v);
  }
  if (!found) w.str(key), w.raw(value);
  return out;
}

void set_value_path(Value& doc, const std::vector<std::string>& parts, size_t i, Value v) {
  if (i + 1 == parts.size()) return void(doc.set(parts[i], std::move(v)));
  Value* c = doc.find(parts[i]);
  if (c && c->is_array()) {
    for (auto& e : c->as_array())
      if (e.is_map()) set_value_path(e, parts, i + 1, v);
    return;
  }
  if (!c || !c->is_map()) c = &doc.set(parts[i], Value::map());
  set_value_path(*c, parts, i + 1, std::move(v));
}

void erase_value_path(Value& doc, const std::vector<std::string>& parts, size_t i) {
  if (i + 1 == parts.size()) return void(doc.erase(parts[i]));
  Value* c = doc.find(parts[i]);
  if (!c) return;
  if (c->is_map()) return erase_value_path(*c, parts, i + 1);
  if (c->is_array())
    for (auto& e : c->as_array())
      if (e.is_map()) erase_value_path(e, parts, i + 1);
}

namespace {

class Match final : public Stage {
 public:
  explicit Match(MpView arg) : m_(Matcher::compile(arg)) {}
  void apply(Batch& batch, StageCtx&) override {
    std::erase_if(batch, [&](const Doc& d) { return !m_->matches(d.view()); });
  }

 private:
  std::unique_ptr<Matcher> m_;
};

bool is_operator_map(MpView v) {
  return v.type() == MpType::Map && v.count() > 0 && MpView(v.first()).as_str().starts_with("$");
}

// Computed fields ({path: expr}), flattened from nested objects as MongoDB reads them.
using Computed = std::vector<std::pair<FieldPath, ExprPtr>>;

// Applies computed fields to the doc (all evaluated against the input document first).
std::string compute_fields(MpView input, MpView base, const Computed& fields) {
  ExprVars vars;
  vars.root = input;
  std::vector<std::string> bufs(fields.size());
  std::vector<MpView> vals;
  for (size_t i = 0; i < fields.size(); ++i) vals.push_back(fields[i].second->eval(vars, bufs[i]));
  Value doc = Value::from(base);
  for (size_t i = 0; i < fields.size(); ++i) {
    if (vals[i].valid())
      set_value_path(doc, fields[i].first.parts, 0, Value::from(vals[i]));
    else
      erase_value_path(doc, fields[i].first.parts, 0);
  }
  return doc.encode();
}

void check_field_name(std::string_view stage, std::string_view path) {
  if (path.empty() || path[0] == '$')
    fail(ErrorCode::BadValue, std::string(stage) + ": field path '" + std::string(path) +
                                  "' must not be empty or start with '$'");
}

// {$addFields: {...}} / {$set: {...}}
class AddFields final : public Stage {
 public:
  AddFields(std::string_view name, MpView arg) {
    if (arg.type() != MpType::Map || arg.count() == 0)
      fail(ErrorCode::BadValue, std::string(name) + " takes a non-empty object");
    flatten(name, arg, "");
  }
  void apply(Batch& batch, StageCtx& ctx) override {
    for (auto& d : batch) {
      std::string out = compute_fields(d.view(), d.view(), fields_);
      ctx.budget.charge(out.size());
      d = Doc::of(std::move(out));
    }
  }

 private:
  void flatten(std::string_view name, MpView m, const std::string& prefix) {
    MapIter it(m);
    std::string_view k;
    MpView v;
    while (it.next(k, v)) {
      check_field_name(name, k);
      std::string path = prefix + std::string(k);
      if (v.type() == MpType::Map && v.count() > 0 && !is_operator_map(v))
        flatten(name, v, path + ".");
      else
        fields_.emplace_back(FieldPath::parse(path), Expr::compile(v));
    }
  }
  Computed fields_;
};

// {$project: {...}}: inclusion (with computed fields) or exclusion, `_id` kept unless excluded.
class Project final : public Stage {
 public:
  explicit Project(MpView arg) {
    if (arg.type() != MpType::Map || arg.count() == 0)
      fail(ErrorCode::BadValue, "$project requires at least one output field");
    flatten(arg, "");
    bool excluding = !excluded_.empty();
    if (excluding && (!included_.empty() || !computed_.empty()))
      fail(ErrorCode::BadValue,
           "$project: cannot mix exclusion with inclusion or computed fields (except _id)");
    std::string spec;
    MpWriter w(spec);
    if (excluding || (included_.empty() && computed_.empty() && id_ == 0)) {  // exclusion
      w.map_header(uint32_t(excluded_.size() + (id_ == 0)));
      for (auto& p : excluded_) w.str(p), w.integer(0);
      if (id_ == 0) w.str("_id"), w.integer(0);
    } else if (included_.empty() && id_ == 0) {
      empty_base_ = true;
    } else {
      w.map_header(uint32_t(included_.size() + 1));
      for (auto& p : included_) w.str(p), w.integer(1);
      w.str("_id"), w.integer(id_ == 0 ? 0 : 1);
    }
    if (!empty_base_) proj_ = Projection::compile(MpView(spec));
  }

  void apply(Batch& batch, StageCtx& ctx) override {
    std::string base;
    for (auto& d : batch) {
      base.clear();
      if (empty_base_)
        base.push_back(char(0x80));
      else
        proj_->apply(d.view(), base);
      std::string out =
          computed_.empty() ? base : compute_fields(d.view(), MpView(base), computed_);
      ctx.budget.charge(out.size());
      d = Doc::of(std::move(out));
    }
  }

 private:
  void flatten(MpView m, const std::string& prefix) {
    MapIter it(m);
    std::string_view k;
    MpView v;
    while (it.next(k, v)) {
      check_field_name("$project", k);
      std::string path = prefix + std::string(k);
      MpType t = v.type();
      if (t == MpType::Bool || t == MpType::Int || t == MpType::Float) {
        bool on = t == MpType::Bool ? v.as_bool() : v.as_double() != 0;
        if (path == "_id")
          id_ = on;
        else
          (on ? included_ : excluded_).push_back(path);
      } else if (t == MpType::Map && v.count() > 0 && !is_operator_map(v)) {
        flatten(v, path + ".");
      } else {
        if (path == "_id") id_ = 2;
        computed_.emplace_back(FieldPath::parse(path), Expr::compile(v));
      }
    }
  }

  int id_ = 1;  // 0 excluded, 1 included, 2 computed
  std::vector<std::string> included_, excluded_;
  Computed computed_;
  bool empty_base_ = false;
  std::unique_ptr<Projection> proj_;
};

// {$unset: "a" | ["a", "b.c"]}: an exclusion projection.
class Unset final : public Stage {
 public:
  explicit Unset(MpView arg) {
    std::vector<std::string_view> paths;
    if (arg.type() == MpType::Str)
      paths.push_back(arg.as_str());
    else if (arg.type() == MpType::Array) {
      ArrayIter it(arg);
      MpView e;
      while (it.next(e)) {
        if (e.type() != MpType::Str) fail(ErrorCode::TypeMismatch, "$unset takes strings");
        paths.push_back(e.as_str());
      }
    } else {
      fail(ErrorCode::TypeMismatch, "$unset takes a string or an array of strings");
    }
    if (paths.empty()) fail(ErrorCode::BadValue, "$unset requires at least one field");
    std::string spec;
    MpWriter w(spec);
    w.map_header(uint32_t(paths.size()));
    for (auto p : paths) check_field_name("$unset", p), w.str(p), w.integer(0);
    proj_ = Projection::compile(MpView(spec));
  }
  void apply(Batch& batch, StageCtx& ctx) override {
    for (auto& d : batch) {
      std::string out;
      proj_->apply(d.view(), out);
      ctx.budget.charge(out.size());
      d = Doc::of(std::move(out));
    }
  }

 private:
  std::unique_ptr<Projection> proj_;
};

class Sort final : public Stage {
 public:
  Sort(MpView arg, int64_t limit) : limit_(limit) {
    if (arg.type() != MpType::Map || arg.count() == 0)
      fail(ErrorCode::BadValue, "$sort takes a non-empty object {field: 1 | -1}");
    spec_ = SortSpec::compile(arg);
  }
  void apply(Batch& batch, StageCtx&) override {
    auto less = [&](const Doc& a, const Doc& b) { return spec_.compare(a.view(), b.view()) < 0; };
    if (limit_ > 0 && size_t(limit_) < batch.size()) {
      std::partial_sort(batch.begin(), batch.begin() + limit_, batch.end(), less);
      batch.resize(size_t(limit_));
    } else {
      std::stable_sort(batch.begin(), batch.end(), less);
    }
  }

 private:
  SortSpec spec_;
  int64_t limit_;
};

class SkipLimit final : public Stage {
 public:
  SkipLimit(std::string_view name, MpView arg) : skip_(name == "$skip") {
    n_ = stage_integer(name, arg);
    if (!skip_ && n_ == 0) fail(ErrorCode::BadValue, "the $limit must be positive");
  }
  void apply(Batch& batch, StageCtx&) override {
    if (skip_)
      batch.erase(batch.begin(), batch.begin() + int64_t(std::min(batch.size(), size_t(n_))));
    else if (batch.size() > size_t(n_))
      batch.resize(size_t(n_));
  }

 private:
  bool skip_;
  int64_t n_;
};

class Count final : public Stage {
 public:
  explicit Count(MpView arg) {
    if (arg.type() != MpType::Str) fail(ErrorCode::TypeMismatch, "$count takes a string");
    name_ = arg.as_str();
    if (name_.empty() || name_[0] == '$' || name_.find('.') != std::string::npos)
      fail(ErrorCode::BadValue, "$count: the field name must be non-empty, without '$' or '.'");
  }
  void apply(Batch& batch, StageCtx&) override {
    size_t n = batch.size();
    batch.clear();
    if (n == 0) return;
    std::string d;
    MpWriter w(d);
    w.map_header(1), w.str(name_), w.integer(int64_t(n));
    batch.push_back(Doc::of(std::move(d)));
  }

 private:
  std::string name_;
};

// {$unwind: "$path"} or {$unwind: {path, includeArrayIndex, preserveNullAndEmptyArrays}}
class Unwind final : public Stage {
 public:
  explicit Unwind(MpView arg) {
    MpView path = arg;
    if (arg.type() == MpType::Map) {
      MapIter it(arg);
      std::string_view k;
      MpView v;
      while (it.next(k, v)) {
        if (k == "path") {
          path = v;
        } else if (k == "includeArrayIndex") {
          if (v.type() != MpType::Str)
            fail(ErrorCode::TypeMismatch, "$unwind: 'includeArrayIndex' must be a string");
          index_ = std::string(v.as_str());
          if (index_.empty() || index_[0] == '$')
            fail(ErrorCode::BadValue,
                 "$unwind: 'includeArrayIndex' must not be empty or start with '$'");
        } else if (k == "preserveNullAndEmptyArrays") {
          if (v.type() != MpType::Bool)
            fail(ErrorCode::TypeMismatch, "$unwind: 'preserveNullAndEmptyArrays' must be a bool");
          preserve_ = v.as_bool();
        } else {
          fail(ErrorCode::BadValue, "$unwind: unrecognized option '" + std::string(k) + "'");
        }
      }
      if (path.data() == arg.data()) fail(ErrorCode::BadValue, "$unwind requires a 'path'");
    }
    if (path.type() != MpType::Str)
      fail(ErrorCode::TypeMismatch, "$unwind: the path must be a string");
    std::string_view p = path.as_str();
    if (p.size() < 2 || p[0] != '$' || p[1] == '$')
      fail(ErrorCode::BadValue, "$unwind: the path must be a field path prefixed with '$'");
    path_ = FieldPath::parse(p.substr(1));
    if (!index_.empty()) index_path_ = FieldPath::parse(index_);
  }

  void apply(Batch& batch, StageCtx& ctx) override {
    Batch out;
    for (auto& d : batch) {
      MpView v = walk_maps(d.view());  // a field path: maps only, no positions
      if (v.valid() && v.type() == MpType::Array && v.count() > 0) {
        ArrayIter it(v);
        MpView e;
        for (int64_t i = 0; it.next(e); ++i) emit(d.view(), e, Value::integer(i), out, ctx);
      } else if (v.valid() && v.type() != MpType::Array && v.type() != MpType::Nil) {
        emit(d.view(), v, Value(), out, ctx);  // a non-array is a one-element array
      } else if (preserve_) {
        bool empty_array = v.valid() && v.type() == MpType::Array;
        if (index_.empty() && !empty_array) {
          out.push_back(std::move(d));
        } else {  // an empty array is removed, as in MongoDB; the index is null
          Value doc = Value::from(d.view());
          if (empty_array) erase_value_path(doc, path_.parts, 0);
          if (!index_.empty()) set_value_path(doc, index_path_.parts, 0, Value());
          out.push_back(Doc::of(doc.encode()));
          ctx.budget.charge(out.back().bytes());
        }
      }
    }
    batch = std::move(out);
  }

 private:
  MpView walk_maps(MpView doc) const {
    MpView v = doc;
    for (auto& part : path_.parts) {
      if (v.type() != MpType::Map) return MpView();
      v = v.get(part);
      if (!v.valid()) return v;
    }
    return v;
  }

  void emit(MpView doc, MpView elem, Value index, Batch& out, StageCtx& ctx) const {
    std::string bytes;
    if (path_.size() == 1 && index_.empty()) {
      bytes = with_field(doc, path_.parts[0], elem.bytes());
    } else {
      Value d = Value::from(doc);
      set_value_path(d, path_.parts, 0, Value::from(elem));
      if (!index_.empty()) set_value_path(d, index_path_.parts, 0, std::move(index));
      bytes = d.encode();
    }
    ctx.budget.charge(sizeof(Doc) + bytes.size());
    out.push_back(Doc::of(std::move(bytes)));
  }

  FieldPath path_, index_path_;
  std::string index_;
  bool preserve_ = false;
};

// {$replaceRoot: {newRoot: expr}} / {$replaceWith: expr}
class ReplaceRoot final : public Stage {
 public:
  ReplaceRoot(std::string_view name, MpView arg) : name_(name) {
    MpView root = arg;
    if (name == "$replaceRoot") {
      if (arg.type() != MpType::Map || arg.count() != 1 || !arg.get("newRoot").valid())
        fail(ErrorCode::BadValue, "$replaceRoot takes {newRoot: <expression>}");
      root = arg.get("newRoot");
    }
    root_ = Expr::compile(root);
  }
  void apply(Batch& batch, StageCtx& ctx) override {
    ExprVars vars;
    std::string buf;
    for (auto& d : batch) {
      vars.root = d.view();
      MpView r = root_->eval(vars, buf);
      if (!r.valid() || r.type() != MpType::Map)
        fail(ErrorCode::BadValue, std::string(name_) +
                                      ": 'newRoot' must evaluate to an object, not " +
                                      std::string(expr_type_name(r)));
      std::string out(r.bytes());
      ctx.budget.charge(out.size());
      d = Doc::of(std::move(out));
    }
  }

 private:
  std::string name_;  // a copy: the pipeline the stage was compiled from does not outlive it
  ExprPtr root_;
};

class Sample final : public Stage {
 public:
  explicit Sample(MpView arg) {
    if (arg.type() != MpType::Map || arg.count() != 1 || !arg.get("size").valid())
      fail(ErrorCode::BadValue, "$sample takes {size: <non-negative integer>}");
    size_ = stage_integer("$sample size", arg.get("size"));
  }
  void apply(Batch& batch, StageCtx& ctx) override {
    size_t k = std::min(batch.size(), size_t(size_));
    for (size_t i = 0; i < k; ++i) {  // partial Fisher-Yates
      std::uniform_int_distribution<size_t> pick(i, batch.size() - 1);
      std::swap(batch[i], batch[pick(ctx.rng)]);
    }
    batch.resize(k);
  }

 private:
  int64_t size_;
};

// {$facet: {name: [stages], ...}}: each sub-pipeline runs over the same input; one output
// document {name: [results]}.
class Facet final : public Stage {
 public:
  explicit Facet(MpView arg) {
    if (arg.type() != MpType::Map || arg.count() == 0)
      fail(ErrorCode::BadValue, "$facet takes a non-empty object of sub-pipelines");
    MapIter it(arg);
    std::string_view k;
    MpView v;
    while (it.next(k, v)) {
      check_field_name("$facet", k);
      if (k.find('.') != std::string_view::npos)
        fail(ErrorCode::BadValue,
             "$facet: the field name '" + std::string(k) + "' must not contain '.'");
      if (v.type() != MpType::Array)
        fail(ErrorCode::TypeMismatch,
             "$facet: the sub-pipeline '" + std::string(k) + "' must be an array");
      facets_.emplace_back(std::string(k), compile_stages(v, true));
    }
  }
  void apply(Batch& batch, StageCtx& ctx) override {
    std::string d;
    MpWriter w(d);
    w.map_header(uint32_t(facets_.size()));
    for (auto& [name, stages] : facets_) {
      Batch copy = batch;
      ctx.budget.charge(batch_bytes(copy));
      for (auto& s : stages) s->apply(copy, ctx);
      w.str(name);
      w.array_header(uint32_t(copy.size()));
      for (auto& x : copy) w.raw(x.view());
      ctx.budget.charge(d.size());
    }
    batch.clear();
    batch.push_back(Doc::of(std::move(d)));
  }

 private:
  std::vector<std::pair<std::string, StageList>> facets_;
};

}  // namespace

StagePtr make_match(MpView arg) {
  if (arg.type() != MpType::Map) fail(ErrorCode::BadValue, "$match takes an object");
  return std::make_unique<Match>(arg);
}
StagePtr make_project(MpView arg) {
  return std::make_unique<Project>(arg);
}
StagePtr make_add_fields(std::string_view name, MpView arg) {
  return std::make_unique<AddFields>(name, arg);
}
StagePtr make_unset(MpView arg) {
  return std::make_unique<Unset>(arg);
}
StagePtr make_sort(MpView arg, int64_t limit) {
  return std::make_unique<Sort>(arg, limit);
}
StagePtr make_skip_limit(std::string_view name, MpView arg) {
  return std::make_unique<SkipLimit>(name, arg);
}
StagePtr make_count(MpView arg) {
  return std::make_unique<Count>(arg);
}
StagePtr make_unwind(MpView arg) {
  return std::make_unique<Unwind>(arg);
}
StagePtr make_replace_root(std::string_view name, MpView arg) {
  return std::make_unique<ReplaceRoot>(name, arg);
}
StagePtr make_sample(MpView arg) {
  return std::make_unique<Sample>(arg);
}
StagePtr make_facet(MpView arg) {
  return std::make_unique<Facet>(arg);
}

}  // namespace mg::agg
