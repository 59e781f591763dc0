// core/aggregate_lookup.cc — $lookup {from, localField, foreignField, as}: an equality join
// with another model of the same database (or the model itself).
//
// The local values of the whole batch (array elements taken one by one, a missing or null field
// as null) become one filter {foreignField: {$in: [values]}} that the foreign model answers
// (aggregate.h). The answer is then joined by hash: each foreign document is filed under the
// canonical key of every value its foreignField holds (the array itself and each element; a
// missing field under null), and each local document gets, in the foreign model's order, the
// documents filed under its values. A missing foreign model answers nothing: every `as` is [].
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/strings/string_view.h>

#include <algorithm>

#include "core/aggregate_stage.h"
#include "core/path.h"
#include "core/value_key.h"

namespace mg::agg {

namespace {

const uint8_t kNil[] = {0xc0};

// Calls fn(value) for each value `path` gives in `doc` as a join key: array elements one by
// one (and, when `whole_arrays`, the array itself), null for a missing field.
template <class F>
void join_values(MpView doc, const FieldPath& path, bool whole_arrays, F&& fn) {
  visit_path(doc, path, 0, [&](MpView v) {
    if (!v.valid() || v.type() == MpType::Nil) {
      fn(MpView(kNil));
    } else if (v.type() == MpType::Array) {
      if (whole_arrays) fn(v);
      ArrayIter it(v);
      MpView e;
      while (it.next(e)) fn(e);
    } else {
      fn(v);
    }
    return false;
  });
}

class Lookup final : public LookupStage {
 public:
  explicit Lookup(MpView arg) {
    if (arg.type() != MpType::Map) fail(ErrorCode::BadValue, "$lookup takes an object");
    MapIter it(arg);
    std::string_view k;
    MpView v;
    while (it.next(k, v)) {
      if (k == "pipeline" || k == "let")
        fail(ErrorCode::BadValue, "$lookup: '" + std::string(k) +
                                      "' is not supported (memgoosed joins with localField / "
                                      "foreignField)");
      if (k != "from" && k != "localField" && k != "foreignField" && k != "as")
        fail(ErrorCode::BadValue, "$lookup: unknown argument '" + std::string(k) + "'");
      if (v.type() != MpType::Str)
        fail(ErrorCode::TypeMismatch, "$lookup: '" + std::string(k) + "' must be a string");
    }
    auto need = [&](const char* key) -> std::string {
      MpView x = arg.get(key);
      if (!x.valid()) fail(ErrorCode::BadValue, std::string("$lookup requires '") + key + "'");
      return std::string(x.as_str());
    };
    from_ = need("from");
    local_ = FieldPath::parse(need("localField"));
    foreign_ = FieldPath::parse(need("foreignField"));
    as_ = FieldPath::parse(need("as"));
    if (as_.dotted[0] == '$') fail(ErrorCode::BadValue, "$lookup: 'as' must not start with '$'");
  }

  const std::string& from() const override { return from_; }

  std::string foreign_filter(const Batch& batch) const override {
    if (batch.empty()) return {};
    absl::flat_hash_set<std::string> seen;
    std::string values, scratch;
    MpWriter vw(values);
    uint32_t n = 0;
    for (auto& d : batch)
      join_values(d.view(), local_, false, [&](MpView v) {
        if (seen.insert(std::string(canonical_key_view(v, scratch))).second) vw.raw(v), ++n;
      });
    std::string f;
    MpWriter w(f);
    w.map_header(1);
    w.str(foreign_.dotted);
    w.map_header(1);
    w.str("$in");
    w.array_header(n);
    w.raw(values);
    return f;
  }

  void join(Batch& batch, const std::vector<DocRef>& foreign, StageCtx& ctx) const override {
    absl::flat_hash_map<std::string, std::vector<uint32_t>> by_key;
    std::string scratch;
    for (uint32_t i = 0; i < foreign.size(); ++i)
      join_values(foreign[i].view(), foreign_, true, [&](MpView v) {
        std::string_view k = canonical_key_view(v, scratch);
        auto& list = by_key[absl::string_view(k.data(), k.size())];
        if (list.empty() || list.back() != i) list.push_back(i);
      });
    std::vector<uint32_t> hits;
    for (auto& d : batch) {
      hits.clear();
      join_values(d.view(), local_, false, [&](MpView v) {
        std::string_view k = canonical_key_view(v, scratch);
        auto it = by_key.find(absl::string_view(k.data(), k.size()));
        if (it != by_key.end()) hits.insert(hits.end(), it->second.begin(), it->second.end());
      });
      std::sort(hits.begin(), hits.end());
      hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
      std::string arr;
      MpWriter w(arr);
      w.array_header(uint32_t(hits.size()));
      for (uint32_t i : hits) w.raw(foreign[i].bytes());
      std::string out;
      if (as_.size() == 1) {
        out = with_field(d.view(), as_.dotted, arr);
      } else {
        Value doc = Value::from(d.view());
        set_value_path(doc, as_.parts, 0, Value::from_bytes(arr));
        out = doc.encode();
      }
      ctx.budget.charge(out.size());
      d = Doc::of(std::move(out));
    }
  }

 private:
  std::string from_;
  FieldPath local_, foreign_, as_;
};

}  // namespace

StagePtr make_lookup(MpView arg) {
  return std::make_unique<Lookup>(arg);
}

}  // namespace mg::agg
