#include "protocol/envelope.h"

#include <algorithm>
#include <string>
#include <vector>

namespace mg {

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(n[0])) return false;
  for (char c : n.substr(1))
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '-') return false;
  return true;
}

static Status check_name(std::string_view what, std::string_view name) {
  if (valid_name(name)) return Status::OK();
  std::string shown(name.substr(0, 80));
  return make_status(ErrorCode::BadValue, "invalid " + std::string(what) + " name '" + shown +
                                              "': names must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$");
}

// A well-formed value starting with byte `b` that the strict check cannot refuse: nil, bool,
// every string, binary and float, and every integer but uint64 (which may exceed int64).
static bool always_valid(uint8_t b) {
  return b <= 0x7f || b >= 0xe0 || (b & 0xe0) == 0xa0 || b == 0xc0 || b == 0xc2 || b == 0xc3 ||
         (b >= 0xc4 && b <= 0xc6) || b == 0xca || b == 0xcb || (b >= 0xcc && b <= 0xce) ||
         (b >= 0xd0 && b <= 0xd3) || (b >= 0xd9 && b <= 0xdb);
}

namespace {

Status malformed(const char* why) {
  return make_status(ErrorCode::FailedToParse, std::string("malformed MessagePack: ") + why);
}

bool is_array_lead(uint8_t b) {
  return (b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd;
}

// Whether the value of the last of the body's `pairs` top-level pairs, whose key is `key` and
// lead byte `lead`, is an insertMany's documents left to the engine (Envelope::docs_unchecked):
// an array under the first `docs` key, the first `op` (before it) "insertMany", and no more
// pairs than Envelope's argument table holds (so that no lookup, of a present or an absent
// key, ever walks the body past the unchecked bytes: Envelope::arg answers from the table).
bool docs_left_unchecked(std::string_view key, bool first_docs, bool insert_many, uint8_t lead,
                         uint64_t pairs) {
  return key == "docs" && first_docs && insert_many && is_array_lead(lead) &&
         pairs <= Envelope::kMaxArgs;
}

// The structure of the map `bytes` (its lead byte is a map's), pair by pair: each key's and
// value's start into `items`, each checked as check_structure does, but an insertMany's `docs`
// when it is the last pair (only its array header is checked to be within the bytes).
Status walk_top_level(std::string_view bytes, std::vector<const uint8_t*>& items,
                      bool& docs_unchecked) {
  auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* end = p + bytes.size();
  auto header_size = [](uint8_t b) -> size_t {
    return b == 0xdc || b == 0xde ? 3 : b == 0xdd || b == 0xdf ? 5 : 1;
  };
  size_t h = header_size(*p);
  if (bytes.size() < h) return malformed("truncated value");
  uint64_t n = MpView(p).count();
  if (2 * n > bytes.size() - h) return malformed("truncated container");  // >= 1 byte each
  items.clear();
  p += h;
  bool seen_op = false, insert_many = false, seen_docs = false;
  for (uint64_t i = 0; i < n; ++i) {
    size_t used = 0;
    items.push_back(p);
    if (Status s =
            check_structure_prefix({reinterpret_cast<const char*>(p), size_t(end - p)}, used);
        !s.ok())
      return s;
    MpView key(p);
    std::string_view k = key.type() == MpType::Str ? key.as_str() : std::string_view();
    p += used;
    if (p >= end) return malformed("truncated value");
    items.push_back(p);
    if (i + 1 == n && docs_left_unchecked(k, !seen_docs, insert_many, *p, n) &&
        size_t(end - p) >= header_size(*p)) {
      docs_unchecked = true;
      return Status::OK();
    }
    if (Status s =
            check_structure_prefix({reinterpret_cast<const char*>(p), size_t(end - p)}, used);
        !s.ok())
      return s;
    if (k == "op" && !seen_op) {
      seen_op = true;
      MpView v(p);
      insert_many = v.type() == MpType::Str && v.as_str() == "insertMany";
    }
    seen_docs = seen_docs || k == "docs";
    p += used;
  }
  if (p != end) return malformed("trailing bytes after the value");
  return Status::OK();
}

}  // namespace

Status parse_envelope(std::string_view bytes, Envelope& out) {
  out = Envelope();
  if (bytes.empty() || MpView(bytes).type() != MpType::Map)
    return make_status(ErrorCode::FailedToParse, "the request body must be a MessagePack map");
  // First the structure only, to find `id` so that every later error can echo it. The walk
  // also hands back where each top-level key and value starts: one pass over the body, however
  // large its documents, and none over an insertMany's documents (the engine walks them once,
  // checking them strictly: Envelope::docs_unchecked).
  thread_local std::vector<const uint8_t*> items;
  if (Status s = walk_top_level(bytes, items, out.docs_unchecked); !s.ok()) return s;
  out.body = MpView(bytes);
  out.bytes = bytes;
  auto* body_end = reinterpret_cast<const uint8_t*>(bytes.data() + bytes.size());
  auto value_at = [&](size_t i) {
    const uint8_t* start = items[2 * i + 1];
    const uint8_t* stop = 2 * i + 2 < items.size() ? items[2 * i + 2] : body_end;
    return std::string_view(reinterpret_cast<const char*>(start), size_t(stop - start));
  };
  size_t n = items.size() / 2;
  bool keys_ok = true;
  MpView op, db, model;
  for (size_t i = 0; i < n; ++i) {  // the first occurrence of a key counts, as in MpView::get
    MpView k(items[2 * i]);
    if (k.type() != MpType::Str) {
      keys_ok = false;
      continue;
    }
    std::string_view key = k.as_str();
    MpView v(items[2 * i + 1]);
    if (i < Envelope::kMaxArgs) out.args[i] = {key, items[2 * i + 1]};
    if (key == "id" && out.id.empty()) out.id = value_at(i);
    if (key == "op" && !op.valid()) op = v;
    if (key == "db" && !db.valid()) db = v;
    if (key == "model" && !model.valid()) model = v;
  }
  if (!keys_ok) return make_status(ErrorCode::BadValue, "the request map's keys must be strings");
  out.nargs = uint32_t(n);
  // Strict check of every top-level value but `id` (which is echoed as given, whatever it is).
  // The documents of an insertMany are left to the engine, which validates each of them as
  // strictly (CONTRACT §4, per document) before anything is written: checking them here too
  // would walk the largest bodies twice on the front door's single thread.
  bool insert_many = op.valid() && op.type() == MpType::Str && op.as_str() == "insertMany";
  ValidateOptions strict;
  strict.max_depth = kMaxRequestDepth - 1;
  strict.require_map = false;
  strict.max_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string_view key = MpView(items[2 * i]).as_str();
    if (key == "id" || (insert_many && key == "docs")) continue;
    if (always_valid(*items[2 * i + 1])) continue;  // check_structure has seen its length
    Status s = validate(value_at(i), strict);
    if (!s.ok()) {
      s.message += " (in '" + std::string(key.substr(0, 64)) + "')";
      return s;
    }
  }
  if (!op.valid()) return make_status(ErrorCode::BadValue, "the request has no 'op'");
  if (op.type() != MpType::Str)
    return make_status(ErrorCode::TypeMismatch, "'op' must be a string");
  out.op = op.as_str();
  if (db.valid() && db.type() != MpType::Nil) {
    if (db.type() != MpType::Str)
      return make_status(ErrorCode::TypeMismatch, "'db' must be a string");
    out.db = db.as_str();
  }
  if (Status n = check_name("database", out.db); !n.ok()) return n;
  if (model.valid() && model.type() != MpType::Nil) {
    if (model.type() != MpType::Str)
      return make_status(ErrorCode::TypeMismatch, "'model' must be a string");
    out.model = model.as_str();
    if (Status n = check_name("model", out.model); !n.ok()) return n;
  }
  return Status::OK();
}

