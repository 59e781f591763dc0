// core/collection.cc — a collection's lifecycle, schema changes and reads (see collection.h).
// Writes live in collection_write.cc.
#include <absl/container/btree_set.h>
#include <absl/container/inlined_vector.h>

#include <algorithm>
#include <array>
#include <span>

#include "core/collection_impl.h"
#include "core/compare.h"
#include "core/ejson.h"
#include "core/objectid.h"
#include "core/path.h"
#include "core/sort.h"

namespace mg {

std::string_view change_op_name(ChangeEvent::Op op) {
  switch (op) {
    case ChangeEvent::Op::Insert:
      return "insert";
    case ChangeEvent::Op::Update:
      return "update";
    case ChangeEvent::Op::Replace:
      return "replace";
    case ChangeEvent::Op::Delete:
      return "delete";
    case ChangeEvent::Op::Drop:
      return "drop";
  }
  return "insert";
}

std::string_view doc_id(MpView doc) {
  MpView id = doc.get("_id");
  return id.valid() ? id.bytes() : std::string_view();
}

static IndexSpec id_index_spec() {
  IndexSpec s;
  s.fields.emplace_back(FieldPath::parse("_id"), 1);
  s.unique = true;
  return s;
}

Collection::Collection(std::string name, std::unique_ptr<StorageStrategy> storage)
    : name_(std::move(name)), storage_(std::move(storage)), schema_(Schema::parse(MpView())) {
  indexes_.push_back(std::make_unique<Index>(id_index_spec()));
  Impl::bind_hot_fields(*this);
}

void Collection::Impl::bind_hot_fields(Collection& c) {
  c.hot_fields_.clear();
  c.hot_fields_.add("_id");  // slot 0
  for (auto& ix : c.indexes_) ix->bind_top_fields(c.hot_fields_);
  c.rule_slots_.clear();
  for (const FieldPath& p : c.schema_->rule_paths())
    c.rule_slots_.push_back(int8_t(p.size() == 1 ? c.hot_fields_.add(p.parts[0]) : -1));
}

void Collection::Impl::check_schema(const Collection& c, MpView doc, const FieldSet::Values* top) {
  auto checked = [&]() -> Status {
    if (!top || c.rule_slots_.empty()) return c.schema_->validate(doc);
    const auto& paths = c.schema_->rule_paths();
    auto read = [&](size_t i) {
      return c.rule_slots_[i] >= 0 ? (*top)[size_t(c.rule_slots_[i])] : get_path(doc, paths[i]);
    };
    if (paths.size() <= 16) {  // the usual few rules: values on the stack
      std::array<MpView, 16> values;
      for (size_t i = 0; i < paths.size(); ++i) values[i] = read(i);
      return c.schema_->validate(doc, std::span<const MpView>(values.data(), paths.size()));
    }
    std::vector<MpView> values(paths.size());
    for (size_t i = 0; i < paths.size(); ++i) values[i] = read(i);
    return c.schema_->validate(doc, values);
  };
  Status s = checked();
  if (!s.ok()) fail(std::move(s));
}

Collection::~Collection() {
  // Index entries point into documents: drop them first.
  indexes_.clear();
}

Status Collection::open(MpView schema) {
  return guard([&]() -> Status {
    schema_ = Schema::parse(schema);
    for (auto& spec : schema_->indexes()) indexes_.push_back(std::make_unique<Index>(spec));
    Impl::bind_hot_fields(*this);
    ValidateOptions basic;
    FieldSet::Values top;  // the stored document's hot fields, scanned once
    basic.max_bytes = 0;
    Status s = storage_->open([&](std::string_view bytes) -> Status {
      Status v = validate(bytes, basic);
      DocRef doc;
      if (v.ok()) {
        doc = DocRef::make(bytes);
        hot_fields_.scan(doc.view(), top);  // the bytes the indexes will point into
      }
      if (!v.ok() || !top[0].valid())
        return make_status(ErrorCode::StorageError,
                           "model '" + name_ +
                               "': stored document is invalid: " + (v.ok() ? "no _id" : v.message));
      MpView id = top[0];
      if (id.type() == MpType::Str && may_collide_with_generated(id.as_str()))
        id_collision_possible_ = true;
      // The stored documents were checked against the unique indexes when they were written:
      // each is indexed with one descent per key, which still reports a duplicate (a corrupt
      // or hand-edited file) instead of a separate probe first.
      thread_local IndexKeys keys;  // scratch, reused across documents
      uint32_t slot = Impl::alloc_slot(*this);
      for (size_t i = 0; i < indexes_.size(); ++i) {
        indexes_[i]->keys_of(doc.view(), keys, &top);
        if (!indexes_[i]->insert_checked(keys, slot)) continue;
        for (size_t j = 0; j < i; ++j) indexes_[j]->erase(doc.view(), slot);
        free_slots_.push_back(slot);
        return make_status(ErrorCode::DuplicateKey,
                           "model '" + name_ + "': stored documents violate unique index " +
                               indexes_[i]->name() + ": duplicate key " +
                               json_from_mp(indexes_[i]->key_value(doc.view())));
      }
      Impl::store_slot(*this, slot, std::move(doc));
      return Status::OK();
    });
    if (!s.ok()) return s;
    seq_ = committed_seq_ = storage_->last_seq();
    return storage_->set_indexes(schema_->indexes());  // the backend's own copies, if any
  });
}

Result<bool> Collection::set_schema(MpView schema) {
  return guard([&]() -> Result<bool> {
    auto next = Schema::parse(schema);
    if (next->encoded() == schema_->encoded()) return false;
    // Build every new index aside first: a failure leaves the collection untouched.
    std::vector<std::unique_ptr<Index>> built(next->indexes().size());
    std::vector<size_t> reuse(next->indexes().size(), 0);  // position in indexes_, 0 = none
    for (size_t i = 0; i < next->indexes().size(); ++i) {
      const IndexSpec& spec = next->indexes()[i];
      for (size_t j = 1; j < indexes_.size() && !reuse[i]; ++j)
        if (indexes_[j]->spec().same_as(spec)) reuse[i] = j;
      if (reuse[i]) continue;
      auto ix = std::make_unique<Index>(spec);
      IndexKeys keys;
      for (uint32_t slot = 0; slot < docs_.size(); ++slot) {
        if (!docs_[slot]) continue;
        ix->keys_of(docs_[slot].view(), keys);
        if (ix->find_conflict(keys, slot)) {
          Status st = make_status(ErrorCode::DuplicateKey,
                                  "cannot build unique index " + ix->name() + " on model '" +
                                      name_ + "': duplicate key " +
                                      json_from_mp(ix->key_value(docs_[slot].view())));
          st.key_pattern = ix->key_pattern();
          st.key_value = ix->key_value(docs_[slot].view());
          return st;
        }
        ix->insert(keys, slot);
      }
      built[i] = std::move(ix);
    }
    // The backend's own indexes (SQLite) follow; if it refuses, the old schema stays.
    if (Status ix = storage_->set_indexes(next->indexes()); !ix.ok()) return ix;
    std::vector<std::unique_ptr<Index>> next_indexes;
    next_indexes.push_back(std::move(indexes_[0]));
    for (size_t i = 0; i < built.size(); ++i)
      next_indexes.push_back(reuse[i] ? std::move(indexes_[reuse[i]]) : std::move(built[i]));
    indexes_ = std::move(next_indexes);
    schema_ = std::move(next);
    Impl::bind_hot_fields(*this);
    return true;
  });
}

bool Collection::Impl::point_lookup(const Collection& c, MpView filter, uint32_t& slot,
                                    QueryStats* stats) {
  if (!filter.valid() || filter.type() != MpType::Map || filter.count() != 1) return false;
  MapIter it(filter);
  std::string_view field;
  MpView value;
  it.next(field, value);
  if (field.empty() || field[0] == '$' || field.find('.') != std::string_view::npos) return false;
  switch (value.type()) {
    case MpType::Str:
    case MpType::Int:
    case MpType::Float:
    case MpType::Bool:
    case MpType::Date:
    case MpType::Bin:
      break;
    default:
      return false;  // null, arrays and maps (operators, whole-value equality) need the matcher
  }
  const Index* ix = nullptr;
  for (auto& candidate : c.indexes_) {
    const IndexSpec& spec = candidate->spec();
    if (spec.unique && spec.fields.size() == 1 && spec.fields[0].first.dotted == field) {
      ix = candidate.get();
      break;
    }
  }
  if (!ix) return false;
  slot = ix->lookup_unique(value.data());
  if (slot != UINT32_MAX) {
    // The index holds the field's value, or each element when it is an array: re-check that
    // the document has it exactly so (cheap, and keeps the fast path honest).
    MpView doc = c.docs_[slot].view();
    MpView f = doc.get(field);
    bool ok = f.valid() && compare_values(f, value) == 0;
    if (!ok && f.valid() && f.type() == MpType::Array) {
      ArrayIter elems(f);
      MpView e;
      while (!ok && elems.next(e)) ok = compare_values(e, value) == 0;
    }
    if (!ok) slot = UINT32_MAX;
  }
  if (slot == UINT32_MAX) slot = PendingWrite::kNoSlot;
  if (stats) {
    stats->plan = "IXSCAN " + ix->name();
    stats->keys_examined += slot != PendingWrite::kNoSlot;
    stats->docs_examined += slot != PendingWrite::kNoSlot;
  }
  return true;
}

void Collection::Impl::for_each_match(const Collection& c, const Matcher& m, QueryStats* stats,
                                      const std::function<bool(uint32_t, MpView)>& fn) {
  Plan plan = plan_query(m, c.indexes_);
  QueryStats local;
  QueryStats& st = stats ? *stats : local;
  st.plan = plan.describe();
  if (!plan.index) {
    for (uint32_t slot = 0; slot < c.docs_.size(); ++slot) {
      if (!c.docs_[slot]) continue;
      ++st.docs_examined;
      MpView d = c.docs_[slot].view();
      if (m.matches(d) && !fn(slot, d)) return;
    }
    return;
  }
  absl::flat_hash_set<uint32_t> seen;
  bool stop = false;
  for (auto& b : plan.bounds) {
    st.keys_examined += plan.index->scan(b, false, [&](uint32_t slot) {
      if (plan.needs_dedup && !seen.insert(slot).second) return true;
      ++st.docs_examined;
      MpView d = c.docs_[slot].view();
      if (m.matches(d) && !fn(slot, d)) stop = true;
      return !stop;
    });
    if (stop) return;
  }
}

std::vector<uint32_t> Collection::Impl::select(const Collection& c, const Matcher& m,
                                               MpView sort_view, bool multi) {
  SortSpec sort = SortSpec::compile(sort_view);
  std::vector<uint32_t> out;
  for_each_match(c, m, nullptr, [&](uint32_t slot, MpView d) {
    if (!sort.empty() && !out.empty()) {
      if (!multi) {
        if (sort.compare(d, c.docs_[out[0]].view()) < 0) out[0] = slot;
        return true;
      }
    }
    out.push_back(slot);
    return multi || !sort.empty();
  });
  if (multi && !sort.empty())
    std::stable_sort(out.begin(), out.end(), [&](uint32_t a, uint32_t b) {
      return sort.compare(c.docs_[a].view(), c.docs_[b].view()) < 0;
    });
  return out;
}

Result<std::vector<DocRef>> Collection::find(const FindSpec& spec, QueryStats* stats) {
  return guard([&]() -> Result<std::vector<DocRef>> {
    if (spec.skip < 0 || spec.limit < 0)
      fail(ErrorCode::BadValue, "skip and limit must not be negative");
    uint32_t hit;
    if (Impl::point_lookup(*this, spec.filter, hit, stats)) {
      SortSpec::compile(spec.sort);  // a bad sort is still an error; one document needs none
      std::vector<DocRef> out;
      if (hit != PendingWrite::kNoSlot && spec.skip == 0) out.push_back(docs_[hit]);
      return out;
    }
    auto m = Matcher::compile(spec.filter);
    SortSpec sort = SortSpec::compile(spec.sort);
    auto skip = uint64_t(spec.skip), limit = uint64_t(spec.limit);
    std::vector<uint32_t> slots;
    uint64_t wanted = limit ? skip + limit : UINT64_MAX;
    Impl::for_each_match(*this, *m, stats, [&](uint32_t slot, MpView) {
      slots.push_back(slot);
      return !sort.empty() || slots.size() < wanted;
    });
    auto less = [&](uint32_t a, uint32_t b) {
      return sort.compare(docs_[a].view(), docs_[b].view()) < 0;
    };
    if (!sort.empty()) {
      if (limit && wanted < slots.size()) {
        std::partial_sort(slots.begin(), slots.begin() + int64_t(wanted), slots.end(), less);
        slots.resize(wanted);
      } else {
        std::stable_sort(slots.begin(), slots.end(), less);
      }
    }
    std::vector<DocRef> out;
    for (uint64_t i = skip; i < slots.size() && (!limit || out.size() < limit); ++i)
      out.push_back(docs_[slots[i]]);
    return out;
  });
}

Result<DocRef> Collection::find_by_id(MpView id) {
  return guard([&]() -> Result<DocRef> {
    IndexBounds b;
    b.eq.push_back(id);
    DocRef found;
    indexes_[0]->scan(b, false, [&](uint32_t slot) {
      found = docs_[slot];
      return false;
    });
    return found;
  });
}

Result<uint64_t> Collection::count(MpView filter, QueryStats* stats) {
  return guard([&]() -> Result<uint64_t> {
    auto m = Matcher::compile(filter);
    if (m->matches_all()) return uint64_t(count_);
    Plan plan = plan_query(*m, indexes_);
    if (plan.index && plan.covered) {
      uint64_t n = 0;
      for (auto& b : plan.bounds) n += plan.index->count(b);
      if (stats) {
        stats->plan = "COUNT_SCAN " + plan.index->name();
        stats->keys_examined = n;
      }
      return n;
    }
    uint64_t n = 0;
    Impl::for_each_match(*this, *m, stats, [&](uint32_t, MpView) {
      ++n;
      return true;
    });
    return n;
  });
}

Result<std::vector<std::string>> Collection::distinct(std::string_view field, MpView filter) {
  return guard([&]() -> Result<std::vector<std::string>> {
    FieldPath path = FieldPath::parse(field);
    auto m = Matcher::compile(filter);
    struct Less {
      bool operator()(MpView a, MpView b) const { return compare_values(a, b) < 0; }
    };
    absl::btree_set<MpView, Less> values;
    Impl::for_each_match(*this, *m, nullptr, [&](uint32_t, MpView d) {
      visit_path(d, path, 0, [&](MpView v) {
        if (!v.valid()) return false;
        if (v.type() == MpType::Array) {
          ArrayIter it(v);
          MpView e;
          while (it.next(e)) values.insert(e);
        } else {
          values.insert(v);
        }
        return false;
      });
      return true;
    });
    std::vector<std::string> out;
    for (MpView v : values) out.emplace_back(v.bytes());
    return out;
  });
}

CollectionStats Collection::stats() const {
  CollectionStats s;
  s.count = count_;
  s.index_count = indexes_.size();
  s.doc_bytes = doc_bytes_;
  for (auto& ix : indexes_) s.index_bytes += ix->memory_bytes();
  s.storage = storage_->stats();
  return s;
}

}  // namespace mg
