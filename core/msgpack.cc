#include "core/msgpack.h"

#include "core/msgpack_lead.h"

#include <absl/container/inlined_vector.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace mg {

using mp_detail::be16;
using mp_detail::be32;
using mp_detail::be64;

const char* mp_type_name(MpType t) {
  switch (t) {
    case MpType::Nil:
      return "null";
    case MpType::Bool:
      return "bool";
    case MpType::Int:
      return "int";
    case MpType::Float:
      return "float";
    case MpType::Str:
      return "string";
    case MpType::Bin:
      return "binary";
    case MpType::Array:
      return "array";
    case MpType::Map:
      return "object";
    case MpType::Date:
      return "date";
  }
  return "unknown";
}

// False on int64 overflow (then *ms is meaningless).
static bool date_millis(const Date& d, int64_t* ms) {
  int64_t sec = d.sec, frac = int64_t(d.nsec / 1000000);
  // Before 1970 with a fraction, borrow a second, so that the product stays in range for the
  // earliest representable date (int64 min ms = -9223372036854776 s + 192 ms).
  if (sec < 0 && frac > 0) ++sec, frac -= 1000;
  return !__builtin_mul_overflow(sec, int64_t(1000), ms) && !__builtin_add_overflow(*ms, frac, ms);
}

int64_t Date::millis() const {
  int64_t ms;
  if (date_millis(*this, &ms)) return ms;
  return sec < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
}

bool Date::fits_millis() const {
  int64_t ms;
  return date_millis(*this, &ms);
}

Date Date::from_millis(int64_t ms) {
  Date d;
  d.sec = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    d.sec -= 1;
  }
  d.nsec = uint32_t(rem) * 1000000u;
  return d;
}

Date Date::now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  Date d;
  d.sec = ns / 1000000000;
  d.nsec = uint32_t(ns % 1000000000);
  d.nsec -= d.nsec % 1000000;  // millisecond precision, as stored by every backend
  return d;
}

