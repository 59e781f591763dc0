// core/expr_array.cc — array operators ($size $arrayElemAt $first $last $filter $map $in $slice
// $concatArrays $reverseArray $isArray) and $mergeObjects, with MongoDB's null handling (a null
// or missing array gives null) and errors (a non-array operand is TypeMismatch).
#include "core/compare.h"
#include "core/expr_impl.h"

namespace mg::expr {

namespace {

void need_array(std::string_view op, MpView v, std::string_view what = "argument") {
  if (!v.valid() || v.type() != MpType::Array)
    type_error(op, "requires its " + std::string(what) + " to be an array", v);
}

std::vector<MpView> elements(MpView arr) {
  std::vector<MpView> out;
  out.reserve(arr.count());
  ArrayIter it(arr);
  MpView e;
  while (it.next(e)) out.push_back(e);
  return out;
}

MpView put_array(std::string& out, std::span<const MpView> items) {
  std::string body;
  MpWriter w(body);
  for (auto& v : items) w.raw(v);
  out.clear();
  MpWriter(out).array_header(uint32_t(items.size()));
  out.append(body);
  return MpView(out);
}

MpView op_size(std::string_view op, std::span<const MpView> a, std::string& out) {
  need_array(op, a[0]);
  return put_int(out, a[0].count());
}

MpView op_elem_at(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0]) || is_nullish(a[1])) return put_null(out);
  need_array(op, a[0], "first argument");
  int64_t i;
  if (!integral(a[1], i)) type_error(op, "requires its second argument to be an integer", a[1]);
  int64_t n = a[0].count();
  if (i < 0) i += n;
  if (i < 0 || i >= n) return MpView();  // out of range: missing
  return put_raw(out, a[0].at(uint32_t(i)).bytes());
}

template <bool First>
MpView op_first_last(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  need_array(op, a[0]);
  uint32_t n = a[0].count();
  if (n == 0) return MpView();
  return put_raw(out, a[0].at(First ? 0 : n - 1).bytes());
}

MpView op_in(std::string_view op, std::span<const MpView> a, std::string& out) {
  need_array(op, a[1], "second argument");
  ArrayIter it(a[1]);
  MpView e;
  while (it.next(e))
    if (expr_compare(a[0], e) == 0) return put_bool(out, true);
  return put_bool(out, false);
}

MpView op_slice(std::string_view op, std::span<const MpView> a, std::string& out) {
  for (auto& v : a)
    if (is_nullish(v)) return put_null(out);
  need_array(op, a[0], "first argument");
  auto items = elements(a[0]);
  int64_t n = int64_t(items.size()), pos = 0, count = 0;
  if (!integral(a[1], count)) type_error(op, "requires an integer position or count", a[1]);
  if (a.size() == 3) {
    pos = count;
    if (!integral(a[2], count)) type_error(op, "requires an integer count", a[2]);
    if (count <= 0) fail(ErrorCode::BadValue, "$slice: the count must be positive");
    if (pos < 0) pos = std::max<int64_t>(0, n + pos);
  } else if (count < 0) {
    pos = std::max<int64_t>(0, n + count);
    count = n;
  }
  pos = std::min(pos, n);
  int64_t end = std::min(n, pos + count);
  return put_array(out, std::span<const MpView>(items.data() + pos, size_t(end - pos)));
}

MpView op_concat_arrays(std::string_view op, std::span<const MpView> a, std::string& out) {
  std::vector<MpView> items;
  for (auto& v : a) {
    if (is_nullish(v)) return put_null(out);
    need_array(op, v, "arguments");
    for (auto e : elements(v)) items.push_back(e);
  }
  return put_array(out, items);
}

MpView op_reverse(std::string_view op, std::span<const MpView> a, std::string& out) {
  if (is_nullish(a[0])) return put_null(out);
  need_array(op, a[0]);
  auto items = elements(a[0]);
  std::reverse(items.begin(), items.end());
  return put_array(out, items);
}

MpView op_is_array(std::string_view, std::span<const MpView> a, std::string& out) {
  return put_bool(out, a[0].valid() && a[0].type() == MpType::Array);
}

