// core/collection_write.cc — every write of a collection (see collection.h).
//
// Each write runs in three phases, so that a failure changes nothing:
//   1. build: the new documents are computed and fully checked (limits, field names, _id,
//      schema) — nothing is touched yet;
//   2. check_unique: every unique index is probed for the whole batch;
//   3. commit: the batch goes to the StorageStrategy in one apply(); only if it accepted do
//      the documents and indexes change in memory and events get their seq.
// A batch of pure inserts (insertOne, insertMany, an upsert's insert) fuses 2 and 3
// (insert_batch): the documents go into the indexes first, the unique check being each
// insertion's own B-tree descent, and a conflict or a storage refusal takes out again what the
// batch put in, so that the outcome is the same all-or-nothing one with one descent less.
// With track_undo (collection.h), both record each applied write in the undo log that
// rollback() replays newest first when the group's storage commit fails.
#include <absl/container/btree_set.h>

#include <algorithm>
#include <deque>

#include "core/collection_impl.h"
#include "core/compare.h"
#include "core/ejson.h"
#include "core/objectid.h"
#include "core/update.h"

namespace mg {

namespace {

constexpr size_t kMaxDocumentBytes = 16u << 20;

bool scalar_id(MpView id) {
  MpType t = id.type();
  return t != MpType::Nil && t != MpType::Array && t != MpType::Map;
}

// A new ObjectId `_id` first, then the document's own fields: one allocation, one copy.
DocRef with_generated_id(std::string_view raw) {
  MpView doc(raw);
  char head[40];  // map header (<= 5 bytes), fixstr "_id", fixstr of the 24 hex digits
  size_t n = 0;
  uint32_t fields = doc.count() + 1;
  if (fields <= 15) {
    head[n++] = char(0x80 | fields);
  } else if (fields <= 0xffff) {
    head[n++] = char(0xde), head[n++] = char(fields >> 8), head[n++] = char(fields);
  } else {
    head[n++] = char(0xdf);
    for (int shift = 24; shift >= 0; shift -= 8) head[n++] = char(fields >> shift);
  }
  std::memcpy(head + n, "\xa3_id\xb8", 5);
  n += 5;
  new_object_id(head + n);
  n += 24;
  auto* first = reinterpret_cast<const char*>(doc.first());
  return DocRef::make(std::string_view(head, n),
                      std::string_view(first, size_t(raw.data() + raw.size() - first)));
}

void check_size(size_t n) {
  if (n > kMaxDocumentBytes)
    fail(ErrorCode::DocumentTooLarge,
         "document of " + std::to_string(n) + " bytes exceeds the 16 MiB limit");
}

// Throws ImmutableField unless `doc` keeps exactly the `_id` of `old`.
void check_same_id(MpView old, const Value& doc) {
  MpView old_id = old.get("_id");
  const Value* id = doc.find("_id");
  std::string enc = id ? id->encode() : std::string();
  if (!id || id->type() != old_id.type() || compare_values(MpView(enc), old_id) != 0)
    fail(ErrorCode::ImmutableField, "the write would change the immutable field '_id' (was " +
                                        json_from_mp(old_id.bytes()) + ")");
}

[[noreturn]] void duplicate(const Collection& c, const Index& ix, MpView doc, size_t pos) {
  Status s =
      make_status(ErrorCode::DuplicateKey, "E11000 duplicate key error collection: " + c.name() +
                                               " index: " + ix.name() +
                                               " dup key: " + json_from_mp(ix.key_value(doc)));
  s.key_pattern = ix.key_pattern();
  s.key_value = ix.key_value(doc);
  s.index = int64_t(pos);
  fail(std::move(s));
}

}  // namespace

ValidateOptions Collection::document_options() {
  ValidateOptions opts;
  opts.document_names = true;
  opts.max_bytes = kMaxDocumentBytes;
  return opts;
}

// The hot fields of `raw` found by one scan, moved onto `doc`, a copy of raw's top-level
// fields starting `shift` bytes later (plus, when the `_id` was generated, its new `_id`).
static void move_top(FieldSet::Values& top, size_t n, std::string_view raw, const DocRef& doc,
                     ptrdiff_t shift) {
  auto* base = reinterpret_cast<const uint8_t*>(raw.data());
  for (size_t i = 0; i < n; ++i)
    if (top[i].valid()) top[i] = MpView(doc.data() + (top[i].data() - base) + shift);
}

DocRef Collection::Impl::prepare_insert(Collection& c, std::string_view raw, Date now,
                                        PendingWrite* w, bool prechecked) {
  if (!prechecked) {
    Status s = validate(raw, document_options());
    if (!s.ok()) fail(std::move(s));
  }
  MpView v(raw);
  // One scan for `_id` (slot 0) and the fields the schema's rules and the indexes read.
  FieldSet::Values scratch;
  FieldSet::Values& top = w ? w->top : scratch;
  c.hot_fields_.scan(v, top);
  MpView id = top[0];
  if (id.valid() && !scalar_id(id))
    fail(ErrorCode::BadValue, "_id must be a non-nil scalar (not null, an array or a map)");
  if (id.valid() && id.type() == MpType::Str && may_collide_with_generated(id.as_str()))
    c.id_collision_possible_ = true;
  if (w) w->generated_id = !id.valid(), w->has_top = false;
  if (c.schema_->inserts_unchanged()) {
    DocRef doc;
    if (!id.valid()) {
      doc = with_generated_id(raw);
      check_size(doc.size());
      // The new document: its map header, the `_id` (fixstr key, then the value), then raw's
      // fields from raw.first() on.
      size_t header = size_t(doc.view().first() - doc.data());
      size_t id_field = 4 + 25;  // "\xa3_id", then a fixstr of 24 hex digits
      auto* raw_first = reinterpret_cast<const char*>(v.first());
      move_top(top, c.hot_fields_.size(), raw, doc,
               ptrdiff_t(header + id_field) - (raw_first - raw.data()));
      top[0] = MpView(doc.data() + header + 4);
    } else {
      doc = DocRef::make(raw);
      move_top(top, c.hot_fields_.size(), raw, doc, 0);
    }
    check_schema(c, doc.view(), &top);
    if (w) w->has_top = true;
    return doc;
  }
  Value doc = Value::from(v);
  if (!id.valid()) doc.as_map().insert(doc.as_map().begin(), {"_id", Value::str(new_object_id())});
  c.schema_->prepare_insert(doc, now);
  return finish_doc(c, doc.encode());
}

DocRef Collection::Impl::finish_doc(const Collection& c, std::string&& encoded) {
  Status s = validate(encoded, document_options());
  if (!s.ok()) fail(std::move(s));
  check_schema(c, MpView(encoded), nullptr);
  return DocRef::make(encoded);
}

void Collection::Impl::check_unique(const Collection& c, std::span<const PendingWrite> batch) {
  absl::flat_hash_set<uint32_t> rewritten;
  for (auto& w : batch)
    if (w.slot != PendingWrite::kNoSlot) rewritten.insert(w.slot);
  IndexKeys keys;
  for (auto& ix : c.indexes_) {
    if (!ix->unique()) continue;
    bool id_index = ix.get() == c.indexes_[0].get();
    const Index* index = ix.get();
    auto hash = [index](const uint8_t* k) { return index->hash_key(k); };
    auto eq = [index](const uint8_t* a, const uint8_t* b) {
      return index->compare_keys(a, b) == 0;
    };
    absl::flat_hash_set<const uint8_t*, decltype(hash), decltype(eq)> in_batch(batch.size(), hash,
                                                                               eq);
    std::deque<std::string> keep;  // compound keys must outlive in_batch
    for (size_t i = 0; i < batch.size(); ++i) {
      const PendingWrite& w = batch[i];
      if (!w.doc) continue;
      if (id_index && w.generated_id && !c.id_collision_possible_) continue;
      ix->keys_of(w.doc.view(), keys);
      if (ix->find_conflict(keys, w.slot, rewritten.empty() ? nullptr : &rewritten))
        duplicate(c, *ix, w.doc.view(), i);
      if (batch.size() == 1) continue;
      for (size_t k = 0; k < keys.keys.size(); ++k) {
        const uint8_t* key = keys.keys[k];
        if (ix->spec().fields.size() > 1)
          key = reinterpret_cast<const uint8_t*>(keep.emplace_back(keys.owned[k]).data());
        if (!in_batch.insert(key).second) duplicate(c, *ix, w.doc.view(), i);
      }
    }
  }
}

uint32_t Collection::Impl::alloc_slot(Collection& c) {
  if (!c.free_slots_.empty()) {
    uint32_t s = c.free_slots_.back();
    c.free_slots_.pop_back();
    return s;
  }
  c.docs_.emplace_back();
  return uint32_t(c.docs_.size() - 1);
}

void Collection::Impl::insert_slot(Collection& c, uint32_t slot, DocRef doc) {
  thread_local IndexKeys keys;  // scratch, reused across calls
  for (auto& ix : c.indexes_) {
    ix->keys_of(doc.view(), keys);
    ix->insert(keys, slot);
  }
  store_slot(c, slot, std::move(doc));
}

void Collection::Impl::store_slot(Collection& c, uint32_t slot, DocRef doc) {
  c.doc_bytes_ += doc.size();
  c.docs_[slot] = std::move(doc);
  ++c.count_;
}

void Collection::Impl::erase_slot(Collection& c, uint32_t slot) {
  for (auto& ix : c.indexes_) ix->erase(c.docs_[slot].view(), slot);
  c.doc_bytes_ -= c.docs_[slot].size();
  c.docs_[slot] = DocRef();
  c.free_slots_.push_back(slot);
  --c.count_;
}

void Collection::Impl::commit(Collection& c, std::span<PendingWrite> batch,
                              std::vector<ChangeEvent>* events) {
  if (batch.empty()) return;
  std::vector<Change> changes(batch.size());
  uint64_t seq = c.seq_;
  for (size_t i = 0; i < batch.size(); ++i) {
    const PendingWrite& w = batch[i];
    Change& ch = changes[i];
    ch.seq = ++seq;
    if (w.doc) {
      ch.op = w.slot == PendingWrite::kNoSlot ? Change::Op::Insert : Change::Op::Replace;
      ch.doc = w.doc.bytes();
      ch.id = doc_id(w.doc.view());
      ch.ref = &w.doc;
    } else {
      ch.op = Change::Op::Delete;
      ch.id = doc_id(c.docs_[w.slot].view());
    }
  }
  Status s = c.storage_->apply(changes);
  if (!s.ok()) {
    if (s.code != ErrorCode::DuplicateKey) s.code = ErrorCode::StorageError;
    fail(std::move(s));
  }
  Date now = Date::now();
  if (events) events->reserve(events->size() + batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    PendingWrite& w = batch[i];
    if (events)
      events->push_back(ChangeEvent{changes[i].seq, w.op, std::string(changes[i].id), w.doc, now});
    if (w.slot == PendingWrite::kNoSlot) {
      uint32_t slot = alloc_slot(c);
      if (c.track_undo_) c.undo_.push_back({slot, DocRef()});
      insert_slot(c, slot, std::move(w.doc));
      continue;
    }
    if (c.track_undo_) c.undo_.push_back({w.slot, c.docs_[w.slot]});
    if (!w.doc) {
      erase_slot(c, w.slot);
    } else {
      for (auto& ix : c.indexes_) ix->erase(c.docs_[w.slot].view(), w.slot);
      c.doc_bytes_ -= c.docs_[w.slot].size();
      c.docs_[w.slot] = DocRef();
      --c.count_;
      insert_slot(c, w.slot, std::move(w.doc));
    }
  }
  c.seq_ = seq;
}

void Collection::Impl::unindex_inserted(Collection& c, std::span<const PendingWrite> batch,
                                        std::span<const uint32_t> slots, size_t partial_indexes) {
  // Newest first, so that the slots go back to the free list in the order they came from it.
  for (size_t i = slots.size(); i-- > 0;) {
    size_t n = i + 1 == slots.size() ? partial_indexes : c.indexes_.size();
    for (size_t k = 0; k < n; ++k) c.indexes_[k]->erase(batch[i].doc.view(), slots[i]);
    if (slots[i] + 1 == c.docs_.size())
      c.docs_.pop_back();
    else
      c.free_slots_.push_back(slots[i]);
  }
}

void Collection::Impl::insert_batch(Collection& c, std::span<PendingWrite> batch,
                                    std::vector<ChangeEvent>* events) {
  if (batch.empty()) return;
  thread_local IndexKeys keys;  // scratch, reused across calls
  std::vector<uint32_t> slots;
  slots.reserve(batch.size());
  const Index* id_index = c.indexes_[0].get();
  FieldSet::Values top;  // each document's hot fields, scanned once for every index
  std::vector<std::string_view> ids;
  ids.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    MpView doc = batch[i].doc.view();
    const FieldSet::Values* tv = &batch[i].top;
    if (!batch[i].has_top) c.hot_fields_.scan(doc, top), tv = &top;
    ids.push_back((*tv)[0].valid() ? (*tv)[0].bytes() : std::string_view());
    slots.push_back(alloc_slot(c));
    for (size_t k = 0; k < c.indexes_.size(); ++k) {
      Index& ix = *c.indexes_[k];
      ix.keys_of(doc, keys, tv);
      // A generated ObjectId cannot collide (unless a client stored ids of this process's
      // pattern): no need to look for a neighbour.
      if (!ix.unique() || (&ix == id_index && batch[i].generated_id && !c.id_collision_possible_)) {
        ix.insert(keys, slots.back());
        continue;
      }
      if (ix.insert_checked(keys, slots.back())) {
        unindex_inserted(c, batch.first(i + 1), slots, k);
        duplicate(c, ix, doc, i);
      }
    }
  }
  std::vector<Change> changes(batch.size());
  uint64_t seq = c.seq_;
  for (size_t i = 0; i < batch.size(); ++i) {
    Change& ch = changes[i];
    ch.seq = ++seq;
    ch.op = Change::Op::Insert;
    ch.doc = batch[i].doc.bytes();
    ch.id = ids[i];
    ch.ref = &batch[i].doc;
  }
  Status s = c.storage_->apply(changes);
  if (!s.ok()) {
    unindex_inserted(c, batch, slots, c.indexes_.size());
    if (s.code != ErrorCode::DuplicateKey) s.code = ErrorCode::StorageError;
    fail(std::move(s));
  }
  Date now = Date::now();
  if (events) events->reserve(events->size() + batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (events)
      events->push_back(
          ChangeEvent{changes[i].seq, batch[i].op, std::string(changes[i].id), batch[i].doc, now});
    if (c.track_undo_) c.undo_.push_back({slots[i], DocRef()});
    store_slot(c, slots[i], std::move(batch[i].doc));
  }
  c.seq_ = seq;
}