double MpView::as_double() const {
  if (*p_ == 0xca) {
    uint32_t u = be32(p_ + 1);
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  if (*p_ == 0xcb) {
    uint64_t u = be64(p_ + 1);
    double d;
    std::memcpy(&d, &u, 8);
    return d;
  }
  return double(as_int());
}

Date MpView::as_date() const {
  Date d;
  const uint8_t* q;
  size_t len;
  switch (*p_) {
    case 0xd6:
      q = p_ + 2, len = 4;
      break;
    case 0xd7:
      q = p_ + 2, len = 8;
      break;
    case 0xc7:
      q = p_ + 3, len = p_[1];
      break;
    default:
      return d;
  }
  if (len == 4) {
    d.sec = be32(q);
  } else if (len == 8) {
    uint64_t v = be64(q);
    d.nsec = uint32_t(v >> 34);
    d.sec = int64_t(v & 0x3ffffffffull);
  } else {
    d.nsec = be32(q);
    d.sec = int64_t(be64(q + 4));
  }
  return d;
}

size_t MpView::byte_size() const {
  // Iterative skip: `pending` counts values still to pass over.
  const uint8_t* p = p_;
  uint64_t pending = 1;
  while (pending > 0) {
    uint8_t b = *p;
    --pending;
    if ((b & 0xf0) == 0x80) {
      pending += 2u * (b & 0x0f);
    } else if ((b & 0xf0) == 0x90) {
      pending += (b & 0x0f);
    } else if (b == 0xdc) {
      pending += be16(p + 1);
    } else if (b == 0xdd) {
      pending += be32(p + 1);
    } else if (b == 0xde) {
      pending += 2u * be16(p + 1);
    } else if (b == 0xdf) {
      pending += 2ull * be32(p + 1);
    }
    p += mp_head_size(p);
  }
  return size_t(p - p_);
}

namespace {

using mp_lead::kLead;
using mp_lead::Lead;

// The size of a scalar the validator accepts after a bounds check alone (fixed-size ints and
// floats in range, fixstr, nil, bool), by lead byte; 0 for every other lead byte (containers,
// sized strings and bins, uint64, extensions, 0xc1).
constexpr std::array<uint8_t, 256> make_simple_table() {
  std::array<uint8_t, 256> t{};
  for (int b = 0; b < 256; ++b)
    if (kLead[b].kind == Lead::Fixed) t[b] = kLead[b].size;
  t[0xcf] = 0;                                  // uint64: its range is checked
  for (int b = 0xd4; b <= 0xd8; ++b) t[b] = 0;  // fixext: the type is checked
  return t;
}

constexpr std::array<uint8_t, 256> kSimple = make_simple_table();

inline uint64_t read_be(const uint8_t* p, int bytes) {
  return bytes == 1 ? p[0] : bytes == 2 ? be16(p) : be32(p);
}

}  // namespace

const uint8_t* mp_skip(const uint8_t* p) {
  const Lead& lead = kLead[*p];
  return lead.kind == Lead::Fixed ? p + lead.size : MpView(p).end();
}

MpView MpView::get(std::string_view key) const {
  // Hot in every index and schema lookup: fixstr keys (nearly all of them) and the common
  // fixed-size scalar values are stepped over without the generic decoders.
  const uint8_t* p = first();
  for (uint32_t n = count(); n > 0; --n) {
    uint8_t b = *p;
    const uint8_t* v;
    if ((b & 0xe0) == 0xa0) {
      size_t len = b & 0x1f;
      v = p + 1 + len;
      if (len == key.size() && bytes_equal(p + 1, key.data(), len)) return MpView(v);
    } else {
      MpView k(p);
      v = k.end();
      if (k.as_str() == key) return MpView(v);
    }
    p = mp_skip(v);
  }
  return MpView();
}

MpView MpView::at(uint32_t i) const {
  if (i >= count()) return MpView();
  ArrayIter it(*this);
  MpView v;
  for (uint32_t j = 0; j <= i; ++j) it.next(v);
  return v;
}

std::string_view field_name_problem(std::string_view name) {
  if (name.empty()) return "field names must not be empty";
  if (name[0] == '$') return "field names must not start with '$'";
  if (name.find('.') != std::string_view::npos) return "field names must not contain '.'";
  if (name.find('\0') != std::string_view::npos) return "field names must not contain NUL";
  return {};
}

namespace {

constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;

// True when none of the first n (1..8) bytes of x (little-endian: first byte lowest) is 00 or
// '.' (the bytes past n are ignored).
inline bool no_nul_or_dot(uint64_t x, size_t n) {
  if (n < 8) x |= ~uint64_t(0) << (8 * n);  // bytes past the name: 0xff, neither 00 nor '.'
  uint64_t dots = x ^ (kOnes * '.');
  return !((((x - kOnes) & ~x) | ((dots - kOnes) & ~dots)) & kHighs);
}

// True for a non-empty field name without '$' first, '.' or NUL (the common case), read eight
// bytes at a time while the buffer, which ends at `end`, has eight to read.
inline bool plain_name(std::string_view k, const uint8_t* end) {
  auto* q = reinterpret_cast<const uint8_t*>(k.data());
  size_t n = k.size();
  if (n - 1 < 8 && size_t(end - q) >= 8) {  // 1 to 8 bytes, one word (the usual name)
    uint64_t x;
    std::memcpy(&x, q, 8);
    return uint8_t(x) != '$' && no_nul_or_dot(x, n);
  }
  if (k.empty() || k[0] == '$') return false;
  while (n > 0 && size_t(end - q) >= 8) {
    uint64_t x;
    std::memcpy(&x, q, 8);
    if (!no_nul_or_dot(x, n)) return false;
    size_t step = n < 8 ? n : 8;
    q += step, n -= step;
  }
  for (; n > 0; --n, ++q)
    if (*q == '.' || *q == '\0') return false;
  return true;
}

// A fast yes for the usual document: true when `bytes` is certainly valid under `opts` — a
// map of fixstr keys with plain names whose values are simple scalars (kSimple), strings or
// bins of up to 64 KiB, or dates in the 4- or 8-byte timestamp form. False means only "not
// this shape": the Validator then decides, and words any error.
// flat_document_end: the end of such a document at the start of `bytes` (which may go on past
// it), or null when the value there is not of that shape or is larger than opts.max_bytes.
const uint8_t* flat_document_end(std::string_view bytes, const ValidateOptions& opts) {
  auto* start = reinterpret_cast<const uint8_t*>(bytes.data());
  auto* p = start;
  const uint8_t* end = p + bytes.size();
  if (bytes.empty() || opts.max_depth < 1) return nullptr;
  uint32_t n;
  uint8_t h = *p;
  if ((h & 0xf0) == 0x80) {
    n = h & 0x0f, p += 1;
  } else if (h == 0xde && bytes.size() >= 3) {
    n = be16(p + 1), p += 3;
  } else {
    return nullptr;
  }
  for (; n > 0; --n) {
    // The key: a fixstr followed by at least the value's lead byte.
    if (p >= end || (*p & 0xe0) != 0xa0) return nullptr;
    size_t len = *p & 0x1f;
    if (size_t(end - p) < len + 2) return nullptr;
    std::string_view key(reinterpret_cast<const char*>(p + 1), len);
    p += 1 + len;
    if (opts.document_names && !plain_name(key, end)) return nullptr;
    uint8_t b = *p;
    size_t left = size_t(end - p), size = kSimple[b];
    if (size == 0) {
      if (b == 0xd9 || b == 0xc4) {  // str 8, bin 8
        size = left >= 2 ? 2 + size_t(p[1]) : SIZE_MAX;
      } else if (b == 0xda || b == 0xc5) {  // str 16, bin 16
        size = left >= 3 ? 3 + size_t(be16(p + 1)) : SIZE_MAX;
      } else if ((b == 0xd6 || b == 0xd7) && left >= 2 && p[1] == 0xff) {  // timestamp 32/64
        size = b == 0xd6 ? 6 : 10;
        // 32-bit seconds always fit; the 64-bit form's 34-bit seconds too, so only its
        // nanoseconds (the upper 30 bits) need a look.
        if (b == 0xd7 && (left < 10 || (be32(p + 2) >> 2) >= 1000000000u)) return nullptr;
      } else {
        return nullptr;
      }
    }
    if (left < size) return nullptr;
    p += size;
  }
  if (opts.max_bytes && size_t(p - start) > opts.max_bytes) return nullptr;
  return p;
}

bool flat_document_ok(std::string_view bytes, const ValidateOptions& opts) {
  if (opts.max_bytes && bytes.size() > opts.max_bytes) return false;
  return flat_document_end(bytes, opts) ==
         reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size();
}

struct Validator {
  const uint8_t* p;
  const uint8_t* end;
  const ValidateOptions& opts;
  // The path to the current value, built into text only for an error message.
  struct Segment {
    std::string_view key;
    uint32_t index;
  };
  absl::InlinedVector<Segment, 8> path;  // no allocation for the usual depths

  [[noreturn]] void truncated() {
    fail(ErrorCode::FailedToParse, "malformed MessagePack: truncated value" + where());
  }
  // " at 'a.b.0'" for the first `n` segments of the path (all by default).
  std::string where(size_t n = SIZE_MAX) const {
    n = std::min(n, path.size());
    if (n == 0) return "";
    std::string p;
    for (size_t i = 0; i < n; ++i) {
      const Segment& seg = path[i];
      if (!p.empty()) p += '.';
      if (seg.key.data())
        p.append(seg.key.substr(0, 256));
      else
        p += std::to_string(seg.index);
    }
    return " at '" + p + "'";
  }
  void need(size_t n) {
    if (size_t(end - p) < n) truncated();
  }

  // Scalars that need no further checks: one byte, or a fixstr / float64 / small int whose
  // length is in the first byte. Returns false for everything else.
  bool simple_scalar() {
    size_t n = kSimple[*p];
    if (n == 0) return false;
    need(n);
    p += n;
    return true;
  }

  void value(int depth) {
    need(1);
    if (simple_scalar()) return;
    // Containers at depth 0..max_depth-1: max_depth levels of nesting at most.
    if (depth >= opts.max_depth)
      fail(ErrorCode::BadValue,
           "nesting deeper than " + std::to_string(opts.max_depth) + " levels" + where());
    need(1);
    uint8_t b = *p;
    if (b == 0xc1) fail(ErrorCode::FailedToParse, "malformed MessagePack: byte 0xc1" + where());
    if (b == 0xcf) {
      need(9);
      if (be64(p + 1) > uint64_t(INT64_MAX))
        fail(ErrorCode::BadValue, "integer out of the int64 range" + where());
    }
    if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8)) return ext();
    bool is_map = (b & 0xf0) == 0x80 || b == 0xde || b == 0xdf;
    bool is_arr = (b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd;
    size_t h = 1;
    if (b == 0xdc || b == 0xde) h = 3;
    if (b == 0xdd || b == 0xdf) h = 5;
    if (is_map || is_arr) {
      need(h);
      uint32_t n = MpView(p).count();
      p += h;
      if (is_map) return map(n, depth);
      return array(n, depth);
    }
    // scalar: head_size reads at most 5 header bytes, make sure they exist first
    need(b == 0xc6 || b == 0xdb ? 5
                                : (b == 0xc5 || b == 0xda ? 3 : (b == 0xc4 || b == 0xd9 ? 2 : 1)));
    size_t s = mp_head_size(p);
    need(s);
    p += s;
  }

  void ext() {
    uint8_t b = *p;
    size_t len, hdr;
    if (b >= 0xd4 && b <= 0xd8) {
      len = size_t(1) << (b - 0xd4);
      hdr = 2;
    } else {
      need(b == 0xc7 ? 2 : (b == 0xc8 ? 3 : 5));
      len = b == 0xc7 ? p[1] : (b == 0xc8 ? be16(p + 1) : be32(p + 1));
      hdr = b == 0xc7 ? 3 : (b == 0xc8 ? 4 : 6);
    }
    need(hdr + len);
    int8_t type = int8_t(p[hdr - 1]);
    if (type != -1)
      fail(ErrorCode::BadValue, "MessagePack extension type " + std::to_string(type) +
                                    " is not supported (only the timestamp extension, type -1)" +
                                    where());
    // Accept exactly the three encodings of the timestamp spec.
    bool ok = (b == 0xd6 && len == 4) || (b == 0xd7 && len == 8) || (b == 0xc7 && len == 12);
    if (!ok) fail(ErrorCode::BadValue, "malformed timestamp extension" + where());
    Date d = MpView(p).as_date();
    if (d.nsec >= 1000000000u)
      fail(ErrorCode::BadValue, "timestamp nanoseconds out of range" + where());
    if (!d.fits_millis())
      fail(ErrorCode::BadValue,
           "date out of range: seconds " + std::to_string(d.sec) +
               " do not fit in 64-bit milliseconds since 1970 (about ±292 million years)" +
               where());
    p += hdr + len;
  }

  // Refuses a field name that plain_name rejected, if field_name_problem agrees.
  void bad_name(std::string_view key) {
    std::string_view problem = field_name_problem(key);
    if (!problem.empty())
      fail(ErrorCode::BadValue, std::string(problem) + ": '" + std::string(key.substr(0, 64)) +
                                    "'" + where(path.size() - 1));
  }

  void array(uint32_t n, int depth) {
    path.push_back(Segment{{}, 0});
    for (uint32_t i = 0; i < n; ++i) {
      if (p >= end) truncated();
      path.back().index = i;
      value(depth + 1);
    }
    path.pop_back();
  }

  void map(uint32_t n, int depth) {
    path.push_back(Segment{{}, 0});
    for (uint32_t i = 0; i < n; ++i) {
      need(1);
      uint8_t b = *p;
      if ((b & 0xe0) == 0xa0) {  // fixstr key, nearly all of them: checked in place
        size_t len = b & 0x1f;
        need(1 + len);
        std::string_view key(reinterpret_cast<const char*>(p + 1), len);
        p += 1 + len;
        if (opts.document_names && !plain_name(key, end)) bad_name(key);
        path.back().key = key.empty() ? std::string_view("", 0) : key;
        if (p >= end) truncated();
        if (!simple_scalar()) value(depth + 1);
        continue;
      }
      MpView k(p);
      bool is_str = (b >= 0xa0 && b <= 0xbf) || b == 0xd9 || b == 0xda || b == 0xdb;
      if (!is_str) fail(ErrorCode::BadValue, "map keys must be strings" + where(path.size() - 1));
      value(depth + 1);  // bounds-checks the key
      std::string_view key = k.as_str();
      if (opts.document_names && !plain_name(key, end)) bad_name(key);
      path.back().key = key.empty() ? std::string_view("", 0) : key;
      if (p >= end) truncated();
      value(depth + 1);
    }
    path.pop_back();
  }
};

}  // namespace

