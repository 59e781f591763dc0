// core/error.h — error codes of CONTRACT.md §6 and the Status / Result types every layer returns.
//
// Contract: no exception escapes a public API of core/ or storage/. Internally the engine may
// throw `Error` (via `fail`) deep inside parsing and catch it at the API boundary with
// `guard`, which turns any exception into a Status. A Status with code Ok carries nothing.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mg {

enum class ErrorCode : int32_t {
  Ok = 0,
  InternalError = 1,
  BadValue = 2,
  FailedToParse = 9,
  Unauthorized = 13,
  TypeMismatch = 14,
  NamespaceNotFound = 26,
  CommandNotFound = 59,
  ImmutableField = 66,
  InvalidOptions = 72,
  ShutdownInProgress = 91,
  DocumentValidationFailure = 121,
  ChangeStreamHistoryLost = 286,
  StorageError = 1001,
  DocumentTooLarge = 10334,
  DuplicateKey = 11000,
};

// The contract's name for a code ("BadValue", ...).
std::string_view error_name(ErrorCode code);

// One schema violation: the dotted path and a human reason.
struct ValidationIssue {
  std::string path;
  std::string reason;
};

// Status: Ok, or a code with a message a person can act on, plus the code-specific details of
// §6 (`index` for insertMany, `keyPattern`/`keyValue` for DuplicateKey as encoded MessagePack,
// `errors` for DocumentValidationFailure).
struct Status {
  ErrorCode code = ErrorCode::Ok;
  std::string message;
  int64_t index = -1;                   // insertMany: position of the failing document
  std::string key_pattern;              // DuplicateKey: MessagePack map {field: dir, ...}
  std::string key_value;                // DuplicateKey: MessagePack map {field: value, ...}
  std::vector<ValidationIssue> errors;  // DocumentValidationFailure

  bool ok() const { return code == ErrorCode::Ok; }
  static Status OK() { return {}; }
};

inline Status make_status(ErrorCode code, std::string msg) {
  Status s;
  s.code = code;
  s.message = std::move(msg);
  return s;
}

// The exception used inside the engine. Carries a full Status.
struct Error : std::exception {
  Status status;
  explicit Error(Status s) : status(std::move(s)) {}
  const char* what() const noexcept override { return status.message.c_str(); }
};

[[noreturn]] void fail(ErrorCode code, std::string msg);
[[noreturn]] void fail(Status status);

// Result<T>: a value or a non-Ok Status.
template <class T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}
  Result(Status s) : v_(std::move(s)) {}
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

// Runs `fn` and converts any escaping exception into a Status (Error keeps its status;
// bad_alloc becomes InternalError; anything else InternalError with its what()).
Status status_of_current_exception();

template <class F>
auto guard(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (...) {
    return status_of_current_exception();
  }
}

}  // namespace mg
