#include "core/top_fields.h"

#include <algorithm>
#include <cstring>

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
          bytes_equal(name.data(), key.data(), key.size())) {
        out[size_t(i)] = MpView(v);
        --missing;
        break;
      }
    }
    // The usual values inline: a fixstr, or a one-byte scalar; anything else by mp_skip.
    if ((*v & 0xe0) == 0xa0)
      p = v + 1 + (*v & 0x1f);
    else if (*v <= 0x7f || *v >= 0xe0 || *v == 0xc0 || *v == 0xc2 || *v == 0xc3)
      p = v + 1;
    else
      p = mp_skip(v);
  }
}

}  // namespace mg