namespace {
// The walk of check_structure over the one value at the start of [p, end): sets `used` to its
// size, or fails (FailedToParse) when it does not fit in the bytes.
Status walk_structure(const uint8_t* p, const uint8_t* end, std::vector<const uint8_t*>* top_items,
                      size_t& used) {
  const uint8_t* start = p;
  auto bad = [](const char* why) {
    return make_status(ErrorCode::FailedToParse, std::string("malformed MessagePack: ") + why);
  };
  if (top_items) top_items->clear();
  uint64_t pending = 1;  // values still to pass over
  // Items of the root container not yet reached: `pending` equals it exactly when the walk
  // stands at the start of one of them (nested values add to `pending` until they end).
  uint64_t top_left = 0;
  bool root = true;
  while (pending > 0) {
    if (p >= end) return bad("truncated value");
    if (top_items && !root && pending == top_left) {
      top_items->push_back(p);
      --top_left;
    }
    const Lead& lead = kLead[*p];
    --pending;
    size_t left = size_t(end - p), size = lead.size;
    if (left < size) return bad("truncated value");
    switch (lead.kind) {
      case Lead::Fixed:
        break;
      case Lead::Sized:
        size += read_be(p + 1, lead.len_bytes);
        if (left < size) return bad("truncated value");
        break;
      case Lead::Array:
      case Lead::Map: {
        uint64_t n = lead.len_bytes ? read_be(p + 1, lead.len_bytes) : (*p & 0x0f);
        pending += lead.kind == Lead::Map ? 2 * n : n;
        if (pending > left) return bad("truncated container");  // >= 1 byte each
        if (root) top_left = pending;
        break;
      }
      case Lead::Bad:
        return bad("byte 0xc1");
    }
    root = false;
    p += size;
  }
  used = size_t(p - start);
  return Status::OK();
}
}  // namespace

