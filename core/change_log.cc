#include "core/change_log.h"

#include <string>

namespace mg {

void ChangeLog::append(std::vector<ChangeEvent>&& events) {
  if (capacity_ > 0) {
    for (auto& e : events) {
      events_.push_back(std::move(e));
      if (events_.size() > capacity_) events_.pop_front();
    }
  }
  events.clear();
}

Status ChangeLog::since(uint64_t after, size_t limit, uint64_t last_seq,
                        std::vector<const ChangeEvent*>& out) const {
  out.clear();
  if (after >= last_seq) return Status::OK();
  uint64_t first = events_.empty() ? last_seq + 1 : events_.front().seq;
  if (after + 1 < first)
    return make_status(ErrorCode::ChangeStreamHistoryLost,
                       "events after seq " + std::to_string(after) +
                           " are no longer retained (oldest kept: " +
                           (events_.empty() ? std::string("none") : std::to_string(first)) +
                           ", last: " + std::to_string(last_seq) + "); resynchronise from a find");
  // Events are dense in seq except across restarts; find the first with seq > after.
  size_t start = 0;
  if (after >= first) start = size_t(after - first + 1);
  while (start > 0 && start <= events_.size() && events_[start - 1].seq > after) --start;
  while (start < events_.size() && events_[start].seq <= after) ++start;
  for (size_t i = start; i < events_.size() && (limit == 0 || out.size() < limit); ++i)
    out.push_back(&events_[i]);
  return Status::OK();
}

}  // namespace mg
