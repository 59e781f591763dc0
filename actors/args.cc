#include "actors/args.h"

#include <cmath>

namespace mg::args {

namespace {
MpView present(const Envelope& env, std::string_view key) {
  MpView v = env.arg(key);
  return v.valid() && v.type() != MpType::Nil ? v : MpView();
}
[[noreturn]] void mismatch(std::string_view key, const char* expected) {
  fail(ErrorCode::TypeMismatch, "'" + std::string(key) + "' must be " + expected);
}
[[noreturn]] void missing(std::string_view key) {
  fail(ErrorCode::BadValue, "missing required argument '" + std::string(key) + "'");
}
}  // namespace

MpView map(const Envelope& env, std::string_view key, bool required) {
  MpView v = present(env, key);
  if (!v.valid()) {
    if (required) missing(key);
    return v;
  }
  if (v.type() != MpType::Map) mismatch(key, "a map");
  return v;
}

MpView array(const Envelope& env, std::string_view key, bool required) {
  MpView v = present(env, key);
  if (!v.valid()) {
    if (required) missing(key);
    return v;
  }
  if (v.type() != MpType::Array) mismatch(key, "an array");
  return v;
}

MpView value(const Envelope& env, std::string_view key, bool allow_nil) {
  MpView v = env.arg(key);
  if (!v.valid() || (!allow_nil && v.type() == MpType::Nil)) missing(key);
  return v;
}

int64_t integer(const Envelope& env, std::string_view key, int64_t fallback) {
  MpView v = present(env, key);
  if (!v.valid()) return fallback;
  if (v.type() == MpType::Int) return v.as_int();
  if (v.type() == MpType::Float) {
    double d = v.as_double();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return int64_t(d);
  }
  mismatch(key, "an integer");
}

bool boolean(const Envelope& env, std::string_view key, bool fallback) {
  MpView v = present(env, key);
  if (!v.valid()) return fallback;
  if (v.type() != MpType::Bool) mismatch(key, "a boolean");
  return v.as_bool();
}

std::string_view string(const Envelope& env, std::string_view key, bool required,
                        std::string_view fallback) {
  MpView v = present(env, key);
  if (!v.valid()) {
    if (required) missing(key);
    return fallback;
  }
  if (v.type() != MpType::Str) mismatch(key, "a string");
  return v.as_str();
}

}  // namespace mg::args
