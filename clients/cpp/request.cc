// clients/cpp/request.cc — request bodies, replies and errors of the C++ client.
//
// A Request body is built once, in place, and never copied to add the envelope:
//
//   [5 bytes reserved for the map header][a2 "id"][cf + 8-byte id][a2 "op" op][db?][model?]...
//
// `finish(id)` writes the big-endian id into its slot and the smallest map header that fits
// the pair count right before the first key, so the message starts at `offset()` (4, 2 or 0).
// The id is always a uint64 (0xcf), which MessagePack readers accept whatever its value.
#include <utility>

#include "clients/cpp/client.h"

namespace mg::client {

namespace {

constexpr size_t kHeaderRoom = 5;
constexpr size_t kIdSlot = kHeaderRoom + 3 + 1;  // after "\xa2id" and the 0xcf marker

std::string make_error_map(int code, std::string_view name, std::string_view message) {
  std::string out;
  MpWriter w(out);
  w.map_header(3);
  w.str("code");
  w.integer(code);
  w.str("name");
  w.str(name);
  w.str("message");
  w.str(message);
  return out;
}

}  // namespace

// ---- Error ----

Error::Error(int code, std::string name, std::string message, std::string error_map)
    : std::runtime_error(name + ": " + message),
      code_(code),
      name_(std::move(name)),
      message_(std::move(message)),
      error_map_(std::move(error_map)) {
  if (error_map_.empty()) error_map_ = make_error_map(code_, name_, message_);
}

// ---- Reply ----

bool Reply::ok() const {
  MpView v = get("ok");
  return v.valid() && v.type() == MpType::Bool && v.as_bool();
}

Error Reply::error() const {
  MpView e = get("error");
  if (!e.valid() || e.type() != MpType::Map)
    return Error(1, "InternalError", "reply is not ok and carries no error map");
  MpView code = e.get("code"), name = e.get("name"), message = e.get("message");
  int c = code.valid() && code.type() == MpType::Int ? int(code.as_int()) : 1;
  std::string n =
      name.valid() && name.type() == MpType::Str ? std::string(name.as_str()) : "InternalError";
  std::string m = message.valid() && message.type() == MpType::Str ? std::string(message.as_str())
                                                                   : std::string();
  return Error(c, std::move(n), std::move(m), std::string(e.bytes()));
}

void Reply::check() const {
  if (!ok()) throw error();
}

// ---- Request ----

Request::Request(std::string_view op, std::string_view db, std::string_view model) : op_(op) {
  body_.reserve(64);
  body_.assign(kHeaderRoom, '\0');
  body_.append("\xa2id\xcf", 4);
  body_.append(8, '\0');
  pairs_ = 1;
  arg_str("op", op);
  if (!db.empty()) arg_str("db", db);
  if (!model.empty()) arg_str("model", model);
}

Request Request::from_map(std::string_view body) {
  ValidateOptions vo;
  vo.max_depth = 110;  // the daemon enforces the document limits itself
  vo.max_bytes = 0;
  Status st = validate(body, vo);
  if (!st.ok()) throw Error(int(st.code), std::string(error_name(st.code)), st.message);
  Request r("");
  r.body_.resize(kIdSlot + 8);  // drop the empty "op" the constructor added: keep the id slot
  r.pairs_ = 1;
  r.op_.clear();
  MapIter it{MpView(body)};
  std::string_view key;
  MpView value;
  while (it.next(key, value)) {
    if (key == "id") continue;
    if (key == "op" && value.type() == MpType::Str) r.op_ = value.as_str();
    r.arg(key, value.bytes());
  }
  return r;
}

void Request::add_key(std::string_view key) {
  MpWriter(body_).str(key);
  ++pairs_;
}

Request& Request::arg(std::string_view key, std::string_view encoded) {
  add_key(key);
  body_.append(encoded);
  return *this;
}

Request& Request::arg_int(std::string_view key, int64_t v) {
  add_key(key);
  MpWriter(body_).integer(v);
  return *this;
}

Request& Request::arg_bool(std::string_view key, bool v) {
  add_key(key);
  MpWriter(body_).boolean(v);
  return *this;
}

Request& Request::arg_str(std::string_view key, std::string_view v) {
  add_key(key);
  MpWriter(body_).str(v);
  return *this;
}

Request& Request::arg_double(std::string_view key, double v) {
  add_key(key);
  MpWriter(body_).float64(v);
  return *this;
}

Request& Request::arg_array(std::string_view key, const std::vector<std::string>& items) {
  add_key(key);
  size_t total = 0;
  for (const auto& item : items) total += item.size();
  body_.reserve(body_.size() + total + 5);
  MpWriter w(body_);
  w.array_header(uint32_t(items.size()));
  for (const auto& item : items) w.raw(item);
  return *this;
}

Request& Request::arg_if(std::string_view key, std::string_view encoded) {
  if (!encoded.empty()) arg(key, encoded);
  return *this;
}

std::string& Request::finish(uint64_t id) {
  for (int i = 0; i < 8; ++i) body_[kIdSlot + i] = char(id >> (56 - 8 * i));
  if (pairs_ < 16) {
    offset_ = 4;
    body_[4] = char(0x80 | pairs_);
  } else if (pairs_ <= 0xffff) {
    offset_ = 2;
    body_[2] = char(0xde);
    body_[3] = char(pairs_ >> 8);
    body_[4] = char(pairs_ & 0xff);
  } else {
    offset_ = 0;
    body_[0] = char(0xdf);
    for (int i = 0; i < 4; ++i) body_[1 + i] = char(pairs_ >> (24 - 8 * i));
  }
  return body_;
}

}  // namespace mg::client
