// core/index.cc — B-tree indexes whose keys point into the documents (see index.h).
//
// Scans are driven by two probes in index space: `start` sorts just before the first entry
// to visit and `end` just after the last. A probe is a list of components (values, or type
// bracket sentinels) and a tie-break that places it before (-1) or after (+1) the entries
// equal to it on those components. A descending field negates its comparison, so the value
// space bounds swap roles there.
#include "core/index.h"

#include <cstdlib>

#include "core/compare.h"
#include "core/path.h"

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
  int tie = -1;
};

Index::Index(IndexSpec spec)
    : spec_(std::move(spec)),
      name_(spec_.name()),
      compound_(spec_.fields.size() > 1),
      set_(Less{this}) {
  for (auto& f : spec_.fields) dirs_.push_back(f.second < 0 ? -1 : 1);
  dir0_ = dirs_[0];
}

Index::~Index() {
  clear();
}

int Index::compare_compound(const uint8_t* a, const uint8_t* b) const {
  ArrayIter ia{MpView(a)}, ib{MpView(b)};
  MpView ea, eb;
  for (size_t i = 0; ia.next(ea) && ib.next(eb); ++i)
    if (int c = compare_values(ea, eb)) return dirs_[i] * c;
  return 0;
}

static absl::weak_ordering ordering(int c) {
  return c < 0 ? absl::weak_ordering::less
               : (c > 0 ? absl::weak_ordering::greater : absl::weak_ordering::equivalent);
}

absl::weak_ordering Index::Less::operator()(const Entry& a, const Entry& b) const {
  int c = ix->compare_keys(a.key, b.key);
  return ordering(c != 0 ? c : (a.slot < b.slot ? -1 : (a.slot > b.slot ? 1 : 0)));
}

// <0 when the entry sorts before the probe.
static int entry_vs_probe(const Index& ix, const std::vector<int>& dirs, bool compound,
                          const Index::Entry& e, const Index::Probe& p) {
  (void)ix;
  if (!compound) {
    if (!p.comps.empty())
      if (int c = dirs[0] * compare_component(MpView(e.key), p.comps[0])) return c;
    return -p.tie;
  }
  ArrayIter it{MpView(e.key)};
  MpView v;
  for (size_t i = 0; i < p.comps.size() && it.next(v); ++i)
    if (int c = dirs[i] * compare_component(v, p.comps[i])) return c;
  return -p.tie;
}

