// core/top_fields.h — a collection's hot top-level fields, found in a document in one scan.
//
// Storing a document reads the same few top-level fields several times: `_id`, then each
// index's fields. MpView::get scans the document's keys from the start for each of them
// (about ten scans of a nine-field document on insert). A FieldSet names those fields once
// per collection (at most kMax, first come); scan() walks a document's top-level keys once —
// stopping when every name is found — and fills one MpView per name: the value of the first
// key with that name, as MpView::get would return it, or an invalid MpView when the document
// has no such key. Readers then take values by slot instead of scanning again.
//
// Not thread-safe for add(); scan() is const.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/msgpack.h"

namespace mg {

class FieldSet {
 public:
  static constexpr size_t kMax = 16;
  using Values = std::array<MpView, kMax>;

  // Slot of the top-level field `name` (added if new), or -1 once kMax names are taken.
  int add(std::string_view name);
  void clear();
  size_t size() const { return names_.size(); }

  // Fills out[0..size()) from `doc` (a map).
  void scan(MpView doc, Values& out) const;

 private:
  std::vector<std::string> names_;
  // Names by length, so that a key is compared with the names of its length only: the first
  // name of each length (-1: none), then a chain to the next of the same length. Lengths of
  // kLongName and more share the last bucket.
  static constexpr size_t kLongName = 31;
  std::array<int8_t, kLongName + 1> first_by_len_ = filled();
  std::array<int8_t, kMax> next_same_len_{};
  static constexpr std::array<int8_t, kLongName + 1> filled() {
    std::array<int8_t, kLongName + 1> a{};
    a.fill(-1);
    return a;
  }
};

}  // namespace mg
