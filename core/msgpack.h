// core/msgpack.h — zero-copy MessagePack reading and a compact writer.
//
// The engine keeps every document as its encoded MessagePack bytes (DESIGN.md decision 1).
// `validate` checks untrusted bytes once (well-formed, depth, allowed types, CONTRACT.md §4);
// after that an `MpView` reads them without bounds checks and without copying.
//
// Types (CONTRACT.md §4): nil, bool, int (int64 range), float (32/64), str, bin, array, map,
// and the timestamp extension (type -1) which is a Date. Any other extension is refused by
// `validate`. A Date is (seconds, nanoseconds) with nanoseconds < 1e9.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace mg {

enum class MpType : uint8_t { Nil, Bool, Int, Float, Str, Bin, Array, Map, Date };

// The name messages use for a type: null, bool, int, float, string, binary, array, object, date.
const char* mp_type_name(MpType t);

// A MessagePack timestamp: seconds since 1970 (any int64) and nanoseconds. Documents hold only
// dates whose milliseconds fit an int64 (about ±292 million years; validate() refuses others),
// since every backend stores a date as its milliseconds.
struct Date {
  int64_t sec = 0;
  uint32_t nsec = 0;
  // Milliseconds since 1970; saturates at the int64 limits for a date outside that range.
  int64_t millis() const;
  // False when millis() would saturate.
  bool fits_millis() const;
  static Date from_millis(int64_t ms);
  static Date now();
  bool operator==(const Date&) const = default;
};

// Equality of two byte strings of n bytes, inline (no libc call): two overlapping loads for up
// to 16 bytes, eight bytes at a time beyond. For the short keys and names of documents.
inline bool bytes_equal(const void* a, const void* b, size_t n) {
  auto* x = static_cast<const unsigned char*>(a);
  auto* y = static_cast<const unsigned char*>(b);
  auto load8 = [](const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  auto load4 = [](const unsigned char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  };
  if (n >= 8) {
    for (; n > 8; n -= 8, x += 8, y += 8)
      if (load8(x) != load8(y)) return false;
    return load8(x + n - 8) == load8(y + n - 8);  // the last eight, overlapping
  }
  if (n >= 4) return load4(x) == load4(y) && load4(x + n - 4) == load4(y + n - 4);
  return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1]);
}

namespace mp_detail {
inline uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t be64(const uint8_t* p) {
  return uint64_t(be32(p)) << 32 | be32(p + 4);
}
}  // namespace mp_detail

// A view of one well-formed (validated) MessagePack value. Does not own the bytes; valid as
// long as the buffer is. All accessors assume the matching type().
class MpView {
 public:
  MpView() = default;
  explicit MpView(const uint8_t* p) : p_(p) {}
  explicit MpView(std::string_view bytes) : p_(reinterpret_cast<const uint8_t*>(bytes.data())) {}

  const uint8_t* data() const { return p_; }
  bool valid() const { return p_ != nullptr; }
  MpType type() const;

  bool as_bool() const { return *p_ == 0xc3; }
  int64_t as_int() const;
  double as_double() const;  // Float, or Int converted
  std::string_view as_str() const { return payload(); }
  std::string_view as_bin() const { return payload(); }
  Date as_date() const;
  bool is_number() const {
    MpType t = type();
    return t == MpType::Int || t == MpType::Float;
  }

  // Number of elements (Array) or pairs (Map).
  uint32_t count() const;
  // Total encoded size of this value in bytes.
  size_t byte_size() const;
  std::string_view bytes() const { return {reinterpret_cast<const char*>(p_), byte_size()}; }
  // Pointer just past this value.
  const uint8_t* end() const;

  // Map lookup by key (linear, first match). Returns an invalid view when absent.
  MpView get(std::string_view key) const;
  // Array element by position, or invalid view.
  MpView at(uint32_t i) const;

  // Iteration: first element pointer of an Array/Map (after the header).
  const uint8_t* first() const;

 private:
  std::string_view payload() const;
  const uint8_t* p_ = nullptr;
};

// Iterates the elements of an Array view.
class ArrayIter {
 public:
  explicit ArrayIter(MpView arr) : p_(arr.first()), left_(arr.count()) {}
  bool next(MpView& out) {
    if (left_ == 0) return false;
    out = MpView(p_);
    p_ = out.end();
    --left_;
    return true;
  }

