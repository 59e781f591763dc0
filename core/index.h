// core/index.h — secondary (and `_id`) indexes over a collection's documents.
//
// Two layouts, one ordering. A unique index is an ordered set (absl B-tree) of entries
// {prefix, key, slot}; a non-unique index is a B-tree of distinct keys (owned copies) each with
// a posting list of slots: an insert finds its key among the distinct values (few, for the
// usual status/city fields) and appends its slot in O(1), with no per-document key copy. An
// array field makes the index multikey: one entry per element (as in MongoDB). Entries are
// ordered by MongoDB's value order (compare.h) with each field's direction, then by slot.
//
// Two key forms. A single-field unique index (`_id`, email) keys its entries by a pointer
// straight into the document's MessagePack bytes (no copy: documents are immutable and outlive
// their entries; a missing field points at a static nil). Every other index (compound, or
// non-unique) owns its keys in the order-preserving encoding of index_key.h — the fields'
// encodings one after the other, each in its direction — stored as a 4-byte length (native
// order) and the bytes: two keys, and a key and a scan bound, compare with one memcmp-like
// pass. A unique entry also carries the first 12 bytes of its key's encoding (index_key_prefix)
// as two integers, so most comparisons of a descent end without reading the key.
//
// Scans take Bounds in value space (equalities on a prefix of the fields, then an optional
// range on the next field) and are type-bracketed like MongoDB's: {$gt: 5} scans numbers only.
// Callers always re-check the filter on what a scan returns unless the index fully covers it.
#pragma once

#include <absl/container/btree_map.h>
#include <absl/container/btree_set.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/inlined_vector.h>
#include <absl/types/compare.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/compare.h"
#include "core/document.h"
#include "core/index_key.h"
#include "core/msgpack.h"
#include "core/schema.h"
#include "core/top_fields.h"

namespace mg {

// The keys one document contributes to an index.
struct IndexKeys {
  std::vector<const uint8_t*> keys;  // pointers into the doc, or into `owned`
  std::vector<std::string> owned;    // encoded keys as stored (length, bytes): the pointees
  // Keeps `owned` strings allocated for reuse (keys_of overwrites them).
  void clear() { keys.clear(); }
};

// One end of a range in value space: a value (inclusive or not), or open (the edge of the
// value's type bracket). Views point into the query's own bytes (the filter), which outlive
// the scan.
struct RangeEnd {
  MpView value;  // invalid = open
  bool inclusive = false;
};

// What to scan: equalities on fields [0, eq.size()), then optionally a range on field eq.size().
struct IndexBounds {
  absl::InlinedVector<MpView, 4> eq;
  bool has_range = false;
  int range_rank = 0;  // type bracket of the range (type_rank of its operand)
  RangeEnd lower, upper;
};

class Index {
 public:
  explicit Index(IndexSpec spec);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  const IndexSpec& spec() const { return spec_; }
  const std::string& name() const { return name_; }
  bool unique() const { return spec_.unique; }
  // True once any document contributed several keys (an array field).
  bool multikey() const { return multikey_; }
  size_t entries() const { return entries_; }

  // Computes the keys `doc` contributes (deduplicated). `top`, when given, holds the values of
  // the collection's FieldSet scanned from this same `doc` (see bind_top_fields).
  void keys_of(MpView doc, IndexKeys& out, const FieldSet::Values* top = nullptr) const;

  // Adds this index's top-level fields to `set` and remembers their slots, so that keys_of
  // with the set's scanned values reads them without scanning `doc` again.
  void bind_top_fields(FieldSet& set);

  // For a unique index: the slot of another document (slot != self, and not in `ignore`)
  // holding one of `keys`, or nullopt. Non-unique indexes never conflict.
  std::optional<uint32_t> find_conflict(
      const IndexKeys& keys, uint32_t self,
      const absl::flat_hash_set<uint32_t>* ignore = nullptr) const;

  // Orders two keys of this index (as stored: single values, or encoded keys).
  int compare_keys(const uint8_t* a, const uint8_t* b) const {
    if (!encoded_) return dir0_ * compare_values(MpView(a), MpView(b));
    return compare_stored(a, b);
  }
  // Orders two encoded keys as stored.
  static int compare_stored(const uint8_t* a, const uint8_t* b) {
    std::string_view x = stored_bytes(a), y = stored_bytes(b);
    return compare_short_bytes(reinterpret_cast<const uint8_t*>(x.data()), x.size(),
                               reinterpret_cast<const uint8_t*>(y.data()), y.size());
  }
  // True when the keys are encoded (index_key.h) rather than document values.
  bool encoded() const { return encoded_; }
  // The bytes of an encoded key as stored (its length, then the encoding).
  static std::string_view stored_bytes(const uint8_t* key) {
    uint32_t n;
    std::memcpy(&n, key, 4);
    return {reinterpret_cast<const char*>(key) + 4, n};
  }

  // A hash of a key consistent with compare_keys: equal keys (1 and 1.0, any string
  // encoding) hash alike. For duplicate checks inside a batch.
  size_t hash_key(const uint8_t* key) const;

