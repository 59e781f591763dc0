// core/collection.h — one model's documents, indexes and schema, over a StorageStrategy.
//
// A Collection answers every query from memory and persists every change through its
// StorageStrategy first (DESIGN.md decision 5): a write is checked completely (validation,
// schema, unique indexes, also within a batch), then handed to `storage.apply`, and only when
// the strategy accepted it does it become visible in memory. A failed operation therefore
// changes nothing: not the documents, not the indexes, not the change events.
//
// Not thread-safe: owned by one model actor. No exception escapes: every method returns a
// Status or Result. Every applied write appends one ChangeEvent per document to `events` (when
// given), numbered by a per-model `seq` that continues from the storage's last_seq().
#pragma once

#include <absl/container/flat_hash_set.h>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.h"
#include "core/error.h"
#include "core/index.h"
#include "core/msgpack.h"
#include "core/schema.h"
#include "core/top_fields.h"
#include "storage/storage_strategy.h"

namespace mg {

struct ChangeEvent {
  enum class Op : uint8_t { Insert, Update, Replace, Delete, Drop };
  uint64_t seq = 0;
  Op op = Op::Insert;
  std::string id;  // encoded _id (empty for Drop)
  DocRef doc;      // document after the write (empty for Delete / Drop)
  Date ts;
};
std::string_view change_op_name(ChangeEvent::Op op);

// How the last query ran (MongoDB's explain, in small).
struct QueryStats {
  std::string plan;  // "COLLSCAN", "IXSCAN email_1", "COUNT_SCAN status_1"
  uint64_t keys_examined = 0;
  uint64_t docs_examined = 0;
};

struct FindSpec {
  MpView filter;  // invalid view = {}
  MpView sort;
  int64_t skip = 0;
  int64_t limit = 0;  // 0 = no limit
};

struct WriteResult {
  uint64_t matched = 0;
  uint64_t modified = 0;
  std::string upserted_id;  // encoded, empty when none
};

struct CollectionStats {
  uint64_t count = 0;
  uint64_t index_count = 0;
  uint64_t doc_bytes = 0;    // encoded bytes of all documents
  uint64_t index_bytes = 0;  // approximate
  StorageStats storage;
};

class Collection {
 public:
  // The collection owns its storage. Call open() before anything else.
  Collection(std::string name, std::unique_ptr<StorageStrategy> storage);
  ~Collection();

  // Loads every stored document (building the indexes of the current schema) and the last seq.
  // StorageError when the stored data cannot be read; DuplicateKey if it violates a unique index.
  Status open(MpView schema = MpView());

  const std::string& name() const { return name_; }
  StorageStrategy& storage() { return *storage_; }
  const Schema& schema() const { return *schema_; }
  uint64_t last_seq() const { return seq_; }
  size_t size() const { return count_; }

  // defineModel: replaces the schema; indexes it adds are built, those it drops removed. A new
  // unique index over duplicates fails with DuplicateKey and keeps the old schema. Returns
  // whether anything changed (false when the schema is identical).
  Result<bool> set_schema(MpView schema);

  // Writes. `docs` are untrusted MessagePack bytes; each gets an ObjectId `_id` if it has none.
  // insert_many is all or nothing: the error's `index` names the failing document. With
  // `prechecked`, the caller has already passed every document through validate() (or
  // validate_prefix) with document_options(), and they are not walked again.
  Result<std::vector<std::string>> insert_many(std::span<const std::string_view> docs,
                                               std::vector<ChangeEvent>* events,
                                               bool prechecked = false);
  // insert_many() for a caller that only writes the ids out (the insertMany reply): appends
  // each inserted document's encoded `_id` to `ids`, concatenated in order (an array's
  // elements without its header), and returns how many; no allocation per document. On error
  // `ids` is as it was.
  Result<size_t> insert_many(std::span<const std::string_view> docs,
                             std::vector<ChangeEvent>* events, bool prechecked, std::string& ids);
  // The validate() options of a stored document: field-name rules, 16 MiB.
  static ValidateOptions document_options();
  Result<WriteResult> update(MpView filter, MpView update, bool upsert, bool multi,
                             std::vector<ChangeEvent>* events);
  Result<WriteResult> replace_one(MpView filter, MpView replacement, bool upsert,
                                  std::vector<ChangeEvent>* events);
  Result<uint64_t> remove(MpView filter, bool multi, std::vector<ChangeEvent>* events);
  // findOneAndUpdate / findOneAndDelete: the document before (or after) the write, or an empty
  // DocRef when nothing matched (and nothing was upserted).
  Result<DocRef> find_one_and_update(MpView filter, MpView update, MpView sort, bool upsert,
                                     bool return_after, std::vector<ChangeEvent>* events);
  Result<DocRef> find_one_and_delete(MpView filter, MpView sort, std::vector<ChangeEvent>* events);
  // Deletes every document (dropModel / clear), as one change.
  Status clear(std::vector<ChangeEvent>* events);
  // Deletes documents whose TTL-indexed date is older than its ttlSeconds. Returns how many.
  Result<uint64_t> expire(Date now, std::vector<ChangeEvent>* events);

