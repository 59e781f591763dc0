// core/filter_ops.h — the node types a compiled filter is made of (internal to filter*.cc).
//
// Two layers, as in MongoDB's matcher:
//  - `Node` tests a whole map (the document, or a map element under $elemMatch): logical
//    operators and "path + predicate" pairs.
//  - `FieldExpr` is what an operator map says about one path. `match_path` walks the path
//    (path.h) with Mongo's array rules; `match_single` tests one value as it is, which is what
//    $elemMatch's value form needs ({$elemMatch: {$gt: 1, $lt: 5}} on each element).
// Leaves keep their operands as encoded MessagePack and compare with compare_values; nothing
// here allocates or throws while matching.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/compare.h"
#include "core/msgpack.h"
#include "core/path.h"

namespace mg::filter {

struct Node {
  virtual ~Node() = default;
  virtual bool match(MpView map) const = 0;
  // Rough evaluation cost, used to test cheap conjuncts first.
  virtual int cost() const { return 2; }
};
using NodePtr = std::unique_ptr<Node>;

struct FieldExpr {
  virtual ~FieldExpr() = default;
  // Any value `path` reaches from `doc` satisfies the predicate (Mongo array rules).
  virtual bool match_path(MpView doc, const FieldPath& path) const = 0;
  // The single value `v` (valid) satisfies the predicate, without looking into arrays.
  virtual bool match_single(MpView v) const = 0;
  virtual int cost() const { return 2; }
};
using ExprPtr = std::unique_ptr<FieldExpr>;

// A leaf predicate D with `bool test(MpView) const` (one valid value), `bool on_missing()
// const` (result for a branch reaching nothing) and `static constexpr bool kExpand` (whether
// the elements of a reached array are tested too, as for $eq; not for $size or $elemMatch).
template <class D>
struct Leaf : FieldExpr {
  bool match_path(MpView doc, const FieldPath& path) const final {
    const D& d = static_cast<const D&>(*this);
    bool hit = false;
    visit_path(doc, path, 0, [&](MpView v) {
      if (!v.valid()) return hit = d.on_missing();
      if (d.test(v)) return hit = true;
      if constexpr (D::kExpand) {
        if (v.type() == MpType::Array) {
          ArrayIter it(v);
          MpView e;
          while (it.next(e))
            if (d.test(e)) return hit = true;
        }
      }
      return false;
    });
    return hit;
  }
  bool match_single(MpView v) const final { return static_cast<const D&>(*this).test(v); }
};

enum class Cmp : uint8_t { Gt, Gte, Lt, Lte };

// Leaf factories (filter_ops.cc). Operands are encoded MessagePack values.
ExprPtr make_eq(std::string operand);
ExprPtr make_cmp(Cmp op, std::string operand);
ExprPtr make_in(const std::vector<std::string>& values);
ExprPtr make_exists();
ExprPtr make_type(uint32_t mask);  // bit (1 << MpType) per accepted type
ExprPtr make_size(int64_t n);
ExprPtr make_mod(int64_t divisor, int64_t remainder);
ExprPtr make_never();
// Throws BadValue (naming `path`) for a bad option letter or a pattern RE2 refuses.
ExprPtr make_regex(std::string_view pattern, std::string_view options, const std::string& path);
ExprPtr make_elem_match_value(ExprPtr each);  // each element tested with match_single
ExprPtr make_elem_match_doc(NodePtr each);    // each map element matched as a sub-filter
ExprPtr make_and(std::vector<ExprPtr> all);
ExprPtr make_not(ExprPtr e);

// The $type operand (a name, a numeric code, or an array of them) as a mask; throws BadValue.
uint32_t parse_type_mask(MpView operand, const std::string& path);

// Removes unescaped whitespace and '#' comments outside character classes (the x option).
std::string strip_extended(std::string_view pattern);

}  // namespace mg::filter
