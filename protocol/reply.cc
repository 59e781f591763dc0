#include "protocol/reply.h"

namespace mg {

namespace {
// Error messages quote client input (names, paths); a reply must still be valid UTF-8 for
// strict decoders, so invalid sequences become U+FFFD.
std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    auto c = uint8_t(in[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = n > 0 && i + n <= in.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (uint8_t(in[i + k]) & 0xc0) == 0x80;
    if (ok && n == 2) ok = c >= 0xc2;  // no overlong 2-byte forms
    if (ok && n == 3) {
      uint32_t cp =
          (c & 0x0f) << 12 | (uint8_t(in[i + 1]) & 0x3f) << 6 | (uint8_t(in[i + 2]) & 0x3f);
      ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
    }
    if (ok && n == 4) {
      uint32_t cp = (c & 0x07) << 18 | (uint8_t(in[i + 1]) & 0x3f) << 12 |
                    (uint8_t(in[i + 2]) & 0x3f) << 6 | (uint8_t(in[i + 3]) & 0x3f);
      ok = cp >= 0x10000 && cp <= 0x10ffff;
    }
    if (ok) {
      out.append(in.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}
}  // namespace

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

std::string ok_reply(std::string_view id) {
  return ReplyWriter(id, 0).take();
}

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
  uint32_t n =
      3 + (s.index >= 0) + (!s.key_pattern.empty()) + (!s.key_value.empty()) + (!s.errors.empty());
  w.map_header(n);
  w.str("code");
  w.integer(int64_t(s.code));
  w.str("name");
  w.str(error_name(s.code));
  w.str("message");
  w.str(valid_utf8(s.message));
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
      w.str(valid_utf8(e.path));
      w.str("reason");
      w.str(valid_utf8(e.reason));
    }
  }
  return out;
}

}  // namespace mg
