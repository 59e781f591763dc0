// core/filter_ops.cc — the leaf predicates of a compiled filter (see filter_ops.h, filter.cc).
//
// Each leaf tests one value; the Leaf<> template in filter_ops.h adds the path walk and the
// "array or any of its elements" rule. Comparisons are type-bracketed via type_rank, numbers
// compare by value, NaN equals only NaN and is neither above nor below anything (MongoDB).
#include "core/filter_ops.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace mg::filter {

namespace {

bool is_nan(MpView v) {
  return v.type() == MpType::Float && std::isnan(v.as_double());
}

struct EqLeaf final : Leaf<EqLeaf> {
  static constexpr bool kExpand = true;
  explicit EqLeaf(std::string op) : op_(std::move(op)), nil_(MpView(op_).type() == MpType::Nil) {}
  bool test(MpView v) const { return compare_values(v, MpView(op_)) == 0; }
  bool on_missing() const { return nil_; }
  int cost() const override { return 1; }
  std::string op_;
  bool nil_;
};

struct CmpLeaf final : Leaf<CmpLeaf> {
  static constexpr bool kExpand = true;
  CmpLeaf(Cmp c, std::string op) : op_(std::move(op)), cmp_(c) {
    MpView o(op_);
    rank_ = type_rank(o.type());
    op_nan_ = is_nan(o);
    // {$gte: null} and {$lte: null} match a missing field, like {$eq: null}.
    missing_ = rank_ == 0 && (c == Cmp::Gte || c == Cmp::Lte);
  }
  bool test(MpView v) const {
    if (type_rank(v.type()) != rank_) return false;
    bool inclusive = cmp_ == Cmp::Gte || cmp_ == Cmp::Lte;
    if (rank_ == 1) {
      bool v_nan = is_nan(v);
      if (v_nan || op_nan_) return v_nan && op_nan_ && inclusive;
    }
    int c = compare_values(v, MpView(op_));
    switch (cmp_) {
      case Cmp::Gt:
        return c > 0;
      case Cmp::Gte:
        return c >= 0;
      case Cmp::Lt:
        return c < 0;
      case Cmp::Lte:
        return c <= 0;
    }
    return false;
  }
  bool on_missing() const { return missing_; }
  std::string op_;
  Cmp cmp_;
  int rank_ = 0;
  bool op_nan_ = false, missing_ = false;
};

// $in: a short list is scanned, a long one is sorted (compare_values is a total order whose
// equality is the query's) and binary searched.
struct InLeaf final : Leaf<InLeaf> {
  static constexpr bool kExpand = true;
  explicit InLeaf(const std::vector<std::string>& vals) : vals_(vals) {
    auto less = [](const std::string& a, const std::string& b) {
      return compare_values(MpView(a), MpView(b)) < 0;
    };
    std::sort(vals_.begin(), vals_.end(), less);
    for (auto& v : vals_) nil_ = nil_ || MpView(v).type() == MpType::Nil;
  }
  bool test(MpView v) const {
    if (vals_.size() <= 8) {
      for (auto& x : vals_)
        if (compare_values(v, MpView(x)) == 0) return true;
      return false;
    }
    size_t lo = 0, hi = vals_.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      int c = compare_values(MpView(vals_[mid]), v);
      if (c == 0) return true;
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    return false;
  }
  bool on_missing() const { return nil_; }
  std::vector<std::string> vals_;
  bool nil_ = false;
};

struct ExistsLeaf final : Leaf<ExistsLeaf> {
  static constexpr bool kExpand = false;
  bool test(MpView) const { return true; }
  bool on_missing() const { return false; }
  int cost() const override { return 1; }
};

struct NeverLeaf final : Leaf<NeverLeaf> {
  static constexpr bool kExpand = false;
  bool test(MpView) const { return false; }
  bool on_missing() const { return false; }
  int cost() const override { return 0; }
};

struct TypeLeaf final : Leaf<TypeLeaf> {
  static constexpr bool kExpand = true;
  explicit TypeLeaf(uint32_t mask) : mask_(mask) {}
  bool test(MpView v) const { return (mask_ >> unsigned(v.type())) & 1u; }
  bool on_missing() const { return false; }
  uint32_t mask_;
};

struct SizeLeaf final : Leaf<SizeLeaf> {
  static constexpr bool kExpand = false;
  explicit SizeLeaf(int64_t n) : n_(n) {}
  bool test(MpView v) const { return v.type() == MpType::Array && int64_t(v.count()) == n_; }
  bool on_missing() const { return false; }
  int64_t n_;
};

struct ModLeaf final : Leaf<ModLeaf> {
  static constexpr bool kExpand = true;
  ModLeaf(int64_t d, int64_t r) : div_(d), rem_(r) {}
  bool test(MpView v) const {
    int64_t x;
    MpType t = v.type();
    if (t == MpType::Int) {
      x = v.as_int();
    } else if (t == MpType::Float) {
      double d = std::trunc(v.as_double());
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;  // NaN too
      x = int64_t(d);
    } else {
      return false;
    }
    if (div_ == -1) return rem_ == 0;  // INT64_MIN % -1 overflows
    return x % div_ == rem_;
  }
  bool on_missing() const { return false; }
  int64_t div_, rem_;
};

struct RegexLeaf final : Leaf<RegexLeaf> {
  static constexpr bool kExpand = true;
  explicit RegexLeaf(std::unique_ptr<RE2> re) : re_(std::move(re)) {}
  bool test(MpView v) const {
    if (v.type() != MpType::Str) return false;
    std::string_view s = v.as_str();
    return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re_);
  }
  bool on_missing() const { return false; }
  int cost() const override { return 4; }
  std::unique_ptr<RE2> re_;
};

