#include "core/top_fields.h"

#include <algorithm>
#include <cstring>

#include "core/compare.h"

namespace mg {

int FieldSet::add(std::string_view name) {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return int(i);
  if (names_.size() == kMax) return -1;
  int slot = int(names_.size());
  names_.emplace_back(name);
  // Appended to the end of its length's chain: scan() tries names in slot order.
  int8_t* link = &first_by_len_[std::min(name.size(), kLongName)];
  while (*link >= 0) link = &next_same_len_[size_t(*link)];
  *link = int8_t(slot);
  next_same_len_[size_t(slot)] = -1;
  return slot;
}

void FieldSet::clear() {
  names_.clear();
  first_by_len_ = filled();
}

void FieldSet::scan(MpView doc, Values& out) const {
  const size_t n = names_.size();
  for (size_t i = 0; i < n; ++i) out[i] = MpView();
  size_t missing = n;
  const uint8_t* p = doc.first();
  for (uint32_t k = doc.count(); k > 0 && missing > 0; --k) {
    std::string_view key;
    const uint8_t* v;
    if ((*p & 0xe0) == 0xa0) {  // fixstr: nearly every key
      key = std::string_view(reinterpret_cast<const char*>(p + 1), *p & 0x1f);
      v = p + 1 + key.size();
    } else {
      MpView k(p);
      key = k.as_str();
      v = k.end();
    }
    for (int i = first_by_len_[std::min(key.size(), kLongName)]; i >= 0;
         i = next_same_len_[size_t(i)]) {
      const std::string& name = names_[size_t(i)];
      if (name.size() == key.size() && !out[size_t(i)].valid() &&
          compare_short_bytes(reinterpret_cast<const uint8_t*>(name.data()), key.size(),
                              reinterpret_cast<const uint8_t*>(key.data()), key.size()) == 0) {
        out[size_t(i)] = MpView(v);
        --missing;
        break;
      }
    }
    p = mp_skip(v);
  }
}

}  // namespace mg
