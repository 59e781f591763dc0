// core/index.cc — B-tree indexes whose keys point into the documents (see index.h).
//
// Scans are driven by two probes in index space: `start` sorts just before the first entry
// to visit and `end` just after the last. A probe is a list of components (values, or type
// bracket sentinels) and a tie-break that places it before (-1) or after (+1) the entries
// equal to it on those components. A descending field negates its comparison, so the value
// space bounds swap roles there. For an index of encoded keys the components are encoded too
// (a sentinel as its type edge, index_key.h), and an entry compares with a probe bytewise.
#include "core/index.h"

#include <absl/hash/hash.h>

#include <algorithm>

#include <cstdlib>
#include <cstring>
#include <iterator>

#include "core/compare.h"
#include "core/path.h"
#include "core/value_key.h"

namespace mg {

namespace {
const uint8_t kNilByte = 0xc0;

// One probe component: a value, or the edge of type bracket `rank` (sentinel -1 sorts before
// every value of that rank, +1 after).
struct ProbeComp {
  MpView v;
  int8_t sentinel = 0;
  int rank = 0;
};

int compare_component(MpView e, const ProbeComp& p) {
  if (p.sentinel == 0) return compare_values(e, p.v);
  int r = type_rank(e.type());
  if (r != p.rank) return r < p.rank ? -1 : 1;
  return p.sentinel < 0 ? 1 : -1;
}
}  // namespace

struct Index::Probe {
  absl::InlinedVector<ProbeComp, 4> comps;
  std::string bytes;  // for encoded keys: the components' encodings, in order
  int tie = -1;
};

Index::Index(IndexSpec spec)
    : spec_(std::move(spec)),
      name_(spec_.name()),
      compound_(spec_.fields.size() > 1),
      encoded_(compound_ || !spec_.unique),
      set_(Less{this}),
      postings_(KeyLess{this}) {
  for (auto& f : spec_.fields) {
    dirs_.push_back(f.second < 0 ? -1 : 1);
    top_level_ = top_level_ && f.first.size() == 1;
  }
  top_level_ = top_level_ && spec_.fields.size() <= 8;
  dir0_ = dirs_[0];
  top_slot_.fill(-1);
}

Index::~Index() {
  clear();
}

size_t Index::hash_key(const uint8_t* key) const {
  if (encoded_) return absl::HashOf(stored_bytes(key));
  thread_local std::string scratch;
  return absl::HashOf(canonical_key_view(MpView(key), scratch));
}

static absl::weak_ordering ordering(int c) {
  return c < 0 ? absl::weak_ordering::less
               : (c > 0 ? absl::weak_ordering::greater : absl::weak_ordering::equivalent);
}

absl::weak_ordering Index::Less::operator()(const Entry& a, const Entry& b) const {
  if (int c = compare(a.prefix(), b.prefix())) return ordering(c);
  int c = ix->compare_keys(a.key, b.key);
  return ordering(c != 0 ? c : (a.slot < b.slot ? -1 : (a.slot > b.slot ? 1 : 0)));
}

// <0 when the key sorts before the probe.
static int key_vs_probe(const std::vector<int>& dirs, bool encoded, const uint8_t* key,
                        const Index::Probe& p) {
  if (encoded) {
    std::string_view k = Index::stored_bytes(key);
    size_t n = std::min(k.size(), p.bytes.size());
    if (int c = compare_short_bytes(reinterpret_cast<const uint8_t*>(k.data()), n,
                                    reinterpret_cast<const uint8_t*>(p.bytes.data()), n))
      return c;
    // Equal on the probe's components (a key holds every field, so it is not shorter).
    return k.size() < p.bytes.size() ? -1 : -p.tie;
  }
  // A single value (the only keys not encoded).
  if (!p.comps.empty())
    if (int c = dirs[0] * compare_component(MpView(key), p.comps[0])) return c;
  return -p.tie;
}

absl::weak_ordering Index::Less::operator()(const Entry& a, const Probe& b) const {
  return ordering(key_vs_probe(ix->dirs_, ix->encoded_, a.key, b));
}
absl::weak_ordering Index::Less::operator()(const Probe& a, const Entry& b) const {
  return ordering(-key_vs_probe(ix->dirs_, ix->encoded_, b.key, a));
}

absl::weak_ordering Index::KeyLess::operator()(const uint8_t* a, const uint8_t* b) const {
  return ordering(compare_stored(a, b));  // postings are always encoded
}
absl::weak_ordering Index::KeyLess::operator()(const uint8_t* a, const Probe& b) const {
  return ordering(key_vs_probe(ix->dirs_, ix->encoded_, a, b));
}
absl::weak_ordering Index::KeyLess::operator()(const Probe& a, const uint8_t* b) const {
  return ordering(-key_vs_probe(ix->dirs_, ix->encoded_, b, a));
}

void Index::add_field_values(MpView doc, size_t field, std::vector<MpView>& out) const {
  size_t base = out.size();
  auto add = [&](MpView v) {
    for (size_t i = base; i < out.size(); ++i)
      if (values_equal(out[i], v)) return;
    out.push_back(v);
  };
  visit_path(doc, spec_.fields[field].first, 0, [&](MpView v) {
    if (!v.valid()) {
      add(MpView(&kNilByte));
    } else if (v.type() == MpType::Array && v.count() > 0) {
      ArrayIter it(v);
      MpView e;
      while (it.next(e)) add(e);
    } else {
      add(v);
    }
    return false;
  });
}

void Index::bind_top_fields(FieldSet& set) {
  top_slot_.fill(-1);
  for (size_t f = 0; f < spec_.fields.size() && f < top_slot_.size(); ++f)
    if (spec_.fields[f].first.size() == 1)
      top_slot_[f] = int8_t(set.add(spec_.fields[f].first.parts[0]));
}

// Fills in the length of an encoded key whose bytes follow its 4 reserved bytes.
static void seal_key(std::string& key) {
  uint32_t n = uint32_t(key.size() - 4);
  std::memcpy(key.data(), &n, 4);
}

// The encoded key when every field is a top-level non-array value: one key, no fan-out.
bool Index::encoded_fast_path(MpView doc, IndexKeys& out, const FieldSet::Values* top) const {
  if (!top_level_) return false;
  MpView vals[8];
  size_t n = dirs_.size();
  for (size_t f = 0; f < n; ++f) {
    MpView v = top_value(doc, f, top);
    if (v.valid() && v.type() == MpType::Array) return false;
    vals[f] = v.valid() ? v : MpView(&kNilByte);
  }
  out.owned.resize(1);
  std::string& key = out.owned[0];
  // The usual short values are encoded on the stack and copied once.
  char buf[4 + 8 * kShortKeyMax];
  size_t len = 4;
  for (size_t f = 0; f < n && len; ++f) {
    size_t k = encode_short(vals[f], dirs_[f] < 0, buf + len);
    len = k ? len + k : 0;
  }
  if (len) {
    key.assign(buf, len);
  } else {
    key.assign(4, '\0');
    for (size_t f = 0; f < n; ++f) append_index_key(vals[f], dirs_[f] < 0, key);
  }
  seal_key(key);
  out.keys.push_back(reinterpret_cast<const uint8_t*>(key.data()));
  return true;
}

// Every encoded key of `doc`: the cross product of each field's distinct values.
void Index::encoded_keys(MpView doc, IndexKeys& out) const {
  size_t nf = spec_.fields.size();
  std::vector<std::vector<std::string>> per_field(nf);  // each value's encoding
  std::vector<MpView> vals;
  size_t total = 1;
  for (size_t f = 0; f < nf; ++f) {
    vals.clear();
    add_field_values(doc, f, vals);
    for (MpView v : vals) append_index_key(v, dirs_[f] < 0, per_field[f].emplace_back());
    total *= per_field[f].size();
  }
  out.owned.clear();
  out.owned.reserve(total);
  std::vector<size_t> pos(nf, 0);
  for (size_t n = 0; n < total; ++n) {
    std::string& key = out.owned.emplace_back(4, '\0');
    for (size_t f = 0; f < nf; ++f) key += per_field[f][pos[f]];
    seal_key(key);
    for (size_t f = nf; f-- > 0;) {
      if (++pos[f] < per_field[f].size()) break;
      pos[f] = 0;
    }
  }
  for (auto& k : out.owned) out.keys.push_back(reinterpret_cast<const uint8_t*>(k.data()));
}

void Index::keys_of(MpView doc, IndexKeys& out, const FieldSet::Values* top) const {
  out.clear();
  if (encoded_) {
    if (!encoded_fast_path(doc, out, top)) encoded_keys(doc, out);
    return;
  }
  // A single-field unique index: keys are the document's own values.
  const FieldPath& p = spec_.fields[0].first;
  if (p.size() == 1) {  // a top-level field that is not an array (the common case)
    MpView v = top_value(doc, 0, top);
    if (!v.valid()) {
      out.keys.push_back(&kNilByte);
      return;
    }
    if (v.type() != MpType::Array) {
      out.keys.push_back(v.data());
      return;
    }
  }
  std::vector<MpView> vals;
  add_field_values(doc, 0, vals);
  for (auto& v : vals) out.keys.push_back(v.data());
}

std::optional<uint32_t> Index::find_conflict(const IndexKeys& keys, uint32_t self,
                                             const absl::flat_hash_set<uint32_t>* ignore) const {
  if (!spec_.unique) return std::nullopt;
  for (const uint8_t* k : keys.keys) {
    auto it = set_.lower_bound(make_entry(k, 0));
    for (; it != set_.end() && compare_keys(it->key, k) == 0; ++it)
      if (it->slot != self && !(ignore && ignore->contains(it->slot))) return it->slot;
  }
  return std::nullopt;
}

static uint8_t* copy_key(const uint8_t* key, size_t n) {
  auto* copy = static_cast<uint8_t*>(std::malloc(n));
  if (!copy) throw std::bad_alloc();
  std::memcpy(copy, key, n);
  return copy;
}

uint32_t Index::lookup_unique(const uint8_t* key) const {
  auto it = set_.lower_bound(make_entry(key, 0));
  if (it == set_.end() || compare_keys(it->key, key) != 0) return UINT32_MAX;
  return it->slot;
}

void Index::insert(IndexKeys& keys, uint32_t slot) {
  if (keys.keys.size() > 1) multikey_ = true;
  for (size_t i = 0; i < keys.keys.size(); ++i) {
    const uint8_t* k = keys.keys[i];
    if (!spec_.unique) {
      post(k, slot);
      continue;
    }
    if (encoded_) k = copy_key(k, key_bytes(k));
    // The hint makes ascending keys (generated ObjectIds, timestamps) an O(1) append; a wrong
    // hint costs one comparison before the normal descent.
    size_t before = set_.size();
    set_.insert(set_.end(), make_entry(k, slot));
    if (set_.size() != before)
      ++entries_;
    else if (encoded_)
      std::free(const_cast<uint8_t*>(k));
  }
}

std::optional<uint32_t> Index::insert_checked(IndexKeys& keys, uint32_t slot) {
  if (!spec_.unique) {
    insert(keys, slot);
    return std::nullopt;
  }
  for (size_t i = 0; i < keys.keys.size(); ++i) {
    const uint8_t* k = encoded_ ? copy_key(keys.keys[i], key_bytes(keys.keys[i])) : keys.keys[i];
    size_t before = set_.size();
    auto it = set_.insert(set_.end(), make_entry(k, slot));
    if (set_.size() == before) {  // this document's own entry already (keys are distinct)
      if (encoded_) std::free(const_cast<uint8_t*>(k));
      continue;
    }
    ++entries_;
    // Entries order by key, then slot: another slot with this key is a neighbour.
    std::optional<uint32_t> other;
    // Equal keys have equal prefixes: most neighbours differ there already.
    auto same_key = [&](const Entry& e) {
      return e.prefix() == it->prefix() && compare_keys(e.key, k) == 0;
    };
    if (it != set_.begin() && same_key(*std::prev(it)))
      other = std::prev(it)->slot;
    else if (auto next = std::next(it); next != set_.end() && same_key(*next))
      other = next->slot;
    if (!other) continue;
    for (size_t j = 0; j <= i; ++j) {  // undo this call's entries
      auto e = set_.find(make_entry(keys.keys[j], slot));
      if (e == set_.end()) continue;
      const uint8_t* stored = e->key;
      set_.erase(e);
      --entries_;
      if (encoded_) std::free(const_cast<uint8_t*>(stored));
    }
    return other;
  }
  if (keys.keys.size() > 1) multikey_ = true;
  return std::nullopt;
}

void Index::post(const uint8_t* key, uint32_t slot) {
  auto it = postings_.lower_bound(key);
  if (it != postings_.end() && compare_stored(it->first, key) == 0) {
    Posting& p = it->second;
    if (!p.many) {
      if (p.one == slot) return;
      p.many = new absl::btree_set<uint32_t>{p.one};
    }
    size_t before = p.many->size();
    p.many->insert(p.many->end(), slot);  // slots mostly arrive ascending: O(1)
    entries_ += p.many->size() - before;
    return;
  }
  postings_.insert(it, {copy_key(key, key_bytes(key)), Posting{slot, nullptr}});
  ++entries_;
}

void Index::unpost(const uint8_t* key, uint32_t slot) {
  auto it = postings_.find(key);
  if (it == postings_.end()) return;
  Posting& p = it->second;
  if (p.many) {
    entries_ -= p.many->erase(slot);
    if (p.many->size() == 1) {
      p.one = *p.many->begin();
      delete p.many;
      p.many = nullptr;
    }
    return;
  }
  if (p.one != slot) return;
  const uint8_t* stored = it->first;
  postings_.erase(it);
  std::free(const_cast<uint8_t*>(stored));
  --entries_;
}

void Index::erase(MpView doc, uint32_t slot) {
  thread_local IndexKeys keys;  // scratch, reused across calls
  keys_of(doc, keys);
  for (const uint8_t* k : keys.keys) {
    if (!spec_.unique) {
      unpost(k, slot);
      continue;
    }
    auto it = set_.find(make_entry(k, slot));
    if (it == set_.end()) continue;
    const uint8_t* stored = it->key;
    set_.erase(it);
    --entries_;
    if (encoded_) std::free(const_cast<uint8_t*>(stored));
  }
}

void Index::clear() {
  if (encoded_)
    for (auto& e : set_) std::free(const_cast<uint8_t*>(e.key));
  set_.clear();
  for (auto& [key, p] : postings_) {
    std::free(const_cast<uint8_t*>(key));
    delete p.many;
  }
  postings_.clear();
  entries_ = 0;
  multikey_ = false;
}

template <typename Fn>
uint64_t Index::visit_postings(PostingMap::const_iterator first, PostingMap::const_iterator last,
                               bool reverse, Fn&& fn) const {
  uint64_t examined = 0;
  auto visit = [&](const Posting& p) {
    if (!p.many) return ++examined, fn(p.one);
    if (!reverse) {
      for (uint32_t s : *p.many)
        if (++examined, !fn(s)) return false;
    } else {
      for (auto it = p.many->rbegin(); it != p.many->rend(); ++it)
        if (++examined, !fn(*it)) return false;
    }
    return true;
  };
  if (!reverse) {
    for (auto it = first; it != last; ++it)
      if (!visit(it->second)) break;
  } else {
    for (auto it = last; it != first;)
      if (!visit((--it)->second)) break;
  }
  return examined;
}

namespace {
struct ProbePair {
  Index::Probe start, end;
};

// The encodings of a probe's components (for an index of encoded keys).
void encode_probe(Index::Probe& p, const std::vector<int>& dirs) {
  for (size_t i = 0; i < p.comps.size(); ++i) {
    const ProbeComp& c = p.comps[i];
    if (c.sentinel != 0)
      append_type_edge(c.rank, c.sentinel, dirs[i] < 0, p.bytes);
    else
      append_index_key(c.v, dirs[i] < 0, p.bytes);
  }
}

ProbePair make_probes(const IndexBounds& b, const std::vector<int>& dirs, bool encoded) {
  ProbePair pp;
  for (auto& v : b.eq) {
    pp.start.comps.push_back(ProbeComp{v, 0, 0});
    pp.end.comps.push_back(ProbeComp{v, 0, 0});
  }
  pp.start.tie = -1;
  pp.end.tie = 1;
  if (!b.has_range) {
    if (encoded) encode_probe(pp.start, dirs), pp.end.bytes = pp.start.bytes;
    return pp;
  }
  auto end_of = [&](const RangeEnd& r, int8_t sentinel) {
    return !r.value.valid() ? ProbeComp{MpView(), sentinel, b.range_rank}
                            : ProbeComp{r.value, 0, 0};
  };
  ProbeComp lo = end_of(b.lower, -1), hi = end_of(b.upper, 1);
  bool asc = dirs[b.eq.size()] > 0;
  const RangeEnd& first = asc ? b.lower : b.upper;
  const RangeEnd& last = asc ? b.upper : b.lower;
  pp.start.comps.push_back(asc ? lo : hi);
  pp.end.comps.push_back(asc ? hi : lo);
  pp.start.tie = !first.value.valid() || first.inclusive ? -1 : 1;
  pp.end.tie = !last.value.valid() || last.inclusive ? 1 : -1;
  if (encoded) encode_probe(pp.start, dirs), encode_probe(pp.end, dirs);
  return pp;
}
}  // namespace

uint64_t Index::scan(const IndexBounds& b, bool reverse,
                     const std::function<bool(uint32_t)>& fn) const {
  ProbePair pp = make_probes(b, dirs_, encoded_);
  if (!spec_.unique) {
    auto first = pp.start.comps.empty() ? postings_.begin() : postings_.lower_bound(pp.start);
    auto last = pp.end.comps.empty() ? postings_.end() : postings_.lower_bound(pp.end);
    return visit_postings(first, last, reverse, fn);
  }
  uint64_t examined = 0;
  if (!reverse) {
    // One descent to the start; the end is checked per entry (cheap for point lookups).
    auto it = pp.start.comps.empty() ? set_.begin() : set_.lower_bound(pp.start);
    for (; it != set_.end(); ++it) {
      if (!pp.end.comps.empty() && key_vs_probe(dirs_, encoded_, it->key, pp.end) >= 0) break;
      ++examined;
      if (!fn(it->slot)) break;
    }
    return examined;
  }
  auto first = pp.start.comps.empty() ? set_.begin() : set_.lower_bound(pp.start);
  auto last = pp.end.comps.empty() ? set_.end() : set_.lower_bound(pp.end);
  for (auto it = last; it != first;) {
    --it;
    ++examined;
    if (!fn(it->slot)) break;
  }
  return examined;
}

uint64_t Index::count(const IndexBounds& b) const {
  ProbePair pp = make_probes(b, dirs_, encoded_);
  if (!spec_.unique) {
    auto first = pp.start.comps.empty() ? postings_.begin() : postings_.lower_bound(pp.start);
    auto last = pp.end.comps.empty() ? postings_.end() : postings_.lower_bound(pp.end);
    uint64_t n = 0;
    for (auto it = first; it != last; ++it) n += it->second.size();
    return n;
  }
  auto first = pp.start.comps.empty() ? set_.begin() : set_.lower_bound(pp.start);
  auto last = pp.end.comps.empty() ? set_.end() : set_.lower_bound(pp.end);
  uint64_t n = 0;
  for (auto it = first; it != last; ++it) ++n;
  return n;
}

std::string Index::key_pattern() const {
  std::string out;
  MpWriter w(out);
  w.map_header(uint32_t(spec_.fields.size()));
  for (auto& [path, dir] : spec_.fields) {
    w.str(path.dotted);
    w.integer(dir);
  }
  return out;
}

std::string Index::key_value(MpView doc) const {
  std::string out;
  MpWriter w(out);
  w.map_header(uint32_t(spec_.fields.size()));
  for (size_t f = 0; f < spec_.fields.size(); ++f) {
    std::vector<MpView> vals;
    add_field_values(doc, f, vals);
    w.str(spec_.fields[f].first.dotted);
    if (vals.empty())
      w.nil();
    else
      w.raw(vals[0]);
  }
  return out;
}

size_t Index::memory_bytes() const {
  // B-tree nodes hold entries densely; ~1.3x for node slack and interior nodes.
  size_t bytes = set_.size() * sizeof(Entry) * 13 / 10;
  if (encoded_)
    for (auto& e : set_) bytes += key_bytes(e.key) + 16;
  bytes += postings_.size() * (sizeof(void*) + sizeof(Posting)) * 13 / 10;
  for (auto& [key, p] : postings_) {
    bytes += key_bytes(key) + 16;
    if (p.many) bytes += p.many->size() * sizeof(uint32_t) * 13 / 10 + 64;
  }
  return bytes;
}

}  // namespace mg
