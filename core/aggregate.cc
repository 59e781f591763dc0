// core/aggregate.cc — compiling a pipeline into stages and running them (see aggregate.h).
//
// The leading $match (and a $sort right after it, or leading) become the source scan
// (Collection::scan: planner and index order). A $group right after the source consumes the
// stored documents one by one, so the common "$match + $group" never materializes a batch. A
// $limit right after the source (or after an index-provided $sort) stops the scan early. Then
// each stage transforms the batch in turn; the memory budget is re-measured between stages.
#include "core/aggregate.h"

#include "core/aggregate_stage.h"
#include "core/filter.h"

namespace mg {

namespace agg {

namespace {

struct StageArg {
  std::string_view name;
  MpView arg;
};

std::vector<StageArg> stage_args(MpView pipeline) {
  if (!pipeline.valid() || pipeline.type() != MpType::Array)
    fail(ErrorCode::TypeMismatch, "'pipeline' must be an array of stages");
  std::vector<StageArg> out;
  ArrayIter it(pipeline);
  MpView s;
  while (it.next(s)) {
    if (s.type() != MpType::Map || s.count() != 1)
      fail(ErrorCode::BadValue,
           "a pipeline stage specification object must contain exactly one field");
    MpView key(s.first());
    out.push_back({key.as_str(), MpView(key.end())});
  }
  return out;
}

StagePtr make_stage(const std::vector<StageArg>& all, size_t i, bool in_facet, StageList& list) {
  std::string_view n = all[i].name;
  MpView a = all[i].arg;
  if (n == "$match") return make_match(a);
  if (n == "$project") return make_project(a);
  if (n == "$addFields" || n == "$set") return make_add_fields(n, a);
  if (n == "$unset") return make_unset(a);
  if (n == "$group") return make_group(a);
  if (n == "$sort") {
    int64_t limit = 0;
    if (i + 1 < all.size() && all[i + 1].name == "$limit")
      limit = stage_integer("$limit", all[i + 1].arg);
    return make_sort(a, limit);
  }
  if (n == "$skip" || n == "$limit") return make_skip_limit(n, a);
  if (n == "$count") return make_count(a);
  if (n == "$unwind") return make_unwind(a);
  if (n == "$replaceRoot" || n == "$replaceWith") return make_replace_root(n, a);
  if (n == "$sample") return make_sample(a);
  if (n == "$bucket") return make_bucket(a);
  if (n == "$sortByCount") {
    list.push_back(make_sort_by_count_group(a));
    std::string by_count(
        "\x81\xa5"
        "count\xff",
        8);
    return make_sort(MpView(by_count), 0);
  }
  if (n == "$facet") {
    if (in_facet) fail(ErrorCode::BadValue, "$facet is not allowed inside a $facet");
    return make_facet(a);
  }
  if (n == "$lookup") {
    if (in_facet)
      fail(ErrorCode::BadValue, "$lookup inside a $facet is not supported by memgoosed");
    return make_lookup(a);
  }
  fail(ErrorCode::BadValue, "unrecognized pipeline stage name: '" + std::string(n) + "'");
}

}  // namespace

StageList compile_stages(MpView pipeline, bool in_facet) {
  auto all = stage_args(pipeline);
  StageList list;
  for (size_t i = 0; i < all.size(); ++i) list.push_back(make_stage(all, i, in_facet, list));
  return list;
}

}  // namespace agg

struct Aggregation::Impl {
  std::string pipeline;  // own copy: every view below points into it
  MpView filter, sort;   // the source's: leading $match, then $sort (invalid when none)
  agg::StageList stages;
  int64_t limit_unsorted = 0;  // a $limit first after the source
  int64_t limit_sorted = 0;    // a $limit right after the source's $sort
  agg::Budget budget;
  std::mt19937_64 rng{std::random_device{}()};
  agg::Batch batch;
  bool started = false;
  size_t pos = 0;
  agg::LookupStage* waiting = nullptr;
  LookupQuery pending;
  Status failed;