absl::weak_ordering Index::Less::operator()(const Entry& a, const Probe& b) const {
  return ordering(entry_vs_probe(*ix, ix->dirs_, ix->compound_, a, b));
}
absl::weak_ordering Index::Less::operator()(const Probe& a, const Entry& b) const {
  return ordering(-entry_vs_probe(*ix, ix->dirs_, ix->compound_, b, a));
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

// Compound key when every field is a top-level non-array value: one encode, no fan-out.
bool Index::compound_fast_path(MpView doc, IndexKeys& out) const {
  MpView vals[8];
  size_t n = spec_.fields.size();
  if (n > 8) return false;
  for (size_t f = 0; f < n; ++f) {
    const FieldPath& p = spec_.fields[f].first;
    if (p.size() != 1) return false;
    MpView v = doc.get(p.parts[0]);
    if (v.valid() && v.type() == MpType::Array) return false;
    vals[f] = v.valid() ? v : MpView(&kNilByte);
  }
  out.owned.resize(1);
  std::string& key = out.owned[0];
  key.clear();
  MpWriter w(key);
  w.array_header(uint32_t(n));
  for (size_t f = 0; f < n; ++f) w.raw(vals[f]);
  out.keys.push_back(reinterpret_cast<const uint8_t*>(key.data()));
  return true;
}

void Index::keys_of(MpView doc, IndexKeys& out) const {
  out.clear();
  if (!compound_) {
    // Fast path: a top-level field that is not an array (the common case).
    const FieldPath& p = spec_.fields[0].first;
    if (p.size() == 1) {
      MpView v = doc.get(p.parts[0]);
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
    return;
  }
  if (compound_fast_path(doc, out)) return;
  std::vector<std::vector<MpView>> per_field(spec_.fields.size());
  size_t total = 1;
  for (size_t f = 0; f < per_field.size(); ++f) {
    add_field_values(doc, f, per_field[f]);
    total *= per_field[f].size();
  }
  out.owned.clear();
  out.owned.reserve(total);
  std::vector<size_t> pos(per_field.size(), 0);
  for (size_t n = 0; n < total; ++n) {
    std::string key;
    MpWriter w(key);
    w.array_header(uint32_t(per_field.size()));
    for (size_t f = 0; f < per_field.size(); ++f) w.raw(per_field[f][pos[f]]);
    out.owned.push_back(std::move(key));
    for (size_t f = per_field.size(); f-- > 0;) {
      if (++pos[f] < per_field[f].size()) break;
      pos[f] = 0;
    }
  }
  for (auto& k : out.owned) out.keys.push_back(reinterpret_cast<const uint8_t*>(k.data()));
}

std::optional<uint32_t> Index::find_conflict(const IndexKeys& keys, uint32_t self,
                                             const absl::flat_hash_set<uint32_t>* ignore) const {
  if (!spec_.unique) return std::nullopt;
  for (const uint8_t* k : keys.keys) {
    auto it = set_.lower_bound(Entry{k, 0});
    for (; it != set_.end() && compare_keys(it->key, k) == 0; ++it)
      if (it->slot != self && !(ignore && ignore->contains(it->slot))) return it->slot;
  }
  return std::nullopt;
}

void Index::insert(IndexKeys& keys, uint32_t slot) {
  if (keys.keys.size() > 1) multikey_ = true;
  for (size_t i = 0; i < keys.keys.size(); ++i) {
    const uint8_t* k = keys.keys[i];
    if (compound_) {
      const std::string& src = keys.owned[i];
      auto* copy = static_cast<uint8_t*>(std::malloc(src.size()));
      if (!copy) throw std::bad_alloc();
      std::memcpy(copy, src.data(), src.size());
      k = copy;
    }
    auto [it, inserted] = set_.insert(Entry{k, slot});
    if (!inserted && compound_) std::free(const_cast<uint8_t*>(k));
  }
}

void Index::erase(MpView doc, uint32_t slot) {
  thread_local IndexKeys keys;  // scratch, reused across calls
  keys_of(doc, keys);
  for (const uint8_t* k : keys.keys) {
    auto it = set_.find(Entry{k, slot});
    if (it == set_.end()) continue;
    const uint8_t* stored = it->key;
    set_.erase(it);
    if (compound_) std::free(const_cast<uint8_t*>(stored));
  }
}

void Index::clear() {
  if (compound_)
    for (auto& e : set_) std::free(const_cast<uint8_t*>(e.key));
  set_.clear();
  multikey_ = false;
}

namespace {
struct ProbePair {
  Index::Probe start, end;
};

ProbePair make_probes(const IndexBounds& b, const std::vector<int>& dirs) {
  ProbePair pp;
  for (auto& v : b.eq) {
    pp.start.comps.push_back(ProbeComp{v, 0, 0});
    pp.end.comps.push_back(ProbeComp{v, 0, 0});
  }
  pp.start.tie = -1;
  pp.end.tie = 1;
  if (!b.has_range) return pp;
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
  return pp;
}
}  // namespace

uint64_t Index::scan(const IndexBounds& b, bool reverse,
                     const std::function<bool(uint32_t)>& fn) const {
  ProbePair pp = make_probes(b, dirs_);
  uint64_t examined = 0;
  if (!reverse) {
    // One descent to the start; the end is checked per entry (cheap for point lookups).
    auto it = pp.start.comps.empty() ? set_.begin() : set_.lower_bound(pp.start);
    for (; it != set_.end(); ++it) {
      if (!pp.end.comps.empty() && entry_vs_probe(*this, dirs_, compound_, *it, pp.end) >= 0) break;
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
  ProbePair pp = make_probes(b, dirs_);
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
  if (compound_)
    for (auto& e : set_) bytes += MpView(e.key).byte_size() + 16;
  return bytes;
}

}  // namespace mg
