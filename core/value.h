// core/value.h — an owned, mutable document tree.
//
// Stored documents are immutable MessagePack bytes (see msgpack.h). A Value is used only where
// a document must change: updates, defaults and timestamps from the schema, projections, upsert
// seeds. `Value::from` decodes a validated view; `encode` writes the smallest encoding. Maps keep
// their field order (a vector of pairs), as CONTRACT.md §4 requires.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/msgpack.h"

namespace mg {

class Value {
 public:
  using Array = std::vector<Value>;
  using Map = std::vector<std::pair<std::string, Value>>;

  Value() = default;  // nil
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value float64(double d);
  static Value str(std::string s);
  static Value bin(std::string b);
  static Value date(Date d);
  static Value array(Array a = {});
  static Value map(Map m = {});
  // Decodes a validated view (deep copy).
  static Value from(MpView v);
  static Value from_bytes(std::string_view encoded) { return from(MpView(encoded)); }

  MpType type() const { return type_; }
  bool is_nil() const { return type_ == MpType::Nil; }
  bool is_map() const { return type_ == MpType::Map; }
  bool is_array() const { return type_ == MpType::Array; }
  bool is_number() const { return type_ == MpType::Int || type_ == MpType::Float; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_double() const { return type_ == MpType::Float ? d_ : double(i_); }
  const std::string& as_str() const { return s_; }  // Str and Bin
  Date as_date() const { return date_; }
  Array& as_array() { return *arr_; }
  const Array& as_array() const { return *arr_; }
  Map& as_map() { return *map_; }
  const Map& as_map() const { return *map_; }

  // Map helpers (the value must be a map).
  Value* find(std::string_view key);
  const Value* find(std::string_view key) const;
  // Sets key (replacing in place, or appending at the end). Returns the stored value.
  Value& set(std::string_view key, Value v);
  bool erase(std::string_view key);

  void encode(MpWriter& w) const;
  std::string encode() const;

  Value(const Value& o);
  Value& operator=(const Value& o);
  Value(Value&&) noexcept = default;
  Value& operator=(Value&&) noexcept = default;

 private:
  MpType type_ = MpType::Nil;
  bool b_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  Date date_;
  std::string s_;
  std::unique_ptr<Array> arr_;
  std::unique_ptr<Map> map_;
};

}  // namespace mg