struct ElemValueLeaf final : Leaf<ElemValueLeaf> {
  static constexpr bool kExpand = false;
  explicit ElemValueLeaf(ExprPtr e) : each_(std::move(e)) {}
  bool test(MpView v) const {
    if (v.type() != MpType::Array) return false;
    ArrayIter it(v);
    MpView e;
    while (it.next(e))
      if (each_->match_single(e)) return true;
    return false;
  }
  bool on_missing() const { return false; }
  int cost() const override { return 4; }
  ExprPtr each_;
};

struct ElemDocLeaf final : Leaf<ElemDocLeaf> {
  static constexpr bool kExpand = false;
  explicit ElemDocLeaf(NodePtr n) : each_(std::move(n)) {}
  bool test(MpView v) const {
    if (v.type() != MpType::Array) return false;
    ArrayIter it(v);
    MpView e;
    while (it.next(e))
      if (e.type() == MpType::Map && each_->match(e)) return true;
    return false;
  }
  bool on_missing() const { return false; }
  int cost() const override { return 4; }
  NodePtr each_;
};

// Several operators on one path ({$gt: 1, $lt: 5}, $all): each is checked on its own, so an
// array [0, 10] satisfies {$gt: 1, $lt: 5} through different elements, as in MongoDB.
struct AndExpr final : FieldExpr {
  explicit AndExpr(std::vector<ExprPtr> all) : all_(std::move(all)) {
    std::stable_sort(all_.begin(), all_.end(),
                     [](const ExprPtr& a, const ExprPtr& b) { return a->cost() < b->cost(); });
  }
  bool match_path(MpView doc, const FieldPath& path) const override {
    for (auto& e : all_)
      if (!e->match_path(doc, path)) return false;
    return true;
  }
  bool match_single(MpView v) const override {
    for (auto& e : all_)
      if (!e->match_single(v)) return false;
    return true;
  }
  int cost() const override {
    int c = 0;
    for (auto& e : all_) c += e->cost();
    return c;
  }
  std::vector<ExprPtr> all_;
};

// $ne, $nin, $not, $exists: false — the negation over the whole field.
struct NotExpr final : FieldExpr {
  explicit NotExpr(ExprPtr e) : e_(std::move(e)) {}
  bool match_path(MpView doc, const FieldPath& path) const override {
    return !e_->match_path(doc, path);
  }
  bool match_single(MpView v) const override { return !e_->match_single(v); }
  int cost() const override { return e_->cost(); }
  ExprPtr e_;
};

struct TypeName {
  std::string_view name;
  int code;
  uint32_t mask;
};

constexpr uint32_t bit(MpType t) {
  return 1u << unsigned(t);
}

// MongoDB's type names and codes. Types MessagePack cannot hold (objectId, regex, decimal, ...)
// are accepted and match nothing, as a Mongo query for an absent type does.
constexpr TypeName kTypes[] = {
    {"double", 1, bit(MpType::Float)},
    {"string", 2, bit(MpType::Str)},
    {"object", 3, bit(MpType::Map)},
    {"array", 4, bit(MpType::Array)},
    {"binData", 5, bit(MpType::Bin)},
    {"undefined", 6, 0},
    {"objectId", 7, 0},
    {"bool", 8, bit(MpType::Bool)},
    {"date", 9, bit(MpType::Date)},
    {"null", 10, bit(MpType::Nil)},
    {"regex", 11, 0},
    {"dbPointer", 12, 0},
    {"javascript", 13, 0},
    {"symbol", 14, 0},
    {"javascriptWithScope", 15, 0},
    {"int", 16, bit(MpType::Int)},
    {"timestamp", 17, 0},
    {"long", 18, bit(MpType::Int)},
    {"decimal", 19, 0},
    {"minKey", -1, 0},
    {"maxKey", 127, 0},
    {"number", -1000, bit(MpType::Int) | bit(MpType::Float)},
};

