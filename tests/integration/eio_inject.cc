// tests/integration/eio_inject.cc — I/O errors on demand for the real memgoosed, without a
// faulty disk: an LD_PRELOAD library (built for the tests only, never linked into the daemon)
// that makes write(2)-family calls and fsync/fdatasync on files under $MG_EIO_DIR fail with
// EIO while the file $MG_EIO_TRIGGER exists. Every backend reaches the kernel through these
// libc symbols (SQLite's unix VFS, WiredTiger's POSIX layer, the file backend's WAL), so the
// daemon sees exactly what a failing disk reports. Device-mapper (dm-error, dm-flakey) is the
// usual tool, but it is not available everywhere (not on this project's development VM).
//
// Contract: with MG_EIO_DIR (an absolute, symlink-free directory) and MG_EIO_TRIGGER set, a
// call on a descriptor whose /proc/self/fd link lies under MG_EIO_DIR returns -1 with errno
// EIO while the trigger exists; every other call goes to libc unchanged. Reads are untouched.
// With MG_EIO_OPS=sync only fsync and fdatasync fail (the data reaches the page cache, its sync
// does not: a device failing at writeback).
#include <dlfcn.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool failing(int fd, bool sync) {
  const char* ops = getenv("MG_EIO_OPS");
  if (!sync && ops && std::strcmp(ops, "sync") == 0) return false;
  const char* dir = getenv("MG_EIO_DIR");
  const char* trigger = getenv("MG_EIO_TRIGGER");
  if (!dir || !trigger || access(trigger, F_OK) != 0) return false;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  size_t len = strlen(dir);
  return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

}  // namespace

#define REAL(name) (reinterpret_cast<decltype(&::name)>(dlsym(RTLD_NEXT, #name)))
#define FAIL_IF_TRIGGERED(fd, sync) \
  do {                              \
    if (failing(fd, sync)) {        \
      errno = EIO;                  \
      return -1;                    \
    }                               \
  } while (0)

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  FAIL_IF_TRIGGERED(fd, false);
  return REAL(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  FAIL_IF_TRIGGERED(fd, false);
  return REAL(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  FAIL_IF_TRIGGERED(fd, false);
  return REAL(pwrite64)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  FAIL_IF_TRIGGERED(fd, false);
  return REAL(writev)(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec* iov, int cnt, off_t off) {
  FAIL_IF_TRIGGERED(fd, false);
  return REAL(pwritev)(fd, iov, cnt, off);
}

int fsync(int fd) {
  FAIL_IF_TRIGGERED(fd, true);
  return REAL(fsync)(fd);
}

int fdatasync(int fd) {
  FAIL_IF_TRIGGERED(fd, true);
  return REAL(fdatasync)(fd);
}

}  // extern "C"
