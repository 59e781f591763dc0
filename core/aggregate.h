// core/aggregate.h — the `aggregate` pipeline (CONTRACT.md §5): compiled once, then run over a
// collection.
//
// Stages: $match (through an index when it leads the pipeline), $project, $addFields / $set,
// $unset, $group (accumulators $sum $avg $min $max $first $last $push $addToSet $count),
// $sort (through an index when it leads, or follows the leading $match, and an index provides
// the order), $skip, $limit, $count, $unwind, $lookup (localField / foreignField), $replaceRoot /
// $replaceWith, $facet, $bucket, $sortByCount, $sample. Expressions: expr.h. Semantics are
// MongoDB's; docs/PROTOCOL.md lists the choices where memgoosed differs.
//
// Errors: compile throws nothing and returns BadValue for an unknown stage or operator (naming
// it) or a bad argument, TypeMismatch where MongoDB has it. A run returns MongoDB's runtime
// errors and BadValue when the pipeline's intermediate data exceeds `memory_limit` (documents
// created by stages, group state, sort buffers — stored documents passed through unchanged
// count only their reference).
//
// $lookup into another model: the collection of one model belongs to its actor, so `run`
// stops before such a $lookup and asks for the foreign documents (`lookup()`): the caller
// fetches them from the other model (a `find` with `lookup().filter`) and hands them to
// `provide`, then calls `run` again. A $lookup of the model itself is answered in place.
// Not thread-safe; an Aggregation keeps its own copy of the pipeline.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/collection.h"
#include "core/document.h"
#include "core/error.h"
#include "core/msgpack.h"

namespace mg {

struct AggregateOptions {
  // Bytes of intermediate data one pipeline may hold (MongoDB's limit per blocking stage
  // without allowDiskUse is 100 MiB).
  size_t memory_limit = size_t(100) << 20;
};

// What a $lookup needs from another model of the same database.
struct LookupQuery {
  std::string from;    // the model
  std::string filter;  // encoded filter: {foreignField: {$in: [local values]}}
};

class Aggregation {
 public:
  ~Aggregation();

  // Compiles `pipeline` (an array of one-key stage maps).
  static Result<std::unique_ptr<Aggregation>> compile(MpView pipeline, AggregateOptions opts = {});

  // Runs the stages not yet run, reading `source` (the model aggregated) where the pipeline
  // needs it. Returns true when finished, false when it waits for `provide` (see above).
  Result<bool> run(Collection& source);

  // The pending lookup (valid after run returned false).
  const LookupQuery& lookup() const;
  // The documents of lookup().from matching lookup().filter (a superset is fine).
  void provide(std::vector<DocRef> docs);

  // The result, after run returned true: number of documents, their encoded bytes, and
  // writing them (as consecutive MessagePack maps) after an array header the caller writes.
  size_t result_count() const;
  size_t result_bytes() const;
  void write_results(MpWriter& w) const;

  struct Impl;

 private:
  explicit Aggregation(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mg