namespace {
// The pending writes of insert_many: each document prepared (checked, `_id` added), all or
// nothing, the error's `index` naming the failing one.
std::vector<PendingWrite> prepare_batch(Collection& c, std::span<const std::string_view> docs,
                                        bool prechecked) {
  Date now = Date::now();
  std::vector<PendingWrite> batch(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    try {
      batch[i].doc = Collection::Impl::prepare_insert(c, docs[i], now, &batch[i], prechecked);
    } catch (Error& e) {
      e.status.index = int64_t(i);
      throw;
    }
  }
  return batch;
}

std::string_view batch_id(const PendingWrite& w) {
  return w.has_top ? w.top[0].bytes() : doc_id(w.doc.view());
}
}  // namespace

Result<std::vector<std::string>> Collection::insert_many(std::span<const std::string_view> docs,
                                                         std::vector<ChangeEvent>* events,
                                                         bool prechecked) {
  return guard([&]() -> Result<std::vector<std::string>> {
    std::vector<PendingWrite> batch = prepare_batch(*this, docs, prechecked);
    std::vector<std::string> ids;
    ids.reserve(batch.size());
    for (auto& w : batch) ids.emplace_back(batch_id(w));
    Impl::insert_batch(*this, batch, events);
    return ids;
  });
}

Result<size_t> Collection::insert_many(std::span<const std::string_view> docs,
                                       std::vector<ChangeEvent>* events, bool prechecked,
                                       std::string& ids) {
  size_t at = ids.size();
  auto r = guard([&]() -> Result<size_t> {
    std::vector<PendingWrite> batch = prepare_batch(*this, docs, prechecked);
    // Before insert_batch, which moves the documents into their slots (the views stay valid:
    // a document's bytes never move).
    for (auto& w : batch) ids.append(batch_id(w));
    Impl::insert_batch(*this, batch, events);
    return batch.size();
  });
  if (!r.ok()) ids.resize(at);
  return r;
}