MpView op_merge_objects(std::string_view op, std::span<const MpView> a, std::string& out) {
  std::vector<std::pair<std::string_view, MpView>> fields;
  for (auto& v : a) {
    if (is_nullish(v)) continue;
    if (v.type() != MpType::Map) type_error(op, "requires object inputs", v);
    MapIter it(v);
    std::string_view k;
    MpView x;
    while (it.next(k, x)) {
      auto f = std::find_if(fields.begin(), fields.end(), [&](auto& p) { return p.first == k; });
      if (f != fields.end())
        f->second = x;
      else
        fields.emplace_back(k, x);
    }
  }
  std::string body;
  MpWriter w(body);
  for (auto& [k, x] : fields) w.str(k), w.raw(x);
  out.clear();
  MpWriter(out).map_header(uint32_t(fields.size()));
  out.append(body);
  return MpView(out);
}

// $map {input, as, in} and $filter {input, as, cond, limit}: `as` (default "this") is bound to
// each element in turn.
class Iterate final : public Expr {
 public:
  bool is_filter = false;
  ExprPtr input, body, limit;
  MpView eval(ExprVars& vars, std::string& out) const override {
    std::string ib, lb, scratch, items;
    MpView in = input->eval(vars, ib);
    if (is_nullish(in)) return put_null(out);
    need_array(is_filter ? "$filter" : "$map", in, "'input'");
    int64_t max = INT64_MAX;
    if (limit) {
      MpView l = limit->eval(vars, lb);
      if (!is_nullish(l) && (!integral(l, max) || max < 1))
        fail(ErrorCode::BadValue, "$filter: 'limit' must be a positive integer");
    }
    MpWriter w(items);
    uint32_t n = 0;
    vars.bound.push_back(MpView());
    ArrayIter it(in);
    MpView e;
    try {
      while (int64_t(n) < max && it.next(e)) {
        vars.bound.back() = e;
        MpView r = body->eval(vars, scratch);
        if (is_filter) {
          if (!truthy(r)) continue;
          w.raw(e);
        } else {
          r.valid() ? w.raw(r) : w.nil();
        }
        ++n;
      }
    } catch (...) {
      vars.bound.pop_back();
      throw;
    }
    vars.bound.pop_back();
    out.clear();
    MpWriter(out).array_header(n);
    out.append(items);
    return MpView(out);
  }
};

template <bool Filter>
ExprPtr compile_iterate(std::string_view op, MpView args, Scope& scope) {
  MpView m = Filter ? map_args(op, args, {"input", "as", "cond", "limit"})
                    : map_args(op, args, {"input", "as", "in"});
  MpView in = m.get("input"), as = m.get("as"), body = m.get(Filter ? "cond" : "in");
  if (!in.valid()) fail(ErrorCode::BadValue, std::string(op) + " requires 'input'");
  if (!body.valid())
    fail(ErrorCode::BadValue, std::string(op) + (Filter ? " requires 'cond'" : " requires 'in'"));
  auto e = std::make_unique<Iterate>();
  e->is_filter = Filter;
  e->input = compile(in, scope);
  if (Filter && m.get("limit").valid()) e->limit = compile(m.get("limit"), scope);
  scope.names.push_back(as.valid() ? var_name(op, as) : "this");
  e->body = compile(body, scope);
  scope.names.pop_back();
  return e;
}

}  // namespace

void register_array_ops(OpTable& t) {
  t.emplace("$size", eager<op_size, 1, 1>);
  t.emplace("$arrayElemAt", eager<op_elem_at, 2, 2>);
  t.emplace("$first", eager<op_first_last<true>, 1, 1>);
  t.emplace("$last", eager<op_first_last<false>, 1, 1>);
  t.emplace("$in", eager<op_in, 2, 2>);
  t.emplace("$slice", eager<op_slice, 2, 3>);
  t.emplace("$concatArrays", eager<op_concat_arrays, 0, SIZE_MAX>);
  t.emplace("$reverseArray", eager<op_reverse, 1, 1>);
  t.emplace("$isArray", eager<op_is_array, 1, 1>);
  t.emplace("$mergeObjects", eager<op_merge_objects, 0, SIZE_MAX>);
  t.emplace("$map", compile_iterate<false>);
  t.emplace("$filter", compile_iterate<true>);
}

}  // namespace mg::expr
