// bench/thread_slice.h — the isolation probe's scheduling slice.
//
// Linux's EEVDF scheduler (6.6 and later) lets a woken task preempt the running one only once
// that one has used up its slice (RUN_TO_PARITY): 0.7 ms × (1 + log2 CPUs) by default, 1.4 ms
// on two CPUs. In the isolation case (daemon_measure.h) the bench's own ingest client shares
// the machine's two CPUs with memgoosed, so the probe's thread, woken by its reply, may wait
// behind that client for up to a slice: a figure of the bench, not of the daemon (a client on
// another machine never waits for it). Since 6.12 a task may ask for a slice of its own
// (sched_setattr's sched_runtime for SCHED_OTHER, no privilege needed); a woken task with a
// shorter slice than the running one preempts it (PREEMPT_SHORT). CPU shares still follow
// vruntime and nice. The probe asks for kProbeSlice, for its idle and loaded figures alike; the
// ingest thread keeps the default. docs/BENCHMARKS.md (session 10) has the figures, and those of
// memgoosed's own request threads with short slices (no better: not adopted).
//
// On kernels without custom slices the value is ignored (before 6.12 sched_runtime means
// nothing to SCHED_OTHER) or refused: nothing changes.
#pragma once

#include <chrono>

namespace mg::bench {

inline constexpr std::chrono::microseconds kProbeSlice{100};

// Sets the calling thread's slice (0: the kernel's default; else clamped by the kernel to
// 0.1–100 ms), keeping its policy and nice value. Returns whether the kernel took it.
bool set_thread_slice(std::chrono::microseconds slice);

// The probe's slice for a scope; the kernel's default after it.
class ProbeSlice {
 public:
  ProbeSlice() { set_thread_slice(kProbeSlice); }
  ~ProbeSlice() { set_thread_slice(std::chrono::microseconds(0)); }
  ProbeSlice(const ProbeSlice&) = delete;
  ProbeSlice& operator=(const ProbeSlice&) = delete;
};

}  // namespace mg::bench