Result<WriteResult> Collection::Impl::upsert(Collection& c, const Matcher& m, const Update* u,
                                             MpView replacement, std::vector<ChangeEvent>* events) {
  Date now = Date::now();
  Value doc = Value::map();
  for (auto& [path, val] : m.equalities()) set_path(doc, path, Value::from(MpView(val)));
  if (u) {
    u->apply(doc, true, now);
  } else {
    Value seed_id = doc.find("_id") ? *doc.find("_id") : Value();
    doc = Value::from(replacement);
    if (!seed_id.is_nil() && !doc.find("_id"))
      doc.as_map().insert(doc.as_map().begin(), {"_id", std::move(seed_id)});
  }
  if (Value* id = doc.find("_id")) {  // _id first, as MongoDB stores it
    Value keep = std::move(*id);
    doc.erase("_id");
    doc.as_map().insert(doc.as_map().begin(), {"_id", std::move(keep)});
  }
  std::string bytes = doc.encode();
  PendingWrite w;
  w.doc = prepare_insert(c, bytes, now);
  WriteResult r;
  r.upserted_id = std::string(doc_id(w.doc.view()));
  insert_batch(c, {&w, 1}, events);
  return r;
}

Result<WriteResult> Collection::update(MpView filter, MpView update, bool upsert, bool multi,
                                       std::vector<ChangeEvent>* events) {
  return guard([&]() -> Result<WriteResult> {
    auto m = Matcher::compile(filter);
    auto u = Update::compile(update);
    std::vector<uint32_t> slots = Impl::select(*this, *m, MpView(), multi);
    if (slots.empty() && upsert) return Impl::upsert(*this, *m, u.get(), MpView(), events);
    WriteResult r;
    r.matched = slots.size();
    Date now = Date::now();
    std::vector<PendingWrite> batch;
    for (uint32_t slot : slots) {
      MpView old = docs_[slot].view();
      Value v = Value::from(old);
      if (!u->apply(v, false, now)) continue;
      check_same_id(old, v);
      schema_->prepare_update(v, now);
      batch.push_back(
          PendingWrite{slot, Impl::finish_doc(*this, v.encode()), ChangeEvent::Op::Update});
    }
    r.modified = batch.size();
    Impl::check_unique(*this, batch);
    Impl::commit(*this, batch, events);
    return r;
  });
}

