#include "core/error.h"

#include <new>

namespace mg {

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::Ok:
      return "OK";
    case ErrorCode::InternalError:
      return "InternalError";
    case ErrorCode::BadValue:
      return "BadValue";
    case ErrorCode::FailedToParse:
      return "FailedToParse";
    case ErrorCode::Unauthorized:
      return "Unauthorized";
    case ErrorCode::TypeMismatch:
      return "TypeMismatch";
    case ErrorCode::NamespaceNotFound:
      return "NamespaceNotFound";
    case ErrorCode::CommandNotFound:
      return "CommandNotFound";
    case ErrorCode::ImmutableField:
      return "ImmutableField";
    case ErrorCode::InvalidOptions:
      return "InvalidOptions";
    case ErrorCode::ShutdownInProgress:
      return "ShutdownInProgress";
    case ErrorCode::DocumentValidationFailure:
      return "DocumentValidationFailure";
    case ErrorCode::ChangeStreamHistoryLost:
      return "ChangeStreamHistoryLost";
    case ErrorCode::StorageError:
      return "StorageError";
    case ErrorCode::DocumentTooLarge:
      return "DocumentTooLarge";
    case ErrorCode::DuplicateKey:
      return "DuplicateKey";
  }
  return "InternalError";
}

void fail(ErrorCode code, std::string msg) {
  throw Error(make_status(code, std::move(msg)));
}
void fail(Status status) {
  throw Error(std::move(status));
}

Status status_of_current_exception() {
  try {
    throw;
  } catch (const Error& e) {
    return e.status;
  } catch (const std::bad_alloc&) {
    return make_status(ErrorCode::InternalError, "out of memory");
  } catch (const std::exception& e) {
    return make_status(ErrorCode::InternalError, std::string("internal error: ") + e.what());
  } catch (...) {
    return make_status(ErrorCode::InternalError, "internal error: unknown exception");
  }
}

}  // namespace mg