Status check_structure(std::string_view bytes, std::vector<const uint8_t*>* top_items) {
  auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t used = 0;
  if (Status s = walk_structure(p, p + bytes.size(), top_items, used); !s.ok()) return s;
  if (used != bytes.size())
    return make_status(ErrorCode::FailedToParse,
                       "malformed MessagePack: trailing bytes after the value");
  return Status::OK();
}

Status check_structure_prefix(std::string_view bytes, size_t& used) {
  auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  used = 0;
  return walk_structure(p, p + bytes.size(), nullptr, used);
}

namespace {
Status validate_value(std::string_view bytes, const ValidateOptions& opts, bool whole,
                      size_t& used) {
  return guard([&]() -> Status {
    if (whole && opts.max_bytes && bytes.size() > opts.max_bytes)
      return make_status(ErrorCode::DocumentTooLarge,
                         "document of " + std::to_string(bytes.size()) + " bytes exceeds the " +
                             std::to_string(opts.max_bytes) + "-byte limit");
    if (bytes.empty()) return make_status(ErrorCode::FailedToParse, "empty MessagePack value");
    auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    Validator v{p, p + bytes.size(), opts, {}};
    if (opts.require_map && MpView(p).type() != MpType::Map)
      return make_status(ErrorCode::FailedToParse, "expected a MessagePack map");
    v.value(0);
    used = size_t(v.p - p);
    if (whole && v.p != v.end)
      return make_status(ErrorCode::FailedToParse, "trailing bytes after the MessagePack value");
    if (!whole && opts.max_bytes && used > opts.max_bytes)
      return make_status(ErrorCode::DocumentTooLarge,
                         "document of " + std::to_string(used) + " bytes exceeds the " +
                             std::to_string(opts.max_bytes) + "-byte limit");
    return Status::OK();
  });
}
}  // namespace

