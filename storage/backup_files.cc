// storage/backup_files.cc — see backup_files.h.
#include "storage/backup_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace mg {

namespace {
Status io_fail(const std::string& what, const std::string& path) {
  return make_status(ErrorCode::StorageError, what + " " + path + ": " + std::strerror(errno));
}
}  // namespace

Status copy_file_synced(const std::string& from, const std::string& to, bool optional) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (optional && errno == ENOENT) return Status::OK();
    return io_fail("cannot open", from);
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    Status s = io_fail("cannot create", to);
    ::close(in);
    return s;
  }
  Status s;
  char buf[1 << 16];
  while (s.ok()) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = io_fail("cannot read", from);
    if (n <= 0) break;
    for (ssize_t done = 0; s.ok() && done < n;) {
      ssize_t w = ::write(out, buf + done, size_t(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) s = io_fail("cannot write", to);
      done += w > 0 ? w : 0;
    }
  }
  if (s.ok() && ::fsync(out) != 0) s = io_fail("cannot fsync", to);
  ::close(in);
  if (::close(out) != 0 && s.ok()) s = io_fail("cannot close", to);
  return s;
}

Status sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_fail("cannot open directory", dir);
  Status s = ::fsync(fd) == 0 ? Status::OK() : io_fail("cannot fsync directory", dir);
  ::close(fd);
  return s;
}

Status copy_tree_synced(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return make_status(ErrorCode::StorageError, "cannot create " + to + ": " + ec.message());
  for (auto& e : fs::directory_iterator(from, ec)) {
    std::string name = e.path().filename().string();
    Status s = e.is_directory() ? copy_tree_synced(e.path().string(), to + "/" + name)
                                : copy_file_synced(e.path().string(), to + "/" + name);
    if (!s.ok()) return s;
  }
  if (ec) return make_status(ErrorCode::StorageError, "cannot list " + from + ": " + ec.message());
  return sync_directory(to);
}

}  // namespace mg
