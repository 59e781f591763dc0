// core/collection_impl.h — internals shared by collection.cc (lifecycle, reads) and
// collection_write.cc (writes). Not part of the public API.
#pragma once

#include <functional>

#include "core/collection.h"
#include "core/filter.h"
#include "core/planner.h"

namespace mg {

// A document about to be written: a new version for `slot` (kNoSlot for an insert), or a
// deletion of `slot` (doc empty).
struct PendingWrite {
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  uint32_t slot = kNoSlot;
  DocRef doc;
  ChangeEvent::Op op = ChangeEvent::Op::Insert;
  bool generated_id = false;  // the `_id` is an ObjectId this process just generated
  // An insert's hot fields (Collection::hot_fields_), scanned by prepare_insert and pointing
  // into `doc`; has_top false when they were not (then insert_batch scans).
  bool has_top = false;
  FieldSet::Values top{};
};

struct Collection::Impl {
  // Calls fn(slot, doc) for every document matching `m` (planned through an index when one
  // fits); fn returns false to stop. Fills `stats`.
  static void for_each_match(const Collection& c, const Matcher& m, QueryStats* stats,
                             const std::function<bool(uint32_t, MpView)>& fn);
  // The point-lookup fast path (MongoDB's IDHACK, for every unique single-field index): when
  // `filter` is exactly {field: scalar} and `field` has a unique index, sets `slot` to the one
  // matching document (or PendingWrite::kNoSlot) without compiling a matcher or planning, and
  // returns true. Returns false when the filter has any other shape.
  static bool point_lookup(const Collection& c, MpView filter, uint32_t& slot, QueryStats* stats);

  // Slots of the matches in `sort` order (all, or the first when !multi).
  static std::vector<uint32_t> select(const Collection& c, const Matcher& m, MpView sort,
                                      bool multi);

  // Rebuilds c.hot_fields_ from `_id`, the indexes and the schema's rules, and binds each
  // index (and c.rule_slots_) to it.
  static void bind_hot_fields(Collection& c);
  // Validates `doc` against the schema; `top`, when given, holds doc's hot fields. Throws
  // DocumentValidationFailure.
  static void check_schema(const Collection& c, MpView doc, const FieldSet::Values* top);

  // Turns untrusted bytes into a stored document: limits, field names, `_id` (generated when
  // absent), schema defaults and timestamps, then schema validation.
  // `prechecked`: `raw` already passed validate() with document_options().
  // `w`, when given, receives generated_id and the document's hot fields (has_top, top).
  static DocRef prepare_insert(Collection& c, std::string_view raw, Date now,
                               PendingWrite* w = nullptr, bool prechecked = false);
  // Checks a finished document (after an update or replacement) and stores it.
  static DocRef finish_doc(const Collection& c, std::string&& encoded);

  // Checks every unique index for the whole batch (against stored documents not rewritten by
  // the batch, and within the batch). Throws DuplicateKey with `index` = batch position.
  static void check_unique(const Collection& c, std::span<const PendingWrite> batch);

  // Persists the batch through storage (one apply call) and then applies it to memory,
  // emitting events. Throws StorageError (nothing changed) if the storage refused it.
  static void commit(Collection& c, std::span<PendingWrite> batch,
                     std::vector<ChangeEvent>* events);

  // check_unique and commit fused for a batch of inserts (every slot kNoSlot): indexes each
  // document (a unique index checks the key with its insertion's own descent), then persists
  // the batch and stores the documents. On a duplicate (DuplicateKey, `index` = batch
  // position) or a storage refusal (StorageError) everything it inserted is taken out again
  // and nothing has changed.
  static void insert_batch(Collection& c, std::span<PendingWrite> batch,
                           std::vector<ChangeEvent>* events);
  // insert_batch's undo: takes the documents of `batch` out of every index (out of the first
  // `partial_indexes` for the last one) and gives their `slots` back, newest first.
  static void unindex_inserted(Collection& c, std::span<const PendingWrite> batch,
                               std::span<const uint32_t> slots, size_t partial_indexes);

  static void insert_slot(Collection& c, uint32_t slot, DocRef doc);
  // insert_slot's bookkeeping once `doc` is indexed at `slot`: the slot owns it, counted.
  static void store_slot(Collection& c, uint32_t slot, DocRef doc);
  static uint32_t alloc_slot(Collection& c);
  static void erase_slot(Collection& c, uint32_t slot);

  static Result<WriteResult> upsert(Collection& c, const Matcher& m, const class Update* u,
                                    MpView replacement, std::vector<ChangeEvent>* events);
};

// The encoded `_id` of a stored document.
std::string_view doc_id(MpView doc);

}  // namespace mg