Result<WriteResult> Collection::replace_one(MpView filter, MpView replacement, bool upsert,
                                            std::vector<ChangeEvent>* events) {
  return guard([&]() -> Result<WriteResult> {
    ValidateOptions opts;
    opts.document_names = true;
    opts.max_bytes = kMaxDocumentBytes;
    if (!replacement.valid()) fail(ErrorCode::BadValue, "replaceOne needs a replacement document");
    Status s = validate(replacement.bytes(), opts);
    if (!s.ok()) fail(std::move(s));
    auto m = Matcher::compile(filter);
    std::vector<uint32_t> slots = Impl::select(*this, *m, MpView(), false);
    if (slots.empty())
      return upsert ? Impl::upsert(*this, *m, nullptr, replacement, events) : WriteResult{};
    uint32_t slot = slots[0];
    MpView old = docs_[slot].view();
    Value v = Value::from(replacement);
    if (v.find("_id"))
      check_same_id(old, v);
    else
      v.as_map().insert(v.as_map().begin(), {"_id", Value::from(old.get("_id"))});
    if (schema_->timestamps() && !v.find("createdAt") && old.get("createdAt").valid())
      v.set("createdAt", Value::from(old.get("createdAt")));
    schema_->prepare_update(v, Date::now());
    PendingWrite w{slot, Impl::finish_doc(*this, v.encode()), ChangeEvent::Op::Replace};
    WriteResult r;
    r.matched = 1;
    if (w.doc.bytes() == docs_[slot].bytes()) return r;
    r.modified = 1;
    Impl::check_unique(*this, {&w, 1});
    Impl::commit(*this, {&w, 1}, events);
    return r;
  });
}

