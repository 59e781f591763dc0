// actors/event_batch.h — the change events of one commit on their way to the PUB socket, and
// the one encoding of an event's body (CONTRACT.md §7).
//
// After a commit, a model actor hands the front door the events of the writes it made durable
// as one EventBatch (in an Outgoing of kind Event, queued before the replies that acknowledge
// those writes). The batch copies what the model retains for `changes` without copying a
// document (it shares them, DocRef) and without an allocation per event (the `_id`s go one after
// another into one buffer). The front door encodes each body itself, straight into the message
// it sends: the model thread, ingest's bottleneck, pays only for the copy.
//
// EventView::encode() writes the body {seq, op, id, doc, ts} (no `doc` on delete and drop), for
// live events and `changes` replies alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/collection.h"

namespace mg {

// One event's fields, borrowed.
struct EventView {
  uint64_t seq = 0;
  ChangeEvent::Op op = ChangeEvent::Op::Insert;
  std::string_view id;   // encoded `_id`; empty: nil (drop)
  std::string_view doc;  // encoded document; empty: none (delete, drop)
  Date ts;

  static EventView of(const ChangeEvent& e) {
    return {e.seq, e.op, e.id, e.doc ? e.doc.bytes() : std::string_view(), e.ts};
  }
  // The exact size of the encoded body.
  size_t encoded_size() const;
  // Writes the body to `out` (encoded_size() bytes); returns the end.
  char* encode(char* out) const;
  // Appends the body to `out`.
  void append_to(std::string& out) const;
};

class EventBatch {
 public:
  explicit EventBatch(std::string topic) : topic_(std::move(topic)) {}
  // Appends copies of `events` (in seq order); their documents are shared, not copied.
  void add(const std::vector<ChangeEvent>& events);

  const std::string& topic() const { return topic_; }  // "db.model"
  size_t size() const { return items_.size(); }
  EventView operator[](size_t i) const {
    const Item& it = items_[i];
    return {it.seq, it.op, std::string_view(ids_).substr(it.id_at, it.id_size),
            it.doc ? it.doc.bytes() : std::string_view(), it.ts};
  }

 private:
  struct Item {
    uint64_t seq;
    Date ts;
    DocRef doc;
    uint32_t id_at, id_size;  // in ids_
    ChangeEvent::Op op;
  };
  std::string topic_;
  std::vector<Item> items_;
  std::string ids_;  // every event's encoded `_id`, one after another
};

}  // namespace mg
