#include "core/path.h"

#include <charconv>

#include "core/error.h"

namespace mg {

FieldPath FieldPath::parse(std::string_view dotted) {
  FieldPath p;
  p.dotted = std::string(dotted);
  if (dotted.empty()) fail(ErrorCode::BadValue, "empty field path");
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string_view part = dotted.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty())
      fail(ErrorCode::BadValue, "field path '" + p.dotted + "' has an empty component");
    if (part.find('\0') != std::string_view::npos)
      fail(ErrorCode::BadValue, "field path must not contain NUL");
    p.parts.emplace_back(part);
    int64_t n = -1;
    if (part.size() <= 9 && part.find_first_not_of("0123456789") == std::string_view::npos)
      std::from_chars(part.data(), part.data() + part.size(), n);
    p.positions.push_back(n);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return p;
}

MpView get_path(MpView doc, const FieldPath& path) {
  MpView v = doc;
  for (size_t i = 0; i < path.size(); ++i) {
    MpType t = v.type();
    if (t == MpType::Map) {
      v = v.get(path.parts[i]);
    } else if (t == MpType::Array && path.positions[i] >= 0) {
      v = v.at(uint32_t(path.positions[i]));
    } else {
      return MpView();
    }
    if (!v.valid()) return v;
  }
  return v;
}

}  // namespace mg