  // Reads. Documents are returned by reference (immutable bytes).
  Result<std::vector<DocRef>> find(const FindSpec& spec, QueryStats* stats = nullptr);
  Result<DocRef> find_by_id(MpView id);
  Result<uint64_t> count(MpView filter, QueryStats* stats = nullptr);
  // Distinct values of `field` among matching documents (arrays flattened), in value order.
  Result<std::vector<std::string>> distinct(std::string_view field, MpView filter);
  // Aggregation source (core/aggregate_source.cc): calls fn(doc) for each document matching
  // `filter` (through an index when the planner finds one), in `sort` order when a non-multikey
  // index provides it (then *sorted is set true), else in natural order. fn returns false to
  // stop. BadValue for a bad filter.
  Status scan(MpView filter, MpView sort, const std::function<bool(const DocRef&)>& fn,
              bool* sorted, QueryStats* stats = nullptr) const;

  CollectionStats stats() const;

  // Group commit (DESIGN.md decision 4): the model's actor applies several writes, then has the
  // storage commit them at once. If that commit fails, the storage rolls them all back and so
  // must memory. With track_undo(true), every write (insert, replace, delete, clear) records
  // what it overwrote (the slot and a reference to the old document: no copy), until
  // mark_committed() forgets it; rollback() undoes every write since the last
  // mark_committed(), newest first, so documents, indexes and seq are exactly as they were
  // then. Schema changes (set_schema) are not recorded: rollback() keeps the current schema and
  // rebuilds nothing but what the undone writes touched (after undoing a clear, every index).
  // Off by default (tests and tools that use a Collection alone never commit in groups).
  // rollback() returns the encoded `_id` of every document the undone writes touched (each
  // once; after undoing a clear, every document there was): reconcile_storage() takes them.
  void track_undo(bool on);
  void mark_committed();
  std::vector<std::string> rollback();

  // Pipelined group commit (actors/model_actor.cc): the storage commits one group on its own
  // thread while later writes are applied here. undo_mark() is where the writes applied so far
  // end; mark_committed(mark) forgets what came before it (that group is durable) and keeps
  // the later writes' undo, so a rollback() afterwards returns to exactly that mark.
  struct UndoMark {
    size_t undo = 0, cleared = 0;
    uint64_t seq = 0;
  };
  UndoMark undo_mark() const { return {undo_.size(), cleared_.size(), seq_}; }
  void mark_committed(const UndoMark& mark);

  // After rollback(), when the storage's commit failed: has the storage write back memory's
  // state of `ids` (StorageStrategy::reconcile: a Delete of each, then a Replace with the
  // version memory holds, if any) and memory's last_seq(), so that nothing of the failed group
  // can come back from the storage's log. StorageError when that could not be made durable:
  // the storage then refuses writes until it can.
  Status reconcile_storage(std::span<const std::string> ids);

  struct Impl;

 private:
  std::string name_;
  std::unique_ptr<StorageStrategy> storage_;
  std::shared_ptr<const Schema> schema_;
  std::vector<std::unique_ptr<Index>> indexes_;  // [0] is _id
  // `_id` (slot 0) and the indexes' top-level fields, scanned once per stored document
  // (Impl::bind_hot_fields, after every change of indexes_).
  FieldSet hot_fields_;
  std::vector<int8_t> rule_slots_;  // per schema rule: its field's slot in hot_fields_, or -1
  std::vector<DocRef> docs_;        // by slot; empty = free
  std::vector<uint32_t> free_slots_;
  size_t count_ = 0;
  uint64_t doc_bytes_ = 0;
  uint64_t seq_ = 0;
  // Set once a client-supplied `_id` could equal a generated ObjectId (objectid.h); until then
  // generated ids skip the `_id` uniqueness probe.
  bool id_collision_possible_ = false;
  // The undo log (track_undo): per write, the slot and its previous document (empty for an
  // insert); slot kCleared marks a clear(), whose previous contents are cleared_.back().
  static constexpr uint32_t kCleared = UINT32_MAX;
  struct Undo {
    uint32_t slot;
    DocRef old;
  };
  struct Cleared {
    std::vector<DocRef> docs;
    std::vector<uint32_t> free_slots;
    size_t count = 0;
    uint64_t doc_bytes = 0;
  };
  bool track_undo_ = false;
  std::vector<Undo> undo_;
  std::vector<Cleared> cleared_;
  uint64_t committed_seq_ = 0;  // seq_ at the last mark_committed()
  friend struct Impl;
};

}  // namespace mg