Result<uint64_t> Collection::remove(MpView filter, bool multi, std::vector<ChangeEvent>* events) {
  return guard([&]() -> Result<uint64_t> {
    auto m = Matcher::compile(filter);
    std::vector<uint32_t> slots = Impl::select(*this, *m, MpView(), multi);
    std::vector<PendingWrite> batch;
    for (uint32_t slot : slots)
      batch.push_back(PendingWrite{slot, DocRef(), ChangeEvent::Op::Delete});
    Impl::commit(*this, batch, events);
    return uint64_t(batch.size());
  });
}

Result<DocRef> Collection::find_one_and_update(MpView filter, MpView update, MpView sort,
                                               bool upsert, bool return_after,
                                               std::vector<ChangeEvent>* events) {
  return guard([&]() -> Result<DocRef> {
    auto m = Matcher::compile(filter);
    auto u = Update::compile(update);
    std::vector<uint32_t> slots = Impl::select(*this, *m, sort, false);
    if (slots.empty()) {
      if (!upsert) return DocRef();
      WriteResult r = Impl::upsert(*this, *m, u.get(), MpView(), events).value();
      return return_after ? find_by_id(MpView(r.upserted_id)).value() : DocRef();
    }
    uint32_t slot = slots[0];
    DocRef before = docs_[slot];
    Value v = Value::from(before.view());
    Date now = Date::now();
    if (u->apply(v, false, now)) {
      check_same_id(before.view(), v);
      schema_->prepare_update(v, now);
      PendingWrite w{slot, Impl::finish_doc(*this, v.encode()), ChangeEvent::Op::Update};
      Impl::check_unique(*this, {&w, 1});
      Impl::commit(*this, {&w, 1}, events);
    }
    return return_after ? docs_[slot] : before;
  });
}

