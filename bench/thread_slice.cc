// bench/thread_slice.cc — see thread_slice.h.
#include "bench/thread_slice.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace mg::bench {
namespace {

// The kernel's struct sched_attr (include/uapi/linux/sched/types.h, 56 bytes with the
// utilization clamps); glibc 2.36 has neither the struct nor a wrapper.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

constexpr uint32_t kSchedOther = 0;

}  // namespace

bool set_thread_slice(std::chrono::microseconds slice) {
#if defined(SYS_sched_getattr) && defined(SYS_sched_setattr)
  SchedAttr a{};
  if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) != 0) return false;
  if (a.sched_policy != kSchedOther) return false;  // only SCHED_OTHER has such a slice
  a.size = sizeof a;
  a.sched_flags = 0;
  a.sched_runtime = slice.count() > 0 ? uint64_t(std::chrono::nanoseconds(slice).count()) : 0;
  return syscall(SYS_sched_setattr, 0, &a, 0) == 0;
#else
  (void)slice;
  return false;
#endif
}

}  // namespace mg::bench
