// core/change_log.h — the retained history of one model's change events (CONTRACT.md §7).
//
// A bounded FIFO of the last `capacity` events, in seq order. Events share their documents
// with the collection (DocRef), so retaining them costs little beyond the versions that were
// since replaced. A subscriber that missed events asks since(after): it gets every retained
// event with seq > after, or ChangeStreamHistoryLost when some of those are no longer kept.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "core/collection.h"
#include "core/error.h"

namespace mg {

class ChangeLog {
 public:
  explicit ChangeLog(size_t capacity) : capacity_(capacity) {}

  // Moves `events` in (seq must grow), leaving the vector empty; drops the oldest past
  // capacity.
  void append(std::vector<ChangeEvent>&& events);

  // Events with seq > after, oldest first, at most `limit` (0 = all retained). `last_seq` is
  // the model's current seq (the log may be empty after a restart). ChangeStreamHistoryLost
  // when an event after `after` is no longer retained.
  Status since(uint64_t after, size_t limit, uint64_t last_seq,
               std::vector<const ChangeEvent*>& out) const;

  size_t size() const { return events_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::deque<ChangeEvent> events_;
};

}  // namespace mg
