// daemon/process_stats.h — what the daemon process itself holds, for the `process` section of
// the `stats` reply (docs/PROTOCOL.md "stats").
//
// Contract: read_process_stats() never fails; a figure it cannot read is -1. rss_bytes is the
// resident set (VmRSS), which only ever shows the allocator's high-water mark; heap_bytes is what
// malloc has handed out and not had back (mallinfo2: in-use chunks plus mmapped blocks), so it
// falls again when memory is freed and is the figure that tells a leak from fragmentation. Under
// a sanitizer that replaces malloc, heap_bytes reports glibc's own (unused) heap.
#pragma once

#include <cstdint>

namespace mg {

struct ProcessStats {
  int64_t rss_bytes = -1;
  int64_t heap_bytes = -1;
  int64_t open_fds = -1;
};

ProcessStats read_process_stats();

}  // namespace mg
