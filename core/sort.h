// core/sort.h — `sort` specifications ({field: 1 | -1}, several keys) in MongoDB's order.
//
// Values compare with compare_values (compare.h); a missing field sorts as nil. An array field
// sorts by its smallest element ascending and its largest descending, and an empty array below
// nil, as in MongoDB.
#pragma once

#include <string>
#include <vector>

#include "core/msgpack.h"
#include "core/path.h"

namespace mg {

class SortSpec {
 public:
  struct Key {
    FieldPath path;
    int direction = 1;
  };

  // Parses a sort map. An invalid view or empty map is "no sort". Throws Error BadValue for a
  // direction other than 1 or -1 (ints or floats equal to them) or a bad path.
  static SortSpec compile(MpView sort);

  bool empty() const { return keys_.empty(); }
  const std::vector<Key>& keys() const { return keys_; }

  // The sort key of `doc` for key i (min/max element for arrays; invalid view = missing/nil).
  // An empty array sorts below nil, as in MongoDB: compare keys with compare_keys, not
  // compare_values.
  MpView key_of(MpView doc, size_t i) const;

  // Ascending order of two keys returned by key_of (apply the key's direction to the result).
  static int compare_keys(MpView a, MpView b);

  // <0 / 0 / >0 as a sorts before / with / after b.
  int compare(MpView a, MpView b) const;

 private:
  std::vector<Key> keys_;
};

}  // namespace mg