Result<DocRef> Collection::find_one_and_delete(MpView filter, MpView sort,
                                               std::vector<ChangeEvent>* events) {
  return guard([&]() -> Result<DocRef> {
    auto m = Matcher::compile(filter);
    std::vector<uint32_t> slots = Impl::select(*this, *m, sort, false);
    if (slots.empty()) return DocRef();
    DocRef before = docs_[slots[0]];
    PendingWrite w{slots[0], DocRef(), ChangeEvent::Op::Delete};
    Impl::commit(*this, {&w, 1}, events);
    return before;
  });
}

Status Collection::clear(std::vector<ChangeEvent>* events) {
  return guard([&]() -> Status {
    Change ch;
    ch.op = Change::Op::Clear;
    ch.seq = seq_ + 1;
    Status s = storage_->apply({&ch, 1});
    if (!s.ok()) {
      s.code = ErrorCode::StorageError;
      return s;
    }
    for (auto& ix : indexes_) ix->clear();
    if (track_undo_) {
      cleared_.push_back(Cleared{std::move(docs_), std::move(free_slots_), count_, doc_bytes_});
      undo_.push_back({kCleared, DocRef()});
    }
    docs_.clear();
    free_slots_.clear();
    count_ = 0;
    doc_bytes_ = 0;
    seq_ = ch.seq;
    if (events) events->push_back(ChangeEvent{seq_, ChangeEvent::Op::Drop, {}, {}, Date::now()});
    return Status::OK();
  });
}

void Collection::track_undo(bool on) {
  track_undo_ = on;
  mark_committed();
}

void Collection::mark_committed() {
  undo_.clear();
  cleared_.clear();
  committed_seq_ = seq_;
}

void Collection::mark_committed(const UndoMark& mark) {
  undo_.erase(undo_.begin(), undo_.begin() + ptrdiff_t(std::min(mark.undo, undo_.size())));
  cleared_.erase(cleared_.begin(),
                 cleared_.begin() + ptrdiff_t(std::min(mark.cleared, cleared_.size())));
  committed_seq_ = mark.seq;
}