  // For a unique index: the slot holding `key` (a single value, or an encoded key as stored),
  // or UINT32_MAX. One descent, no allocation: the point lookups of findOne.
  uint32_t lookup_unique(const uint8_t* key) const;

  // Adds / removes the entries of a document. `erase` recomputes the keys from the document,
  // which must be the same bytes that were inserted.
  void insert(IndexKeys& keys, uint32_t slot);
  // insert() that also reports a broken uniqueness: for a unique index, when another slot
  // already holds one of `keys`, returns that slot and leaves the index as it was; otherwise
  // inserts and returns nullopt (a non-unique index always inserts). The check is the insert's
  // own descent (an equal key sits next to the new entry), not a separate probe: for rebuilding
  // from data checked when it was written (Collection::open), where a conflict means a
  // corrupt file.
  std::optional<uint32_t> insert_checked(IndexKeys& keys, uint32_t slot);
  void erase(MpView doc, uint32_t slot);
  void clear();

  // Calls fn(slot) for each entry within `b`, in index order (reverse when `reverse`); fn
  // returns false to stop. Returns the number of keys examined.
  uint64_t scan(const IndexBounds& b, bool reverse, const std::function<bool(uint32_t)>& fn) const;
  // Number of entries within `b` (no document is read).
  uint64_t count(const IndexBounds& b) const;

  // The encoded key value(s) of `doc` for error details: {field: value, ...} as a map, and the
  // key pattern {field: dir, ...}.
  std::string key_pattern() const;
  std::string key_value(MpView doc) const;

  // Approximate heap bytes used by the entries.
  size_t memory_bytes() const;

  // 24 bytes: the prefix's two parts around the key and slot (no padding).
  struct Entry {
    uint64_t prefix_hi;  // index_key_prefix of the key: orders entries whose prefixes differ
    const uint8_t* key;
    uint32_t slot;
    uint32_t prefix_lo;
    KeyPrefix prefix() const { return {prefix_hi, prefix_lo}; }
  };
  // The slots of one distinct key of a non-unique index, ascending: one inline, or a B-tree.
  struct Posting {
    uint32_t one = 0;
    absl::btree_set<uint32_t>* many = nullptr;  // owned; set when there are several slots
    size_t size() const { return many ? many->size() : 1; }
  };
  struct Probe;
  // Three-way comparators: the B-tree then finds a position with one comparison per step.
  struct Less {
    using is_transparent = void;
    const Index* ix;
    absl::weak_ordering operator()(const Entry& a, const Entry& b) const;
    absl::weak_ordering operator()(const Entry& a, const Probe& b) const;
    absl::weak_ordering operator()(const Probe& a, const Entry& b) const;
  };
  struct KeyLess {
    using is_transparent = void;
    const Index* ix;
    absl::weak_ordering operator()(const uint8_t* a, const uint8_t* b) const;
    absl::weak_ordering operator()(const uint8_t* a, const Probe& b) const;
    absl::weak_ordering operator()(const Probe& a, const uint8_t* b) const;
  };

 private:
  using PostingMap = absl::btree_map<const uint8_t*, Posting, KeyLess>;
  void add_field_values(MpView doc, size_t field, std::vector<MpView>& out) const;
  bool encoded_fast_path(MpView doc, IndexKeys& out, const FieldSet::Values* top) const;
  void encoded_keys(MpView doc, IndexKeys& out) const;
  Entry make_entry(const uint8_t* key, uint32_t slot) const {
    KeyPrefix prefix =
        encoded_ ? index_key_prefix(stored_bytes(key)) : index_key_prefix(MpView(key), dir0_ < 0);
    return Entry{prefix.hi, key, slot, prefix.lo};
  }
  size_t key_bytes(const uint8_t* key) const {
    return encoded_ ? 4 + stored_bytes(key).size() : MpView(key).byte_size();
  }
  // The value of top-level field `f` (spec_.fields[f] has one part): from `top` when bound.
  MpView top_value(MpView doc, size_t f, const FieldSet::Values* top) const {
    if (top && f < top_slot_.size() && top_slot_[f] >= 0) return (*top)[size_t(top_slot_[f])];
    return doc.get(spec_.fields[f].first.parts[0]);
  }
  void post(const uint8_t* key, uint32_t slot);
  void unpost(const uint8_t* key, uint32_t slot);
  // Calls fn(slot) for the slots of postings [first, last), forwards or backwards.
  template <typename Fn>
  uint64_t visit_postings(PostingMap::const_iterator first, PostingMap::const_iterator last,
                          bool reverse, Fn&& fn) const;

  IndexSpec spec_;
  std::string name_;
  bool compound_;
  bool encoded_;           // compound or non-unique: keys in the encoding of index_key.h
  bool top_level_ = true;  // at most 8 fields, each a top-level name: encoded_fast_path applies
  std::vector<int> dirs_;
  int dir0_ = 1;
  std::array<int8_t, 8> top_slot_;  // per field: slot in the bound FieldSet, or -1
  bool multikey_ = false;
  size_t entries_ = 0;
  absl::btree_set<Entry, Less> set_;  // unique indexes
  PostingMap postings_;               // non-unique indexes
};

}  // namespace mg
