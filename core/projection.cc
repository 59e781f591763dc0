// core/projection.cc — inclusion / exclusion projections over encoded documents.
//
// Design: `compile` turns the projection's dotted paths into a small tree of field names
// (a leaf ends a path) and decides the mode. `apply` walks the encoded document with
// MpView/MapIter, never building a Value: fields outside the tree are copied (exclusion) or
// skipped (inclusion) as raw bytes, leaves are copied or dropped whole, and inner nodes recurse
// into maps and into every element of arrays, as MongoDB does (in an inclusion, scalars met
// where the path needs a map or array are dropped). Each map and array is walked twice: once
// to count what it will hold, so the header is written with its smallest encoding, then to
// copy.
#include "core/projection.h"

#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/path.h"

namespace mg {
namespace {

struct Node {
  bool leaf = false;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> children;

  const Node* find(std::string_view key) const {
    for (const auto& [k, n] : children)
      if (k == key) return n.get();
    return nullptr;
  }
};

// Adds a path to the tree; a path equal to, or a prefix of, or extending another is BadValue.
void insert(Node& root, const FieldPath& p) {
  Node* cur = &root;
  for (size_t i = 0; i < p.size(); ++i) {
    Node* next = const_cast<Node*>(cur->find(p.parts[i]));
    bool last = i + 1 == p.size();
    if (next && (next->leaf || last))
      fail(ErrorCode::BadValue, "projection path collision at '" + p.dotted + "'");
    if (!next) {
      cur->children.emplace_back(p.parts[i], std::make_unique<Node>());
      next = cur->children.back().second.get();
    }
    cur = next;
  }
  cur->leaf = true;
}

bool is_container(MpView v) {
  MpType t = v.type();
  return t == MpType::Map || t == MpType::Array;
}

// Projection values: bool, or a number (non-zero includes).
bool included(std::string_view key, MpView v) {
  switch (v.type()) {
    case MpType::Bool:
      return v.as_bool();
    case MpType::Int:
      return v.as_int() != 0;
    case MpType::Float:
      return v.as_double() != 0;
    case MpType::Map:
      fail(ErrorCode::BadValue,
           "projection operators are not supported (field '" + std::string(key) + "')");
    default:
      fail(ErrorCode::BadValue,
           "projection value for '" + std::string(key) + "' must be 0, 1, true or false");
  }
}

void include_map(MpView m, const Node& n, MpWriter& w);
void exclude_map(MpView m, const Node& n, MpWriter& w);

void include_array(MpView a, const Node& n, MpWriter& w) {
  uint32_t count = 0;
  ArrayIter counter(a);
  MpView e;
  while (counter.next(e)) count += is_container(e);
  w.array_header(count);
  ArrayIter it(a);
  while (it.next(e)) {
    if (e.type() == MpType::Map)
      include_map(e, n, w);
    else if (e.type() == MpType::Array)
      include_array(e, n, w);
  }
}

void include_map(MpView m, const Node& n, MpWriter& w) {
  uint32_t count = 0;
  std::string_view k;
  MpView v;
  MapIter counter(m);
  while (counter.next(k, v)) {
    const Node* c = n.find(k);
    count += c && (c->leaf || is_container(v));
  }
  w.map_header(count);
  MapIter it(m);
  while (it.next(k, v)) {
    const Node* c = n.find(k);
    if (!c || !(c->leaf || is_container(v))) continue;
    w.str(k);
    if (c->leaf)
      w.raw(v);
    else if (v.type() == MpType::Map)
      include_map(v, *c, w);
    else
      include_array(v, *c, w);
  }
}

void exclude_value(MpView v, const Node& n, MpWriter& w);

void exclude_array(MpView a, const Node& n, MpWriter& w) {
  w.array_header(a.count());
  ArrayIter it(a);
  MpView e;
  while (it.next(e)) exclude_value(e, n, w);
}

void exclude_value(MpView v, const Node& n, MpWriter& w) {
  if (v.type() == MpType::Map)
    exclude_map(v, n, w);
  else if (v.type() == MpType::Array)
    exclude_array(v, n, w);
  else
    w.raw(v);
}

void exclude_map(MpView m, const Node& n, MpWriter& w) {
  uint32_t count = 0;
  std::string_view k;
  MpView v;
  MapIter counter(m);
  while (counter.next(k, v)) {
    const Node* c = n.find(k);
    count += !(c && c->leaf);
  }
  w.map_header(count);
  MapIter it(m);
  while (it.next(k, v)) {
    const Node* c = n.find(k);
    if (c && c->leaf) continue;
    w.str(k);
    if (c)
      exclude_value(v, *c, w);
    else
      w.raw(v);
  }
}

class TreeProjection : public Projection {
 public:
  TreeProjection(Node root, bool inclusion, bool identity)
      : root_(std::move(root)), inclusion_(inclusion), identity_(identity) {}
  bool is_identity() const override { return identity_; }
  void apply(MpView doc, std::string& out) const override {
    if (identity_ || doc.type() != MpType::Map) {
      out.append(doc.bytes());
      return;
    }
    MpWriter w(out);
    if (inclusion_)
      include_map(doc, root_, w);
    else
      exclude_map(doc, root_, w);
  }

 private:
  Node root_;
  bool inclusion_;
  bool identity_;
};

FieldPath parse_path(std::string_view key) {
  FieldPath p = FieldPath::parse(key);
  for (const std::string& part : p.parts)
    if (part[0] == '$')
      fail(ErrorCode::BadValue, "projection path '" + p.dotted + "' has a '$' component");
  return p;
}

}  // namespace

std::unique_ptr<Projection> Projection::compile(MpView projection) {
  if (!projection.valid() || (projection.type() == MpType::Map && projection.count() == 0))
    return std::make_unique<TreeProjection>(Node{}, false, true);
  if (projection.type() != MpType::Map)
    fail(ErrorCode::BadValue, "projection must be a map of {field: 0|1}");
  Node root;
  int mode = -1, id = -1;  // -1 unset, 0 exclude, 1 include
  bool id_paths = false;   // "_id.x" paths
  MapIter it(projection);
  std::string_view k;
  MpView v;
  while (it.next(k, v)) {
    bool inc = included(k, v);
    if (k == "_id") {
      id = inc;
      continue;
    }
    if (mode != -1 && mode != int(inc))
      fail(ErrorCode::BadValue,
           "a projection cannot mix inclusion and exclusion (field '" + std::string(k) + "')");
    mode = inc;
    FieldPath p = parse_path(k);
    id_paths |= p.parts[0] == "_id";
    insert(root, p);
  }
  if (mode == -1) mode = id;  // only _id given
  // _id is kept by default: an inclusion lists it unless excluded, an exclusion drops it only
  // when asked.
  if (mode == 1 && id != 0 && !(id == -1 && id_paths)) insert(root, FieldPath::parse("_id"));
  if (mode == 0 && id == 0) insert(root, FieldPath::parse("_id"));
  return std::make_unique<TreeProjection>(std::move(root), mode == 1, false);
}

}  // namespace mg
