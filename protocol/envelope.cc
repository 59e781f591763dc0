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
  return make_status(ErrorCode::BadValue,
                     "invalid " + std::string(what) + " name '" + shown +
                         "': names must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$");
}

Status parse_envelope(std::string_view bytes, Envelope& out) {
  out = Envelope();
  if (bytes.empty() || MpView(bytes).type() != MpType::Map ||
      (static_cast<uint8_t>(bytes[0]) == 0xc1))
    return make_status(ErrorCode::FailedToParse, "the request body must be a MessagePack map");
  ValidateOptions opts;
  opts.max_depth = kMaxRequestDepth;
  opts.max_bytes = 0;
  Status s = validate(bytes, opts);
  if (!s.ok()) return s;  // FailedToParse for malformed bytes, BadValue for limits
  out.body = MpView(bytes);
  MpView id = out.body.get("id");
  if (id.valid()) out.id = id.bytes();
  MpView op = out.body.get("op");
  if (!op.valid()) return make_status(ErrorCode::BadValue, "the request has no 'op'");
  if (op.type() != MpType::Str) return make_status(ErrorCode::TypeMismatch, "'op' must be a string");
  out.op = op.as_str();
  MpView db = out.body.get("db");
  if (db.valid() && db.type() != MpType::Nil) {
    if (db.type() != MpType::Str) return make_status(ErrorCode::TypeMismatch, "'db' must be a string");
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

}  // namespace mg