Status validate(std::string_view bytes, const ValidateOptions& opts) {
  if (opts.require_map && flat_document_ok(bytes, opts)) return Status::OK();
  size_t used = 0;
  return validate_value(bytes, opts, true, used);
}

Status validate_prefix(std::string_view bytes, const ValidateOptions& opts, size_t& used) {
  if (opts.require_map) {
    if (const uint8_t* e = flat_document_end(bytes, opts)) {
      used = size_t(e - reinterpret_cast<const uint8_t*>(bytes.data()));
      return Status::OK();
    }
  }
  return validate_prefix_full(bytes, opts, used);
}

Status validate_prefix_full(std::string_view bytes, const ValidateOptions& opts, size_t& used) {
  used = 0;
  return validate_value(bytes, opts, false, used);
}

namespace {
// Appends a type byte and `bytes` big-endian bytes of v in one append.
void append_tagged(std::string& out, uint8_t tag, uint64_t v, int bytes) {
  char b[9];
  b[0] = char(tag);
  for (int i = 0; i < bytes; ++i) b[1 + i] = char((v >> (8 * (bytes - 1 - i))) & 0xff);
  out.append(b, size_t(1 + bytes));
}
}  // namespace

void MpWriter::integer(int64_t v) {
  if (v >= 0) {
    if (v <= 0x7f) {
      out_.push_back(char(v));
    } else if (v <= 0xff) {
      append_tagged(out_, 0xcc, uint64_t(v), 1);
    } else if (v <= 0xffff) {
      append_tagged(out_, 0xcd, uint64_t(v), 2);
    } else if (v <= 0xffffffffll) {
      append_tagged(out_, 0xce, uint64_t(v), 4);
    } else {
      append_tagged(out_, 0xd3, uint64_t(v), 8);
    }
  } else {
    if (v >= -32) {
      out_.push_back(char(int8_t(v)));
    } else if (v >= INT8_MIN) {
      append_tagged(out_, 0xd0, uint64_t(v), 1);
    } else if (v >= INT16_MIN) {
      append_tagged(out_, 0xd1, uint64_t(v), 2);
    } else if (v >= INT32_MIN) {
      append_tagged(out_, 0xd2, uint64_t(v), 4);
    } else {
      append_tagged(out_, 0xd3, uint64_t(v), 8);
    }
  }
}

