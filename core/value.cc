#include "core/value.h"

namespace mg {

Value Value::boolean(bool b) {
  Value v;
  v.type_ = MpType::Bool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.type_ = MpType::Int;
  v.i_ = i;
  return v;
}
Value Value::float64(double d) {
  Value v;
  v.type_ = MpType::Float;
  v.d_ = d;
  return v;
}
Value Value::str(std::string s) {
  Value v;
  v.type_ = MpType::Str;
  v.s_ = std::move(s);
  return v;
}
Value Value::bin(std::string b) {
  Value v;
  v.type_ = MpType::Bin;
  v.s_ = std::move(b);
  return v;
}
Value Value::date(Date d) {
  Value v;
  v.type_ = MpType::Date;
  v.date_ = d;
  return v;
}
Value Value::array(Array a) {
  Value v;
  v.type_ = MpType::Array;
  v.arr_ = std::make_unique<Array>(std::move(a));
  return v;
}
Value Value::map(Map m) {
  Value v;
  v.type_ = MpType::Map;
  v.map_ = std::make_unique<Map>(std::move(m));
  return v;
}

Value::Value(const Value& o)
    : type_(o.type_), b_(o.b_), i_(o.i_), d_(o.d_), date_(o.date_), s_(o.s_) {
  if (o.arr_) arr_ = std::make_unique<Array>(*o.arr_);
  if (o.map_) map_ = std::make_unique<Map>(*o.map_);
}

Value& Value::operator=(const Value& o) {
  if (this != &o) {
    Value copy(o);
    *this = std::move(copy);
  }
  return *this;
}

Value Value::from(MpView v) {
  switch (v.type()) {
    case MpType::Nil:
      return Value();
    case MpType::Bool:
      return boolean(v.as_bool());
    case MpType::Int:
      return integer(v.as_int());
    case MpType::Float:
      return float64(v.as_double());
    case MpType::Str:
      return str(std::string(v.as_str()));
    case MpType::Bin:
      return bin(std::string(v.as_bin()));
    case MpType::Date:
      return date(v.as_date());
    case MpType::Array: {
      Array a;
      a.reserve(v.count());
      ArrayIter it(v);
      MpView e;
      while (it.next(e)) a.push_back(from(e));
      return array(std::move(a));
    }
    case MpType::Map: {
      Map m;
      m.reserve(v.count());
      MapIter it(v);
      std::string_view k;
      MpView e;
      while (it.next(k, e)) m.emplace_back(std::string(k), from(e));
      return map(std::move(m));
    }
  }
  return Value();
}

Value* Value::find(std::string_view key) {
  for (auto& [k, v] : *map_)
    if (k == key) return &v;
  return nullptr;
}

const Value* Value::find(std::string_view key) const {
  for (auto& [k, v] : *map_)
    if (k == key) return &v;
  return nullptr;
}

Value& Value::set(std::string_view key, Value v) {
  if (Value* cur = find(key)) {
    *cur = std::move(v);
    return *cur;
  }
  map_->emplace_back(std::string(key), std::move(v));
  return map_->back().second;
}

bool Value::erase(std::string_view key) {
  for (auto it = map_->begin(); it != map_->end(); ++it) {
    if (it->first == key) {
      map_->erase(it);
      return true;
    }
  }
  return false;
}

void Value::encode(MpWriter& w) const {
  switch (type_) {
    case MpType::Nil:
      w.nil();
      break;
    case MpType::Bool:
      w.boolean(b_);
      break;
    case MpType::Int:
      w.integer(i_);
      break;
    case MpType::Float:
      w.float64(d_);
      break;
    case MpType::Str:
      w.str(s_);
      break;
    case MpType::Bin:
      w.bin(s_);
      break;
    case MpType::Date:
      w.date(date_);
      break;
    case MpType::Array:
      w.array_header(uint32_t(arr_->size()));
      for (auto& e : *arr_) e.encode(w);
      break;
    case MpType::Map:
      w.map_header(uint32_t(map_->size()));
      for (auto& [k, e] : *map_) {
        w.str(k);
        e.encode(w);
      }
      break;
  }
}

std::string Value::encode() const {
  std::string out;
  MpWriter w(out);
  encode(w);
  return out;
}

}  // namespace mg