 private:
  const uint8_t* p_;
  uint32_t left_;
};

// Iterates the (key, value) pairs of a Map view. Keys are strings (validated).
class MapIter {
 public:
  explicit MapIter(MpView map) : p_(map.first()), left_(map.count()) {}
  bool next(std::string_view& key, MpView& value) {
    if (left_ == 0) return false;
    MpView k(p_);
    key = k.as_str();
    value = MpView(k.end());
    p_ = value.end();
    --left_;
    return true;
  }

 private:
  const uint8_t* p_;
  uint32_t left_;
};

struct ValidateOptions {
  int max_depth = 100;
  bool require_map = true;       // the top-level value must be a map
  bool document_names = false;   // apply the field-name rules of §4 to every map key
  size_t max_bytes = 16u << 20;  // DocumentTooLarge above this (0 = no limit)
};

// Checks that [data, data+size) is exactly one well-formed value within the limits.
// Returns BadValue (bad structure, depth, extension type, int out of range, field name),
// DocumentTooLarge, or FailedToParse (truncated / trailing bytes / not a map when required).
// The message names the offending path where there is one.
Status validate(std::string_view bytes, const ValidateOptions& opts = {});
// validate() of the one value at the start of `bytes`, which may go on past it: sets `used`
// to the value's size (e.g. to slice the elements of an array while checking them).
Status validate_prefix(std::string_view bytes, const ValidateOptions& opts, size_t& used);
// validate_prefix() without the fast path for flat documents that validate() and
// validate_prefix() take: every value through the full validator. The reference the tests and
// the fuzzer hold the fast path to; nothing else needs it.
Status validate_prefix_full(std::string_view bytes, const ValidateOptions& opts, size_t& used);

// Checks only that [data, data+size) is exactly one well-formed value, however deeply nested
// (iterative, no recursion): any extension type, any integer. FailedToParse otherwise.
// When `top_items` is given and the value is a container, it receives the start of each of
// its direct items (for a map: key, value, key, value, ...) found on the way: callers then
// walk the top level without skipping over large values a second time.
Status check_structure(std::string_view bytes, std::vector<const uint8_t*>* top_items = nullptr);

// check_structure() of the one value at the start of `bytes`, which may go on past it: sets
// `used` to the value's size. FailedToParse when the value does not fit in `bytes`.
Status check_structure_prefix(std::string_view bytes, size_t& used);

// The end of the well-formed value starting at `p`: one table lookup for fixed-size scalars
// (most values), MpView::end() for the rest.
const uint8_t* mp_skip(const uint8_t* p);

// Checks a single field name against CONTRACT.md §4. Returns the reason or empty.
std::string_view field_name_problem(std::string_view name);

// Appends MessagePack to a std::string, choosing the smallest encoding.
class MpWriter {
 public:
  explicit MpWriter(std::string& out) : out_(out) {}
  void nil() { out_.push_back(char(0xc0)); }
  void boolean(bool b) { out_.push_back(char(b ? 0xc3 : 0xc2)); }
  void integer(int64_t v);
  void float64(double v);
  void str(std::string_view s);
  void bin(std::string_view b);
  void date(Date d);
  void array_header(uint32_t n);
  void map_header(uint32_t n);
  void raw(std::string_view encoded) { out_.append(encoded); }
  void raw(MpView v) { out_.append(v.bytes()); }
  std::string& buffer() { return out_; }

 private:
  std::string& out_;
};

// ---- inline hot paths ----

using mp_detail::be16;
using mp_detail::be32;
using mp_detail::be64;

namespace mp_detail {
// The type of a (validated) value by its lead byte.
constexpr MpType type_of_lead(uint8_t b) {
  if (b <= 0x7f || b >= 0xe0) return MpType::Int;
  if (b <= 0x8f) return MpType::Map;
  if (b <= 0x9f) return MpType::Array;
  if (b <= 0xbf) return MpType::Str;
  switch (b) {
    case 0xc0:
      return MpType::Nil;
    case 0xc2:
    case 0xc3:
      return MpType::Bool;
    case 0xc4:
    case 0xc5:
    case 0xc6:
      return MpType::Bin;
    case 0xca:
    case 0xcb:
      return MpType::Float;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
      return MpType::Int;
    case 0xd9:
    case 0xda:
    case 0xdb:
      return MpType::Str;
    case 0xdc:
    case 0xdd:
      return MpType::Array;
    case 0xde:
    case 0xdf:
      return MpType::Map;
    default:
      return MpType::Date;  // only the timestamp extension survives validation
  }
}
constexpr std::array<MpType, 256> make_type_table() {
  std::array<MpType, 256> t{};
  for (int b = 0; b < 256; ++b) t[size_t(b)] = type_of_lead(uint8_t(b));
  return t;
}
inline constexpr std::array<MpType, 256> kTypeOfLead = make_type_table();
}  // namespace mp_detail