  explicit Impl(size_t limit) : budget(limit) {}
  void start(Collection& src, agg::StageCtx& ctx);
  bool advance(Collection& src, agg::StageCtx& ctx);
};

Aggregation::Aggregation(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Aggregation::~Aggregation() = default;

Result<std::unique_ptr<Aggregation>> Aggregation::compile(MpView pipeline, AggregateOptions opts) {
  return guard([&]() -> Result<std::unique_ptr<Aggregation>> {
    auto impl = std::make_unique<Impl>(opts.memory_limit);
    if (!pipeline.valid() || pipeline.type() != MpType::Array)
      fail(ErrorCode::TypeMismatch, "'pipeline' must be an array of stages");
    impl->pipeline = std::string(pipeline.bytes());
    MpView p(impl->pipeline);
    auto all = agg::stage_args(p);
    size_t first = 0;
    if (!all.empty() && all[0].name == "$match") {
      if (all[0].arg.type() != MpType::Map) fail(ErrorCode::BadValue, "$match takes an object");
      (void)Matcher::compile(all[0].arg);  // errors now, not at run time
      impl->filter = all[0].arg;
      first = 1;
    }
    // The remaining stages, re-encoded as their own array for compile_stages.
    std::string rest;
    MpWriter w(rest);
    w.array_header(uint32_t(all.size() - first));
    ArrayIter it(p);
    MpView s;
    for (size_t i = 0; it.next(s); ++i)
      if (i >= first) w.raw(s);
    impl->stages = agg::compile_stages(MpView(rest), false);
    size_t next = first;
    if (next < all.size() && all[next].name == "$sort") {
      impl->sort = all[next].arg;
      if (next + 1 < all.size() && all[next + 1].name == "$limit")
        impl->limit_sorted = agg::stage_integer("$limit", all[next + 1].arg);
    }
    if (next < all.size() && all[next].name == "$limit")
      impl->limit_unsorted = agg::stage_integer("$limit", all[next].arg);
    return std::unique_ptr<Aggregation>(new Aggregation(std::move(impl)));
  });
}

void Aggregation::Impl::start(Collection& src, agg::StageCtx& ctx) {
  started = true;
  budget.reset(0);
  agg::Stage* first = stages.empty() ? nullptr : stages[0].get();
  Status s;
  if (first && first->streams()) {
    s = src.scan(
        filter, MpView(),
        [&](const DocRef& d) {
          first->consume(d.view(), ctx);
          return true;
        },
        nullptr);
    if (s.ok()) first->finish(batch, ctx), pos = 1;
  } else {
    bool sorted = false;
    // A $sort the index may provide, and the $limit after it: stop early when it does.
    int64_t limit = limit_unsorted;
    if (sort.valid() && limit_sorted > 0 && src.size() > 0) {
      bool probe = false;  // would the index provide the order? (scan nothing to find out)
      s = src.scan(
          filter, sort, [](const DocRef&) { return false; }, &probe);
      if (probe) limit = limit_sorted;
    }
    s = src.scan(
        filter, sort,
        [&](const DocRef& d) {
          batch.push_back(agg::Doc{d, {}});
          budget.charge(sizeof(agg::Doc));
          return limit == 0 || int64_t(batch.size()) < limit;
        },
        &sorted);
    if (sorted && sort.valid()) pos = 1;  // the index gave the $sort's order
  }
  if (!s.ok()) fail(s);
}

bool Aggregation::Impl::advance(Collection& src, agg::StageCtx& ctx) {
  if (!started) start(src, ctx);
  for (; pos < stages.size(); ++pos) {
    budget.reset(agg::batch_bytes(batch));
    agg::Stage& stage = *stages[pos];
    agg::LookupStage* lk = stage.as_lookup();
    if (!lk) {
      stage.apply(batch, ctx);
      continue;
    }
    std::string f = lk->foreign_filter(batch);
    if (f.empty()) {
      lk->join(batch, {}, ctx);
    } else if (lk->from() == src.name()) {  // the model itself: answered here
      FindSpec spec;
      spec.filter = MpView(f);
      auto docs = src.find(spec);
      if (!docs.ok()) fail(docs.status());
      lk->join(batch, docs.value(), ctx);
    } else {
      pending = LookupQuery{lk->from(), std::move(f)};
      waiting = lk;
      return false;
    }
  }
  budget.reset(agg::batch_bytes(batch));
  return true;
}

Result<bool> Aggregation::run(Collection& source) {
  return guard([&]() -> Result<bool> {
    if (!impl_->failed.ok()) return impl_->failed;
    agg::StageCtx ctx{impl_->budget, impl_->rng};
    return impl_->advance(source, ctx);
  });
}

const LookupQuery& Aggregation::lookup() const {
  return impl_->pending;
}

void Aggregation::provide(std::vector<DocRef> docs) {
  Impl& im = *impl_;
  if (!im.waiting) return;
  im.failed = guard([&]() -> Status {
    agg::StageCtx ctx{im.budget, im.rng};
    im.waiting->join(im.batch, docs, ctx);
    return Status::OK();
  });
  im.waiting = nullptr;
  ++im.pos;
}

size_t Aggregation::result_count() const {
  return impl_->batch.size();
}

size_t Aggregation::result_bytes() const {
  size_t n = 0;
  for (auto& d : impl_->batch) n += d.view().byte_size();
  return n;
}

void Aggregation::write_results(MpWriter& w) const {
  for (auto& d : impl_->batch) w.raw(d.view());
}

}  // namespace mg
