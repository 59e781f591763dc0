// core/sort.cc — sort specifications in MongoDB's order.
//
// Design: `compile` parses {path: 1 | -1, ...} into FieldPaths once. A sort key is found with
// visit_path over the encoded document, without copying: every value the path reaches counts,
// a terminal array counts by its elements, and the key is the smallest of them ascending or
// the largest descending (MongoDB's array rule). A branch that reaches nothing counts as nil,
// the smallest value, so a missing field sorts with nil. As in MongoDB an empty array sorts
// below nil; key_of reports it as a view of a private empty-array sentinel that compare_keys
// recognises by address. Nothing here allocates, so `compare` is cheap inside std::sort.
#include "core/sort.h"

#include "core/compare.h"
#include "core/error.h"

namespace mg {
namespace {

const uint8_t kEmptyArrayKey[1] = {0x90};  // "undefined": an empty array, below nil

// 0 = empty-array key, 1 = missing or nil, 2 = any other value.
int key_class(MpView k) {
  if (!k.valid()) return 1;
  if (k.data() == kEmptyArrayKey) return 0;
  return k.type() == MpType::Nil ? 1 : 2;
}

bool is_direction(MpView v, int& dir) {
  if (v.type() == MpType::Int) {
    int64_t i = v.as_int();
    if (i != 1 && i != -1) return false;
    dir = int(i);
    return true;
  }
  if (v.type() == MpType::Float) {
    double d = v.as_double();
    if (d != 1.0 && d != -1.0) return false;
    dir = d > 0 ? 1 : -1;
    return true;
  }
  return false;
}

}  // namespace

SortSpec SortSpec::compile(MpView sort) {
  SortSpec s;
  if (!sort.valid()) return s;
  if (sort.type() != MpType::Map) fail(ErrorCode::BadValue, "sort must be a map of {field: 1|-1}");
  MapIter it(sort);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    Key key;
    if (!is_direction(v, key.direction))
      fail(ErrorCode::BadValue, "sort direction for '" + std::string(k) + "' must be 1 or -1");
    key.path = FieldPath::parse(k);
    for (const std::string& part : key.path.parts)
      if (part[0] == '$')
        fail(ErrorCode::BadValue, "sort path '" + key.path.dotted + "' has a '$' component");
    s.keys_.push_back(std::move(key));
  }
  return s;
}

MpView SortSpec::key_of(MpView doc, size_t i) const {
  const Key& key = keys_[i];
  const bool asc = key.direction > 0;
  MpView best;
  bool saw_nil = false, saw_empty = false;
  auto consider = [&](MpView v) {
    if (v.type() == MpType::Nil) saw_nil = true;
    int c = best.valid() ? compare_values(v, best) : 0;
    if (!best.valid() || (asc ? c < 0 : c > 0)) best = v;
  };
  visit_path(doc, key.path, 0, [&](MpView v) {
    if (!v.valid()) {
      saw_nil = true;
    } else if (v.type() != MpType::Array) {
      consider(v);
    } else if (v.count() == 0) {
      saw_empty = true;
    } else {
      ArrayIter it(v);
      MpView e;
      while (it.next(e)) consider(e);
    }
    return asc && saw_empty;  // nothing sorts lower
  });
  if (asc) {
    if (saw_empty) return MpView(kEmptyArrayKey);
    if (saw_nil) return MpView();
    return best;
  }
  if (best.valid()) return best;
  return saw_empty && !saw_nil ? MpView(kEmptyArrayKey) : MpView();
}

int SortSpec::compare_keys(MpView a, MpView b) {
  int ca = key_class(a), cb = key_class(b);
  if (ca != cb) return ca < cb ? -1 : 1;
  return ca == 2 ? compare_values(a, b) : 0;
}

int SortSpec::compare(MpView a, MpView b) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    int c = compare_keys(key_of(a, i), key_of(b, i));
    if (c != 0) return keys_[i].direction > 0 ? c : -c;
  }
  return 0;
}

}  // namespace mg