uint32_t one_type(MpView v, const std::string& path) {
  if (v.type() == MpType::Str) {
    for (auto& t : kTypes)
      if (t.name == v.as_str()) return t.mask;
    fail(ErrorCode::BadValue, "unknown $type '" + std::string(v.as_str()) + "' for '" + path + "'");
  }
  if (v.is_number()) {
    double d = v.as_double();
    for (auto& t : kTypes)
      if (t.code != -1000 && double(t.code) == d) return t.mask;
  }
  fail(ErrorCode::BadValue, "$type for '" + path + "' needs a type name or a BSON type code");
}

}  // namespace

uint32_t parse_type_mask(MpView operand, const std::string& path) {
  if (operand.type() != MpType::Array) return one_type(operand, path);
  if (operand.count() == 0)
    fail(ErrorCode::BadValue, "$type for '" + path + "' needs at least one type");
  uint32_t mask = 0;
  ArrayIter it(operand);
  MpView e;
  while (it.next(e)) mask |= one_type(e, path);
  return mask;
}

std::string strip_extended(std::string_view p) {
  std::string out;
  out.reserve(p.size());
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      out += c;
      out += p[++i];
    } else if (in_class) {
      if (c == ']') in_class = false;
      out += c;
    } else if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ']' is literal
    } else if (c == '#') {
      while (i + 1 < p.size() && p[i + 1] != '\n') ++i;
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') {
      out += c;
    }
  }
  return out;
}

ExprPtr make_regex(std::string_view pattern, std::string_view options, const std::string& path) {
  constexpr size_t kMaxPattern = 32 << 10;
  if (pattern.size() > kMaxPattern)
    fail(ErrorCode::BadValue, "$regex for '" + path + "' is longer than 32 KiB");
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(8 << 20);
  bool multiline = false, extended = false;
  for (char c : options) {
    switch (c) {
      case 'i':
        o.set_case_sensitive(false);
        break;
      case 'm':
        multiline = true;
        break;
      case 's':
        o.set_dot_nl(true);
        break;
      case 'x':
        extended = true;
        break;
      default:
        fail(ErrorCode::BadValue, "invalid $options '" + std::string(options) + "' for '" + path +
                                      "' (allowed: i, m, s, x)");
    }
  }
  std::string pat = extended ? strip_extended(pattern) : std::string(pattern);
  if (multiline) pat.insert(0, "(?m)");
  auto re = std::make_unique<RE2>(pat, o);
  if (re->error_code() == RE2::ErrorPatternTooLarge)
    fail(ErrorCode::BadValue, "$regex for '" + path +
                                  "' is too complex: its compiled program exceeds the 8 MiB "
                                  "regex memory limit (RE2 max_mem); simplify the pattern");
  if (!re->ok()) fail(ErrorCode::BadValue, "invalid $regex for '" + path + "': " + re->error());
  return std::make_unique<RegexLeaf>(std::move(re));
}

ExprPtr make_eq(std::string operand) {
  return std::make_unique<EqLeaf>(std::move(operand));
}
ExprPtr make_cmp(Cmp op, std::string operand) {
  return std::make_unique<CmpLeaf>(op, std::move(operand));
}
ExprPtr make_in(const std::vector<std::string>& values) {
  return std::make_unique<InLeaf>(values);
}
ExprPtr make_exists() {
  return std::make_unique<ExistsLeaf>();
}
ExprPtr make_type(uint32_t mask) {
  return std::make_unique<TypeLeaf>(mask);
}
ExprPtr make_size(int64_t n) {
  return std::make_unique<SizeLeaf>(n);
}
ExprPtr make_mod(int64_t d, int64_t r) {
  return std::make_unique<ModLeaf>(d, r);
}
ExprPtr make_never() {
  return std::make_unique<NeverLeaf>();
}
ExprPtr make_elem_match_value(ExprPtr each) {
  return std::make_unique<ElemValueLeaf>(std::move(each));
}
ExprPtr make_elem_match_doc(NodePtr each) {
  return std::make_unique<ElemDocLeaf>(std::move(each));
}
ExprPtr make_and(std::vector<ExprPtr> all) {
  if (all.size() == 1) return std::move(all[0]);
  return std::make_unique<AndExpr>(std::move(all));
}
ExprPtr make_not(ExprPtr e) {
  return std::make_unique<NotExpr>(std::move(e));
}

}  // namespace mg::filter