inline MpType MpView::type() const {
  return mp_detail::kTypeOfLead[*p_];  // one load, always inlined
}

inline int64_t MpView::as_int() const {
  uint8_t b = *p_;
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return int8_t(b);
  switch (b) {
    case 0xcc:
      return p_[1];
    case 0xcd:
      return be16(p_ + 1);
    case 0xce:
      return be32(p_ + 1);
    case 0xcf:
      return int64_t(be64(p_ + 1));
    case 0xd0:
      return int8_t(p_[1]);
    case 0xd1:
      return int16_t(be16(p_ + 1));
    case 0xd2:
      return int32_t(be32(p_ + 1));
    case 0xd3:
      return int64_t(be64(p_ + 1));
  }
  return 0;
}

inline std::string_view MpView::payload() const {
  const char* c = reinterpret_cast<const char*>(p_);
  uint8_t b = *p_;
  if (b >= 0xa0 && b <= 0xbf) return {c + 1, size_t(b & 0x1f)};
  switch (b) {
    case 0xc4:
    case 0xd9:
      return {c + 2, p_[1]};
    case 0xc5:
    case 0xda:
      return {c + 3, be16(p_ + 1)};
    case 0xc6:
    case 0xdb:
      return {c + 5, be32(p_ + 1)};
  }
  return {};
}

inline uint32_t MpView::count() const {
  uint8_t b = *p_;
  if ((b & 0xf0) == 0x80 || (b & 0xf0) == 0x90) return b & 0x0f;
  if (b == 0xdc || b == 0xde) return be16(p_ + 1);
  if (b == 0xdd || b == 0xdf) return be32(p_ + 1);
  return 0;
}

inline const uint8_t* MpView::first() const {
  uint8_t b = *p_;
  if (b == 0xdc || b == 0xde) return p_ + 3;
  if (b == 0xdd || b == 0xdf) return p_ + 5;
  return p_ + 1;
}

// Size of the header + scalar payload; containers report their header only.
inline bool mp_is_container(uint8_t b) {
  return (b & 0xe0) == 0x80 || (b >= 0xdc && b <= 0xdf);
}

inline size_t mp_head_size(const uint8_t* p) {
  uint8_t b = *p;
  if (b <= 0x7f || b >= 0xe0) return 1;
  if (b <= 0x9f) return 1;
  if (b <= 0xbf) return 1 + (b & 0x1f);
  switch (b) {
    case 0xc0:
    case 0xc1:
    case 0xc2:
    case 0xc3:
      return 1;
    case 0xc4:
    case 0xd9:
      return 2 + p[1];
    case 0xc5:
    case 0xda:
      return 3 + be16(p + 1);
    case 0xc6:
    case 0xdb:
      return 5 + size_t(be32(p + 1));
    case 0xc7:
      return 3 + p[1];
    case 0xc8:
      return 4 + be16(p + 1);
    case 0xc9:
      return 6 + size_t(be32(p + 1));
    case 0xca:
      return 5;
    case 0xcb:
      return 9;
    case 0xcc:
      return 2;
    case 0xcd:
      return 3;
    case 0xce:
      return 5;
    case 0xcf:
      return 9;
    case 0xd0:
      return 2;
    case 0xd1:
      return 3;
    case 0xd2:
      return 5;
    case 0xd3:
      return 9;
    case 0xd4:
      return 3;
    case 0xd5:
      return 4;
    case 0xd6:
      return 6;
    case 0xd7:
      return 10;
    case 0xd8:
      return 18;
    case 0xdc:
    case 0xde:
      return 3;
    case 0xdd:
    case 0xdf:
      return 5;
  }
  return 1;
}

inline const uint8_t* MpView::end() const {
  return mp_is_container(*p_) ? p_ + byte_size() : p_ + mp_head_size(p_);
}

}  // namespace mg
