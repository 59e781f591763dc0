// core/aggregate_stage.h — internals of the aggregation pipeline shared by aggregate*.cc: the
// documents flowing between stages, the memory budget and the Stage interface. Not a public API.
//
// Stages run one after the other over a whole batch (MongoDB's blocking stages need it anyway,
// and the pipeline is bounded by the memory budget). A stored document passes through as a
// DocRef (no copy); a stage that changes a document re-encodes it into `own`.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/aggregate.h"
#include "core/document.h"
#include "core/error.h"
#include "core/expr.h"
#include "core/msgpack.h"
#include "core/value.h"

namespace mg::agg {

struct Doc {
  DocRef ref;       // a stored document passed through unchanged, or
  std::string own;  // a document built by a stage
  MpView view() const { return ref ? ref.view() : MpView(own); }
  size_t bytes() const { return sizeof(Doc) + own.size(); }
  static Doc of(std::string bytes) {
    Doc d;
    d.own = std::move(bytes);
    return d;
  }
};
using Batch = std::vector<Doc>;

// Bytes of intermediate data held. charge throws BadValue past the limit.
class Budget {
 public:
  explicit Budget(size_t limit) : limit_(limit) {}
  void charge(size_t n) {
    used_ += n;
    if (used_ > limit_) exceeded();
  }
  void reset(size_t n) { used_ = 0, charge(n); }
  size_t limit() const { return limit_; }

 private:
  [[noreturn]] void exceeded() const;
  size_t limit_, used_ = 0;
};

size_t batch_bytes(const Batch& b);

struct StageCtx {
  Budget& budget;
  std::mt19937_64& rng;
};

class LookupStage;

class Stage {
 public:
  virtual ~Stage() = default;
  // Transforms the batch. Throws Error.
  virtual void apply(Batch& batch, StageCtx& ctx) = 0;
  // A stage that can take the source's documents one at a time, without a batch ($group).
  virtual bool streams() const { return false; }
  virtual void consume(MpView, StageCtx&) {}
  virtual void finish(Batch&, StageCtx&) {}
  virtual LookupStage* as_lookup() { return nullptr; }
};
using StagePtr = std::unique_ptr<Stage>;

// Where each stage family lives: the factories take the stage's argument.
using StageList = std::vector<StagePtr>;
// Compiles a list of stages (a pipeline, or a $facet's sub-pipeline when `in_facet`).
StageList compile_stages(MpView pipeline, bool in_facet);

StagePtr make_match(MpView arg);
StagePtr make_project(MpView arg);
StagePtr make_add_fields(std::string_view name, MpView arg);
StagePtr make_unset(MpView arg);
StagePtr make_sort(MpView arg, int64_t limit);  // limit > 0: a following $limit (top-k)
StagePtr make_skip_limit(std::string_view name, MpView arg);
StagePtr make_count(MpView arg);
StagePtr make_unwind(MpView arg);
StagePtr make_replace_root(std::string_view name, MpView arg);
StagePtr make_sample(MpView arg);
StagePtr make_facet(MpView arg);
StagePtr make_group(MpView arg);
StagePtr make_bucket(MpView arg);
StagePtr make_sort_by_count_group(MpView arg);
StagePtr make_lookup(MpView arg);

// $lookup: prepares the query for the foreign model, then joins what comes back.
class LookupStage : public Stage {
 public:
  virtual const std::string& from() const = 0;
  // The filter selecting the foreign documents the batch can match (empty: none can).
  virtual std::string foreign_filter(const Batch& batch) const = 0;
  // Adds the `as` array to every document of the batch.
  virtual void join(Batch& batch, const std::vector<DocRef>& foreign, StageCtx& ctx) const = 0;
  void apply(Batch&, StageCtx&) override {}  // run by the driver (aggregate.cc)
  LookupStage* as_lookup() override { return this; }
};

// ---- document editing shared by stages ----

// `doc` with top-level `key` set to the encoded `value` (replaced in place, or appended).
std::string with_field(MpView doc, std::string_view key, std::string_view value);
// Sets the dotted path in a map Value, making maps on the way (a scalar on the way is replaced
// by a map; through an array, the path is set in each map element), as $addFields does.
void set_value_path(Value& doc, const std::vector<std::string>& parts, size_t i, Value v);
// Removes the dotted path from a map Value (through arrays, from each element).
void erase_value_path(Value& doc, const std::vector<std::string>& parts, size_t i);
// A non-negative integer stage argument ($skip, $limit, $sample size).
int64_t stage_integer(std::string_view stage, MpView v);

}  // namespace mg::agg