Status insert_many_documents(const Envelope& env, MpView docs, const ValidateOptions& opts,
                             std::vector<std::string_view>& out, bool& malformed_body) {
  malformed_body = false;
  auto* first = reinterpret_cast<const char*>(docs.first());
  const char* end = env.bytes.empty()
                        ? reinterpret_cast<const char*>(docs.data()) + docs.bytes().size()
                        : env.bytes.data() + env.bytes.size();
  std::string_view rest(first, size_t(end - first));
  uint32_t n = docs.count();
  out.reserve(out.size() + std::min<size_t>(n, rest.size()));  // >= 1 byte each
  Status s = Status::OK();
  for (uint32_t i = 0; i < n && s.ok(); ++i) {
    if (rest.empty()) {
      s = malformed("truncated container");
    } else if (MpView(reinterpret_cast<const uint8_t*>(rest.data())).type() != MpType::Map) {
      s = make_status(ErrorCode::TypeMismatch, "docs." + std::to_string(i) + " must be a map");
    } else {
      size_t used = 0;
      s = validate_prefix(rest, opts, used);
      if (s.ok()) {
        out.push_back(rest.substr(0, used));
        rest.remove_prefix(used);
        continue;
      }
    }
    s.index = int64_t(i);
  }
  if (s.ok() && env.docs_unchecked && !rest.empty())
    s = malformed("trailing bytes after the value");
  if (s.ok() || !env.docs_unchecked) return s;
  // Unchecked bytes: a body that is not well-formed is refused as the front door would have.
  auto* docs_start = reinterpret_cast<const char*>(docs.data());
  if (Status shape = check_structure({docs_start, size_t(end - docs_start)}); !shape.ok()) {
    malformed_body = true;
    return shape;
  }
  return s;
}

void read_checked_envelope(std::string_view bytes, Envelope& out) {
  out = Envelope();
  out.body = MpView(bytes);
  out.bytes = bytes;
  // One walk over the top-level pairs: the argument table, and the envelope fields (the first
  // occurrence of a key counts, as in MpView::get).
  uint32_t n = out.body.count();
  out.nargs = n;
  const uint8_t* p = out.body.first();
  bool id = false, op = false, db = false, model = false, docs = false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key = MpView(p).as_str();
    const uint8_t* v = mp_skip(p);
    // The last value (often an insertMany's documents) is never stepped over, unless it is
    // the `id`, whose bytes are echoed.
    if (i + 1 < n || key == "id") p = mp_skip(v);
    if (i < Envelope::kMaxArgs) out.args[i] = {key, v};
    auto str = [&](bool& seen, std::string_view& field) {
      if (seen) return;
      seen = true;
      MpView value(v);
      if (value.type() == MpType::Str) field = value.as_str();
    };
    if (i + 1 == n)
      out.docs_unchecked = docs_left_unchecked(key, !docs, op && out.op == "insertMany", *v, n);
    docs = docs || key == "docs";
    if (key == "id" && !id) {
      id = true;
      out.id = std::string_view(reinterpret_cast<const char*>(v), size_t(p - v));
    } else if (key == "op") {
      str(op, out.op);
    } else if (key == "db") {
      str(db, out.db);
    } else if (key == "model") {
      str(model, out.model);
    }
  }
}

}  // namespace mg
