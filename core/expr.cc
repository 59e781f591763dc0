// core/expr.cc — compiling expressions and the nodes every family shares: field paths,
// variables, literals, array and map expressions, $literal, $let (see expr.h).
#include <absl/container/inlined_vector.h>

#include "core/compare.h"
#include "core/expr_impl.h"

namespace mg {

namespace expr {

namespace {

// A value that does not depend on the document.
class Literal final : public Expr {
 public:
  explicit Literal(std::string_view bytes) : bytes_(bytes) {}
  MpView eval(ExprVars&, std::string&) const override { return MpView(bytes_); }
  bool is_constant() const override { return true; }

 private:
  std::string bytes_;
};

// Walks `parts[i..]` from `v`. Through an array it collects the values found in its map
// elements (missing ones skipped), as MongoDB's aggregation field paths do.
MpView walk(MpView v, const std::vector<std::string>& parts, size_t i, std::string& out) {
  for (; i < parts.size(); ++i) {
    MpType t = v.type();
    if (t == MpType::Map) {
      v = v.get(parts[i]);
      if (!v.valid()) return v;
    } else if (t == MpType::Array) {
      std::string body, scratch;
      MpWriter w(body);
      uint32_t n = 0;
      ArrayIter it(v);
      MpView e;
      while (it.next(e)) {
        if (e.type() != MpType::Map && e.type() != MpType::Array) continue;
        MpView r = e.type() == MpType::Map ? e.get(parts[i]) : e;
        if (!r.valid()) continue;
        r = e.type() == MpType::Map ? walk(r, parts, i + 1, scratch) : walk(r, parts, i, scratch);
        if (!r.valid()) continue;
        w.raw(r);
        ++n;
      }
      out.clear();
      MpWriter(out).array_header(n);
      out.append(body);
      return MpView(out);
    } else {
      return MpView();
    }
  }
  return v;
}

// "$a.b" (var < 0: the document) or "$$name.a.b" (a bound variable's slot).
class PathExpr final : public Expr {
 public:
  PathExpr(int var, std::string_view dotted, bool remove)
      : var_(var), remove_(remove), path_(FieldPath::parse(dotted.empty() ? "x" : dotted)) {
    if (dotted.empty()) path_.parts.clear();
  }
  MpView eval(ExprVars& vars, std::string& out) const override {
    if (remove_) return MpView();
    MpView base = var_ < 0 ? vars.root : vars.bound[size_t(var_)];
    if (!base.valid()) return base;
    return walk(base, path_.parts, 0, out);
  }
  const FieldPath* field_path() const override {
    return var_ < 0 && !path_.parts.empty() ? &path_ : nullptr;
  }

 private:
  int var_;
  bool remove_;
  FieldPath path_;
};

class ArrayExpr final : public Expr {
 public:
  explicit ArrayExpr(std::vector<ExprPtr> items) : items_(std::move(items)) {}
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::string body, scratch;
    MpWriter w(body);
    for (auto& e : items_) {
      MpView v = e->eval(vars, scratch);
      v.valid() ? w.raw(v) : w.nil();  // a missing element is null, as in MongoDB
    }
    out.clear();
    MpWriter(out).array_header(uint32_t(items_.size()));
    out.append(body);
    return MpView(out);
  }

 private:
  std::vector<ExprPtr> items_;
};

class MapExpr final : public Expr {
 public:
  explicit MapExpr(std::vector<std::pair<std::string, ExprPtr>> fields)
      : fields_(std::move(fields)) {}
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::string body, scratch;
    MpWriter w(body);
    uint32_t n = 0;
    for (auto& [k, e] : fields_) {
      MpView v = e->eval(vars, scratch);
      if (!v.valid()) continue;  // a missing value leaves the field out
      w.str(k);
      w.raw(v);
      ++n;
    }
    out.clear();
    MpWriter(out).map_header(n);
    out.append(body);
    return MpView(out);
  }

 private:
  std::vector<std::pair<std::string, ExprPtr>> fields_;
};

// {$let: {vars: {name: expr}, in: expr}}
class LetExpr final : public Expr {
 public:
  LetExpr(std::vector<ExprPtr> values, ExprPtr in)
      : values_(std::move(values)), in_(std::move(in)) {}
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::vector<std::string> bufs(values_.size());
    size_t base = vars.bound.size();
    std::vector<MpView> vals;
    for (size_t i = 0; i < values_.size(); ++i) vals.push_back(values_[i]->eval(vars, bufs[i]));
    for (auto v : vals) vars.bound.push_back(v);
    MpView r;
    try {
      r = in_->eval(vars, out);
    } catch (...) {
      vars.bound.resize(base);
      throw;
    }
    vars.bound.resize(base);
    return r;
  }

