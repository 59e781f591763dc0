#include "protocol/reply.h"

namespace mg {

ReplyWriter::ReplyWriter(std::string_view id, uint32_t nfields, size_t reserve) : w_(buf_) {
  buf_.reserve(reserve + id.size() + 16);
  w_.map_header(nfields + 1 + (id.empty() ? 0 : 1));
  if (!id.empty()) {
    w_.str("id");
    w_.raw(id);
  }
  w_.str("ok");
  w_.boolean(true);
}

std::string ok_reply(std::string_view id) { return ReplyWriter(id, 0).take(); }

std::string error_reply(std::string_view id, const Status& s) {
  std::string out;
  MpWriter w(out);
  w.map_header(id.empty() ? 2 : 3);
  if (!id.empty()) {
    w.str("id");
    w.raw(id);
  }
  w.str("ok");
  w.boolean(false);
  w.str("error");
  uint32_t n = 3 + (s.index >= 0) + (!s.key_pattern.empty()) + (!s.key_value.empty()) +
               (!s.errors.empty());
  w.map_header(n);
  w.str("code");
  w.integer(int64_t(s.code));
  w.str("name");
  w.str(error_name(s.code));
  w.str("message");
  w.str(s.message);
  if (s.index >= 0) {
    w.str("index");
    w.integer(s.index);
  }
  if (!s.key_pattern.empty()) {
    w.str("keyPattern");
    w.raw(s.key_pattern);
  }
  if (!s.key_value.empty()) {
    w.str("keyValue");
    w.raw(s.key_value);
  }
  if (!s.errors.empty()) {
    w.str("errors");
    w.array_header(uint32_t(s.errors.size()));
    for (auto& e : s.errors) {
      w.map_header(2);
      w.str("path");
      w.str(e.path);
      w.str("reason");
      w.str(e.reason);
    }
  }
  return out;
}

}  // namespace mg
