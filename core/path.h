// core/path.h — dotted field paths (`address.city`, `tags.0`) and how they reach into documents.
//
// Query semantics (MongoDB's): a component applied to an array reaches into every map element
// of that array; a numeric component also selects that position. `visit_path` reports every
// value reached, and an invalid view for each branch that reaches nothing, so `{f: null}` can
// match a missing field and `$exists` can see absence.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/msgpack.h"

namespace mg {

struct FieldPath {
  std::string dotted;
  std::vector<std::string> parts;
  std::vector<int64_t> positions;  // numeric value of each part, or -1

  // Splits on '.'; an empty path or empty component is BadValue (throws Error).
  static FieldPath parse(std::string_view dotted);
  size_t size() const { return parts.size(); }
};

// Calls fn(view) for each value `path` reaches from map/array `v`, starting at component i;
// fn gets an invalid view for a branch that reaches nothing. A terminal array is reported as
// itself (not expanded): the caller decides about its elements. fn returns true to stop;
// visit_path returns true if it was stopped.
template <class F>
bool visit_path(MpView v, const FieldPath& path, size_t i, F&& fn) {
  if (i == path.size()) return fn(v);
  MpType t = v.type();
  if (t == MpType::Map) {
    MpView c = v.get(path.parts[i]);
    if (!c.valid()) return fn(MpView());
    return visit_path(c, path, i + 1, fn);
  }
  if (t == MpType::Array) {
    int64_t pos = path.positions[i];
    if (pos >= 0) {
      MpView c = v.at(uint32_t(pos));
      if (!c.valid()) return fn(MpView());
      return visit_path(c, path, i + 1, fn);
    }
    bool any = false;
    ArrayIter it(v);
    MpView e;
    while (it.next(e)) {
      if (e.type() != MpType::Map) continue;
      any = true;
      if (visit_path(e, path, i, fn)) return true;
    }
    if (!any) return fn(MpView());
    return false;
  }
  return fn(MpView());
}

// The single value at `path` following maps and numeric positions only (no array fan-out), or
// an invalid view. Used by updates, projections and schemas.
MpView get_path(MpView doc, const FieldPath& path);

}  // namespace mg
