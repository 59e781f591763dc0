// storage/dir_lock.h — one process at a time in a database directory.
//
// A DirLock holds an exclusive flock(2) on `<dir>/memgoose.lock` for its lifetime, with the
// holder's pid written in the file for the error message of the next one. The kernel drops the
// lock when the process dies (even by SIGKILL), so a stale file never blocks a restart. Used by
// the wiredtiger engine so that a second daemon on the same data dir fails at start-up or at
// createDatabase, before it touches any model (docs/STORAGE.md).
#pragma once

#include <memory>
#include <string>

#include "core/error.h"

namespace mg {

class DirLock {
 public:
  // Locks `dir` (which must exist). StorageError naming the directory and, when another
  // process holds it, that process's pid ("in use by another process (pid 1234)").
  static Result<std::unique_ptr<DirLock>> acquire(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

constexpr const char* kDirLockFile = "memgoose.lock";

}  // namespace mg
