#include "protocol/envelope.h"

#include <string>

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

// Strict check of every top-level value but `id` (which is echoed as given, whatever it is).
static Status check_arguments(MpView body) {
  ValidateOptions strict;
  strict.max_depth = kMaxRequestDepth - 1;
  strict.require_map = false;
  strict.max_bytes = 0;
  MapIter it(body);
  std::string_view key;
  MpView value;
  while (it.next(key, value)) {
    if (key == "id") continue;
    Status s = validate(value.bytes(), strict);
    if (!s.ok()) {
      s.message += " (in '" + std::string(key.substr(0, 64)) + "')";
      return s;
    }
  }
  return Status::OK();
}

Status parse_envelope(std::string_view bytes, Envelope& out) {
  out = Envelope();
  if (bytes.empty() || MpView(bytes).type() != MpType::Map)
    return make_status(ErrorCode::FailedToParse, "the request body must be a MessagePack map");
  // First the structure only, to find `id` so that every later error can echo it.
  if (Status s = check_structure(bytes); !s.ok()) return s;
  out.body = MpView(bytes);
  MpView id = out.body.get("id");  // safe once well-formed: a non-string key reads as ""
  if (id.valid()) out.id = id.bytes();
  const uint8_t* q = out.body.first();
  for (uint32_t i = 0; i < out.body.count(); ++i) {
    MpView k(q);
    if (k.type() != MpType::Str)
      return make_status(ErrorCode::BadValue, "the request map's keys must be strings");
    q = MpView(k.end()).end();
  }
  if (Status a = check_arguments(out.body); !a.ok()) return a;
  MpView op = out.body.get("op");
  if (!op.valid()) return make_status(ErrorCode::BadValue, "the request has no 'op'");
  if (op.type() != MpType::Str)
    return make_status(ErrorCode::TypeMismatch, "'op' must be a string");
  out.op = op.as_str();
  MpView db = out.body.get("db");
  if (db.valid() && db.type() != MpType::Nil) {
    if (db.type() != MpType::Str)
      return make_status(ErrorCode::TypeMismatch, "'db' must be a string");
    out.db = db.as_str();
  }
  if (Status n = check_name("database", out.db); !n.ok()) return n;
  MpView model = out.body.get("model");
  if (model.valid() && model.type() != MpType::Nil) {
    if (model.type() != MpType::Str)
      return make_status(ErrorCode::TypeMismatch, "'model' must be a string");
    out.model = model.as_str();
    if (Status n = check_name("model", out.model); !n.ok()) return n;
  }
  return Status::OK();
}

void read_checked_envelope(std::string_view bytes, Envelope& out) {
  out = Envelope();
  out.body = MpView(bytes);
  auto str = [&](const char* key, std::string_view& field) {
    MpView v = out.body.get(key);
    if (v.valid() && v.type() == MpType::Str) field = v.as_str();
  };
  MpView id = out.body.get("id");
  if (id.valid()) out.id = id.bytes();
  str("op", out.op);
  str("db", out.db);
  str("model", out.model);
}

}  // namespace mg
