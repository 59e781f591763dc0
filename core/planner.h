// core/planner.h — chooses how a query finds its documents.
//
// A small rule-based planner, like MongoDB's for simple queries: from the filter's top-level
// constraints (filter.h) it picks the index whose leading fields have the most equalities
// (then one range), preferring a unique index fully pinned by equalities. $in on an index field
// becomes several point scans. Without a usable index the plan is a collection scan. A plan is
// `covered` when the index bounds express the whole filter, so a count needs no document.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/filter.h"
#include "core/index.h"

namespace mg {

struct Plan {
  const Index* index = nullptr;                // nullptr: collection scan
  absl::InlinedVector<IndexBounds, 1> bounds;  // views into the filter's bytes
  bool covered = false;      // the bounds are exactly the filter (and the index is not multikey)
  bool needs_dedup = false;  // a document may be reached twice (multikey, several bounds)
  std::string describe() const;  // "COLLSCAN" or "IXSCAN <name>"
};

Plan plan_query(const Matcher& filter, const std::vector<std::unique_ptr<Index>>& indexes);

}  // namespace mg
