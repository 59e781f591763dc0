#include "daemon/process_stats.h"

#include <dirent.h>
#include <malloc.h>

#include <fstream>
#include <string>

namespace mg {

namespace {

int64_t read_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      int64_t kib = -1;
      status >> kib;
      return kib < 0 ? -1 : kib * 1024;
    }
    status.ignore(1 << 16, '\n');
  }
  return -1;
}

int64_t count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int64_t n = 0;
  while (dirent* e = readdir(dir))
    if (e->d_name[0] != '.') ++n;
  closedir(dir);
  return n - 1;  // the descriptor of the listing itself
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats s;
  s.rss_bytes = read_rss_bytes();
  struct mallinfo2 mi = mallinfo2();
  s.heap_bytes = int64_t(mi.uordblks + mi.hblkhd);
  s.open_fds = count_open_fds();
  return s;
}

}  // namespace mg
