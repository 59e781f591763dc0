// core/planner.cc — index selection (see planner.h).
#include "core/planner.h"

#include "core/compare.h"

namespace mg {

namespace {

const PathConstraint* constraint_for(const Matcher& m, const std::string& path) {
  for (auto& c : m.constraints())
    if (c.path == path) return &c;
  return nullptr;
}

// Distinct equality values (5 and 5.0 are one value).
absl::InlinedVector<MpView, 4> distinct_values(const std::vector<std::string>& vals) {
  absl::InlinedVector<MpView, 4> out;
  for (auto& v : vals) {
    bool dup = false;
    for (auto& o : out) dup = dup || values_equal(o, MpView(v));
    if (!dup) out.push_back(MpView(v));
  }
  return out;
}

struct Candidate {
  Plan plan;
  int score = 0;
};

Candidate consider(const Matcher& m, const Index& ix) {
  Candidate c;
  const auto& fields = ix.spec().fields;
  absl::InlinedVector<IndexBounds, 1> bounds(1);
  size_t used_constraints = 0;
  bool exact = true;  // every used constraint is fully expressed by the bounds
  size_t f = 0;
  for (; f < fields.size(); ++f) {
    const PathConstraint* pc = constraint_for(m, fields[f].first.dotted);
    if (!pc) break;
    if (pc->has_eq) {
      auto vals = distinct_values(pc->eq_values);
      if (vals.empty() || bounds.size() * vals.size() > 256) break;
      absl::InlinedVector<IndexBounds, 1> next;
      for (auto& b : bounds)
        for (auto& v : vals) {
          IndexBounds nb = b;
          nb.eq.push_back(v);
          next.push_back(std::move(nb));
        }
      bounds = std::move(next);
      ++used_constraints;
      if (pc->has_lower || pc->has_upper) exact = false;
      c.score += 4;
      continue;
    }
    if (pc->has_lower || pc->has_upper) {
      int rank = type_rank(MpView(pc->has_lower ? pc->lower : pc->upper).type());
      bool both = pc->has_lower && pc->has_upper;
      bool same_rank = both && type_rank(MpView(pc->upper).type()) == rank;
      // A multikey index can't intersect two bounds (one element may satisfy each).
      bool use_upper = pc->has_upper && (!pc->has_lower || (same_rank && !ix.multikey()));
      for (auto& b : bounds) {
        b.has_range = true;
        b.range_rank = rank;
        if (pc->has_lower) b.lower = RangeEnd{MpView(pc->lower), pc->lower_inclusive};
        if (use_upper) b.upper = RangeEnd{MpView(pc->upper), pc->upper_inclusive};
      }
      if (pc->has_upper && !use_upper) exact = false;
      ++used_constraints;
      c.score += 2;
    }
    break;
  }
  if (c.score == 0) return c;
  if (ix.unique() && f == fields.size() && bounds.size() == 1 && !bounds[0].has_range)
    c.score += 100;  // a single point in a unique index: at most one document
  c.plan.index = &ix;
  c.plan.needs_dedup = ix.multikey() || bounds.size() > 1;
  c.plan.covered =
      exact && !ix.multikey() && m.only_constraints() && used_constraints == m.constraints().size();
  c.plan.bounds = std::move(bounds);
  return c;
}

}  // namespace

std::string Plan::describe() const {
  return index ? "IXSCAN " + index->name() : "COLLSCAN";
}

Plan plan_query(const Matcher& filter, const std::vector<std::unique_ptr<Index>>& indexes) {
  Candidate best;
  if (filter.constraints().empty()) return best.plan;
  for (auto& ix : indexes) {
    Candidate c = consider(filter, *ix);
    if (c.score > best.score) best = std::move(c);
  }
  return best.plan;
}

}  // namespace mg
