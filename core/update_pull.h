// core/update_pull.h — internal to core/update*.cc: what `$pull` removes from an array.
//
// MongoDB has three matchers: a plain value removes the elements equal to it; a map of
// conditions ({$gte: 6}, {$in: [...]}) removes the elements satisfying them; any other map
// ({type: "x", "n.m": {$lt: 3}}) removes the map elements whose fields match it with query
// semantics (an array field matches when it or an element matches; nil matches missing).
// Conditions are $eq $ne $gt $gte $lt $lte $in $nin, type-bracketed as in MongoDB; others are
// BadValue. Kept local so updates do not depend on the query engine.
#pragma once

#include <string>
#include <vector>

#include "core/msgpack.h"
#include "core/path.h"

namespace mg::update_detail {

// True when the map `m` is non-empty and every key starts with '$'; `any_dollar` tells
// whether some key does.
bool all_dollar_keys(MpView m, bool& any_dollar);

enum class CondOp { Eq, Ne, Gt, Gte, Lt, Lte, In, Nin };

struct Cond {
  CondOp op;
  std::string value;              // encoded operand
  std::vector<std::string> list;  // $in / $nin: encoded elements
};

class PullMatcher {
 public:
  // Throws Error BadValue for an unsupported condition or a bad operand shape.
  static PullMatcher compile(MpView operand);
  // True when the array element `elem` is to be removed. Never throws, never allocates.
  bool matches(MpView elem) const;

 private:
  struct Field {
    FieldPath path;
    std::string value;  // equality, when conds is empty
    std::vector<Cond> conds;
  };
  enum class Mode { Exact, Conds, Fields } mode_ = Mode::Exact;
  std::string value_;
  std::vector<Cond> conds_;
  std::vector<Field> fields_;

  static bool field_matches(MpView elem, const Field& f);
};

}  // namespace mg::update_detail
