// storage/dir_lock.cc — see dir_lock.h.
#include "storage/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mg {

Result<std::unique_ptr<DirLock>> DirLock::acquire(const std::string& dir) {
  std::string path = dir + "/" + kDirLockFile;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_status(ErrorCode::StorageError,
                       "cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, size_t(n)) : std::string();
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK)
      return make_status(ErrorCode::StorageError,
                         dir + " is in use by another process" +
                             (holder.empty() ? std::string() : " (pid " + holder + ")") + ": " +
                             std::strerror(EBUSY) + " (" + path + " is locked)");
    return make_status(ErrorCode::StorageError, "cannot lock " + path + ": " + std::strerror(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only a courtesy for the next process's message; the lock is what matters.
  }
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() {
  ::close(fd_);
}

}  // namespace mg