// Undoes the log newest first: each step sees the collection exactly as its write left it.
// A slot freed by a delete is the newest entry of free_slots_ again when that delete is undone
// (later allocations were undone before it), so the search from the back stops at once.
std::vector<std::string> Collection::rollback() {
  // The ids first: every version the group overwrote, and whatever its slots hold now.
  std::vector<std::string> ids;
  absl::flat_hash_set<std::string> seen;
  auto touch = [&](const DocRef& d) {
    if (!d) return;
    std::string id(d.view().get("_id").bytes());
    if (seen.insert(id).second) ids.push_back(std::move(id));
  };
  size_t clears = 0;
  for (const Undo& u : undo_) {
    if (u.slot == kCleared) {
      for (const DocRef& d : cleared_[clears++].docs) touch(d);
      continue;
    }
    touch(u.old);
    // A slot of a write before a clear may be past the end now; what it held then is in the
    // clear's record, or an older version of a later write.
    if (u.slot < docs_.size()) touch(docs_[u.slot]);
  }
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    if (it->slot == kCleared) {
      Cleared& was = cleared_.back();
      for (auto& ix : indexes_) ix->clear();
      docs_ = std::move(was.docs);
      free_slots_ = std::move(was.free_slots);
      count_ = was.count;
      doc_bytes_ = was.doc_bytes;
      cleared_.pop_back();
      IndexKeys keys;
      for (uint32_t slot = 0; slot < docs_.size(); ++slot) {
        if (!docs_[slot]) continue;
        for (auto& ix : indexes_) {
          ix->keys_of(docs_[slot].view(), keys);
          ix->insert(keys, slot);
        }
      }
      continue;
    }
    uint32_t slot = it->slot;
    bool was_there = bool(docs_[slot]);
    if (was_there) {  // the write's document goes
      for (auto& ix : indexes_) ix->erase(docs_[slot].view(), slot);
      doc_bytes_ -= docs_[slot].size();
      docs_[slot] = DocRef();
      --count_;
    }
    if (it->old) {  // the previous one comes back
      if (!was_there) {
        auto f = std::find(free_slots_.rbegin(), free_slots_.rend(), slot);
        if (f != free_slots_.rend()) free_slots_.erase(std::next(f).base());
      }
      Impl::insert_slot(*this, slot, std::move(it->old));
    } else {
      free_slots_.push_back(slot);
    }
  }
  undo_.clear();
  cleared_.clear();
  seq_ = committed_seq_;
  return ids;
}

Status Collection::reconcile_storage(std::span<const std::string> ids) {
  return guard([&]() -> Status {
    // Every Delete before any Replace: the store may hold the failed group's versions (a
    // recovery replayed it), and putting a document back must not trip over a unique key
    // another touched document holds there.
    std::vector<Change> changes(ids.size());
    std::vector<DocRef> held;  // the documents' bytes, alive until reconcile returns
    for (size_t i = 0; i < ids.size(); ++i) {
      changes[i].op = Change::Op::Delete;
      changes[i].id = ids[i];
      changes[i].seq = seq_;
    }
    for (const std::string& id : ids) {
      Result<DocRef> doc = find_by_id(MpView(id));
      if (!doc.ok()) return doc.status();
      if (!doc.value()) continue;
      held.push_back(std::move(doc.value()));
      Change ch;
      ch.op = Change::Op::Replace;
      ch.id = id;
      ch.doc =
          std::string_view(reinterpret_cast<const char*>(held.back().data()), held.back().size());
      ch.seq = seq_;
      changes.push_back(ch);
    }
    return storage_->reconcile(changes, seq_);
  });
}

Result<uint64_t> Collection::expire(Date now, std::vector<ChangeEvent>* events) {
  return guard([&]() -> Result<uint64_t> {
    absl::flat_hash_set<uint32_t> seen;
    std::vector<PendingWrite> batch;
    for (auto& ix : indexes_) {
      if (ix->spec().ttl_seconds < 0) continue;
      IndexBounds b;
      b.has_range = true;
      b.range_rank = 7;  // dates
      std::string cutoff;
      MpWriter(cutoff).date(Date{now.sec - ix->spec().ttl_seconds, now.nsec});
      b.upper = RangeEnd{MpView(cutoff), false};
      ix->scan(b, false, [&](uint32_t slot) {
        if (seen.insert(slot).second)
          batch.push_back(PendingWrite{slot, DocRef(), ChangeEvent::Op::Delete});
        return true;
      });
    }
    Impl::commit(*this, batch, events);
    return uint64_t(batch.size());
  });
}

}  // namespace mg
