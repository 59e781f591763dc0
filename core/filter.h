// core/filter.h — query filters compiled once into a matcher (CONTRACT.md §5 "Filters").
//
// Operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $type $regex (+$options i m s x, via
// RE2, linear time) $size $all $elemMatch $mod $not, and $and $or $nor. Fields beside a logical
// operator are ANDed with it. Dot paths reach into maps and arrays (path.h); an array field
// matches when the array itself or any element matches; `{f: null}` also matches a missing f.
// Comparisons are type-bracketed as in MongoDB ({$gt: 5} never matches a string).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/msgpack.h"

namespace mg {

// What the planner may use from a filter: the ANDed top-level predicates on one path whose
// operands are scalars (nil, number, string, bin, bool, date). Any document matching the filter
// satisfies every constraint, so an index scan over them yields a superset of the matches.
struct PathConstraint {
  std::string path;
  std::vector<std::string> eq_values;  // encoded values: equality ($eq / implicit / $in)
  bool has_eq = false;
  bool has_lower = false, lower_inclusive = false;
  bool has_upper = false, upper_inclusive = false;
  std::string lower, upper;  // encoded bounds ($gt/$gte, $lt/$lte)
};

class Matcher {
 public:
  virtual ~Matcher() = default;

  // Compiles a filter (a validated MessagePack map; an invalid view or empty map matches all).
  // Throws Error: BadValue for an unknown operator (naming it), a bad $regex/$options, a wrong
  // operand shape ($in without an array, $size not an integer, ...); the message names the path.
  static std::unique_ptr<Matcher> compile(MpView filter);

  // True when the document (a map) satisfies the filter. Never throws.
  virtual bool matches(MpView doc) const = 0;

  // True for the empty filter.
  virtual bool matches_all() const = 0;

  // The planner's view of the filter, see PathConstraint. At most one entry per path.
  virtual const std::vector<PathConstraint>& constraints() const = 0;

  // True when the filter is exactly the conjunction of `constraints()` restricted to scalar
  // equalities/ranges (no other predicate), so an index covering them can count without
  // reading documents.
  virtual bool only_constraints() const = 0;

  // Upsert seed: the (path, encoded value) pairs of top-level equalities ({f: v}, {f: {$eq: v}},
  // and those inside a top-level $and), in filter order.
  virtual std::vector<std::pair<std::string, std::string>> equalities() const = 0;
};

}  // namespace mg