void MpWriter::float64(double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  append_tagged(out_, 0xcb, u, 8);
}

void MpWriter::str(std::string_view s) {
  size_t n = s.size();
  if (n <= 31) {
    out_.push_back(char(0xa0 | n));
  } else if (n <= 0xff) {
    append_tagged(out_, 0xd9, n, 1);
  } else if (n <= 0xffff) {
    append_tagged(out_, 0xda, n, 2);
  } else {
    append_tagged(out_, 0xdb, n, 4);
  }
  out_.append(s);
}

void MpWriter::bin(std::string_view b) {
  size_t n = b.size();
  if (n <= 0xff) {
    append_tagged(out_, 0xc4, n, 1);
  } else if (n <= 0xffff) {
    append_tagged(out_, 0xc5, n, 2);
  } else {
    append_tagged(out_, 0xc6, n, 4);
  }
  out_.append(b);
}

void MpWriter::date(Date d) {
  // Each form in one append: a type byte, the extension type -1, the big-endian payload.
  char b[15];
  auto be = [&b](int at, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b[at + i] = char((v >> (8 * (bytes - 1 - i))) & 0xff);
  };
  if (d.sec >= 0 && (d.sec >> 34) == 0) {
    if (d.nsec == 0 && d.sec <= 0xffffffffll) {
      b[0] = char(0xd6), b[1] = char(-1), be(2, uint64_t(d.sec), 4);
      out_.append(b, 6);
    } else {
      b[0] = char(0xd7), b[1] = char(-1), be(2, uint64_t(d.nsec) << 34 | uint64_t(d.sec), 8);
      out_.append(b, 10);
    }
  } else {
    b[0] = char(0xc7), b[1] = char(12), b[2] = char(-1);
    be(3, d.nsec, 4), be(7, uint64_t(d.sec), 8);
    out_.append(b, 15);
  }
}

void MpWriter::array_header(uint32_t n) {
  if (n <= 15) {
    out_.push_back(char(0x90 | n));
  } else if (n <= 0xffff) {
    append_tagged(out_, 0xdc, n, 2);
  } else {
    append_tagged(out_, 0xdd, n, 4);
  }
}

void MpWriter::map_header(uint32_t n) {
  if (n <= 15) {
    out_.push_back(char(0x80 | n));
  } else if (n <= 0xffff) {
    append_tagged(out_, 0xde, n, 2);
  } else {
    append_tagged(out_, 0xdf, n, 4);
  }
}

}  // namespace mg