 private:
  std::vector<ExprPtr> values_;
  ExprPtr in_;
};

ExprPtr compile_let(std::string_view op, MpView args, Scope& scope) {
  MpView m = map_args(op, args, {"vars", "in"});
  MpView vars = m.get("vars"), in = m.get("in");
  if (!vars.valid() || vars.type() != MpType::Map || !in.valid())
    fail(ErrorCode::BadValue, "$let needs 'vars' (a map) and 'in'");
  std::vector<ExprPtr> values;
  std::vector<std::string> names;
  MapIter it(vars);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    values.push_back(compile(v, scope));
    std::string key_bytes;
    MpWriter(key_bytes).str(k);
    names.push_back(var_name(op, MpView(key_bytes)));
  }
  size_t base = scope.names.size();
  for (auto& n : names) scope.names.push_back(n);
  ExprPtr body = compile(in, scope);
  scope.names.resize(base);
  return std::make_unique<LetExpr>(std::move(values), std::move(body));
}

ExprPtr compile_literal(std::string_view, MpView args, Scope&) {
  return std::make_unique<Literal>(args.bytes());
}

const OpTable& table() {
  static const OpTable t = [] {
    OpTable t;
    t.emplace("$literal", compile_literal);
    t.emplace("$let", compile_let);
    register_arith_ops(t);
    register_string_ops(t);
    register_array_ops(t);
    register_date_ops(t);
    return t;
  }();
  return t;
}

ExprPtr compile_string(std::string_view s, Scope& scope) {
  std::string bytes;
  MpWriter(bytes).str(s);
  if (s.empty() || s[0] != '$') return std::make_unique<Literal>(bytes);
  if (s.size() >= 2 && s[1] == '$') {
    std::string_view rest = s.substr(2);
    size_t dot = rest.find('.');
    std::string_view name = rest.substr(0, dot);
    std::string_view path =
        dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    if (dot != std::string_view::npos && path.empty())
      fail(ErrorCode::BadValue, "bad variable path '" + std::string(s) + "'");
    if (name == "ROOT" || name == "CURRENT") return std::make_unique<PathExpr>(-1, path, false);
    if (name == "REMOVE") return std::make_unique<PathExpr>(-1, path, true);
    for (size_t i = scope.names.size(); i-- > 0;)
      if (scope.names[i] == name) return std::make_unique<PathExpr>(int(i), path, false);
    fail(ErrorCode::BadValue, "use of undefined variable: " + std::string(name));
  }
  if (s.size() == 1) fail(ErrorCode::BadValue, "'$' is not a valid field path");
  return std::make_unique<PathExpr>(-1, s.substr(1), false);
}

}  // namespace

ExprPtr compile(MpView spec, Scope& scope) {
  switch (spec.type()) {
    case MpType::Str:
      return compile_string(spec.as_str(), scope);
    case MpType::Array: {
      std::vector<ExprPtr> items;
      ArrayIter it(spec);
      MpView e;
      while (it.next(e)) items.push_back(compile(e, scope));
      return std::make_unique<ArrayExpr>(std::move(items));
    }
    case MpType::Map: {
      if (spec.count() > 0) {
        std::string_view k0 = MpView(spec.first()).as_str();
        if (!k0.empty() && k0[0] == '$') {
          if (spec.count() != 1)
            fail(ErrorCode::BadValue,
                 "an expression operator must be the only field of its "
                 "object, found " +
                     std::string(k0) + " with others");
          auto it = table().find(k0);
          if (it == table().end())
            fail(ErrorCode::BadValue, "unknown expression operator '" + std::string(k0) + "'");
          return it->second(it->first, MpView(MpView(spec.first()).end()), scope);
        }
      }
      std::vector<std::pair<std::string, ExprPtr>> fields;
      MapIter it(spec);
      std::string_view k;
      MpView v;
      while (it.next(k, v)) {
        if (k.empty() || k[0] == '$' || k.find('.') != std::string_view::npos)
          fail(ErrorCode::BadValue,
               "field name '" + std::string(k) + "' is not allowed in an object expression");
        fields.emplace_back(std::string(k), compile(v, scope));
      }
      return std::make_unique<MapExpr>(std::move(fields));
    }
    default:
      return std::make_unique<Literal>(spec.bytes());
  }
}

