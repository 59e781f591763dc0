// core/aggregate_source.cc — Collection::scan, the aggregation pipeline's source: a leading
// $match goes through the query planner (planner.h), and a $sort that an index's order
// provides (its leading fields with the same directions, or all reversed; not multikey, where
// MongoDB's array sort keys differ from the index entries) is answered by walking that index.
#include "core/collection_impl.h"
#include "core/sort.h"

namespace mg {

namespace {

// The index whose order is `sort` (reverse set when it is the opposite order), or nullptr.
const Index* sort_index(const std::vector<std::unique_ptr<Index>>& indexes, const SortSpec& sort,
                        bool& reverse) {
  if (sort.empty()) return nullptr;
  for (auto& ix : indexes) {
    auto& fields = ix->spec().fields;
    if (ix->multikey() || fields.size() < sort.keys().size()) continue;
    int sign = 0;
    bool ok = true;
    for (size_t i = 0; i < sort.keys().size() && ok; ++i) {
      auto& key = sort.keys()[i];
      int s = fields[i].second == key.direction ? 1 : -1;
      ok = fields[i].first.dotted == key.path.dotted && (sign == 0 || s == sign);
      sign = s;
    }
    if (ok) {
      reverse = sign < 0;
      return ix.get();
    }
  }
  return nullptr;
}

}  // namespace

Status Collection::scan(MpView filter, MpView sort_view,
                        const std::function<bool(const DocRef&)>& fn, bool* sorted,
                        QueryStats* stats) const {
  return guard([&]() -> Status {
    auto m = Matcher::compile(filter);
    SortSpec sort = SortSpec::compile(sort_view);
    if (sorted) *sorted = false;
    bool reverse = false;
    const Index* by = sort_index(indexes_, sort, reverse);
    if (by) {
      Plan plan = plan_query(*m, indexes_);
      bool same = plan.index == by && plan.bounds.size() == 1 && !plan.needs_dedup;
      if (plan.index && !same) by = nullptr;  // another index narrows better: sort in memory
      if (by) {
        IndexBounds all;
        const IndexBounds& b = same ? plan.bounds[0] : all;
        QueryStats local;
        QueryStats& st = stats ? *stats : local;
        st.plan = "IXSCAN " + by->name() + " (sort)";
        st.keys_examined += by->scan(b, reverse, [&](uint32_t slot) {
          ++st.docs_examined;
          const DocRef& d = docs_[slot];
          return !m->matches(d.view()) || fn(d);
        });
        if (sorted) *sorted = true;
        return Status::OK();
      }
    }
    Impl::for_each_match(*this, *m, stats, [&](uint32_t slot, MpView) { return fn(docs_[slot]); });
    return Status::OK();
  });
}

}  // namespace mg