std::vector<ExprPtr> compile_args(std::string_view op, MpView args, Scope& scope, size_t min,
                                  size_t max) {
  std::vector<ExprPtr> out;
  if (args.type() == MpType::Array) {
    ArrayIter it(args);
    MpView e;
    while (it.next(e)) out.push_back(compile(e, scope));
  } else {
    out.push_back(compile(args, scope));
  }
  if (out.size() < min || out.size() > max) {
    std::string want = min == max        ? std::to_string(min)
                       : max == SIZE_MAX ? "at least " + std::to_string(min)
                                         : std::to_string(min) + " to " + std::to_string(max);
    fail(ErrorCode::BadValue, "expression " + std::string(op) + " takes " + want +
                                  " argument(s), " + std::to_string(out.size()) + " given");
  }
  return out;
}

MpView map_args(std::string_view op, MpView args, std::initializer_list<std::string_view> allowed) {
  if (args.type() != MpType::Map)
    fail(ErrorCode::BadValue, std::string(op) + " takes an object as its argument");
  MapIter it(args);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k;
    if (!ok)
      fail(ErrorCode::BadValue, std::string(op) + " found an unknown argument: " + std::string(k));
  }
  return args;
}

std::string var_name(std::string_view op, MpView v) {
  if (v.type() != MpType::Str)
    fail(ErrorCode::BadValue, std::string(op) + ": 'as' must be a string");
  std::string_view s = v.as_str();
  bool ok = !s.empty() && (std::islower(uint8_t(s[0])) || uint8_t(s[0]) >= 0x80);
  for (char c : s) ok = ok && (std::isalnum(uint8_t(c)) || c == '_' || uint8_t(c) >= 0x80);
  if (!ok)
    fail(ErrorCode::BadValue,
         std::string(op) + ": '" + std::string(s) + "' is not a valid variable name");
  return std::string(s);
}

MpView EagerExpr::eval(ExprVars& vars, std::string& out) const {
  absl::InlinedVector<std::string, 3> bufs(args_.size());
  absl::InlinedVector<MpView, 3> vals;
  for (size_t i = 0; i < args_.size(); ++i) vals.push_back(args_[i]->eval(vars, bufs[i]));
  return fn_(op_, std::span<const MpView>(vals.data(), vals.size()), out);
}

void type_error(std::string_view op, std::string_view what, MpView v) {
  fail(ErrorCode::TypeMismatch,
       std::string(op) + " " + std::string(what) + ", not " + std::string(expr_type_name(v)));
}

bool integral(MpView v, int64_t& out) {
  if (!v.valid()) return false;
  if (v.type() == MpType::Int) return out = v.as_int(), true;
  if (v.type() != MpType::Float) return false;
  double d = v.as_double();
  if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18) || std::trunc(d) != d)
    return false;
  out = int64_t(d);
  return true;
}

MpView put_null(std::string& out) {
  out.clear();
  MpWriter(out).nil();
  return MpView(out);
}
MpView put_bool(std::string& out, bool b) {
  out.clear();
  MpWriter(out).boolean(b);
  return MpView(out);
}
MpView put_int(std::string& out, int64_t i) {
  out.clear();
  MpWriter(out).integer(i);
  return MpView(out);
}
MpView put_double(std::string& out, double d) {
  out.clear();
  MpWriter(out).float64(d);
  return MpView(out);
}
MpView put_str(std::string& out, std::string_view s) {
  out.clear();
  MpWriter(out).str(s);
  return MpView(out);
}
MpView put_date(std::string& out, Date d) {
  out.clear();
  MpWriter(out).date(d);
  return MpView(out);
}
MpView put_raw(std::string& out, std::string_view bytes) {
  out.assign(bytes);
  return MpView(out);
}

}  // namespace expr

std::unique_ptr<Expr> Expr::compile(MpView spec) {
  expr::Scope scope;
  return expr::compile(spec, scope);
}

int expr_compare(MpView a, MpView b) {
  if (!a.valid() || !b.valid()) return int(a.valid()) - int(b.valid());
  return compare_values(a, b);
}

std::string_view expr_type_name(MpView v) {
  if (!v.valid()) return "missing";
  switch (v.type()) {
    case MpType::Nil:
      return "null";
    case MpType::Bool:
      return "bool";
    case MpType::Int: {
      int64_t i = v.as_int();
      return i >= INT32_MIN && i <= INT32_MAX ? "int" : "long";
    }
    case MpType::Float:
      return "double";
    case MpType::Str:
      return "string";
    case MpType::Map:
      return "object";
    case MpType::Array:
      return "array";
    case MpType::Bin:
      return "binData";
    case MpType::Date:
      return "date";
  }
  return "missing";
}

}  // namespace mg
