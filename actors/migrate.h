// actors/migrate.h — the `migrate` op: copies one model's schema and documents to another model,
// in the same or another database, on any backend (docs/PROTOCOL.md, "migrate").
//
// A migration actor drives it through the two model actors, never touching their state:
//   1. the destination must be empty (absent, or without documents): BadValue otherwise;
//   2. the source's schema is defined on the destination (defineModel, through its actor);
//   3. the source is read in pages in _id order (page_atom, `batchSize` documents, default
//      1000; each page answered by the source's actor between two of its requests) and each
//      page inserted with one insertMany (call_atom: validated, indexed, committed and
//      published like a client's); only one page is in flight, so memory stays bounded;
//   4. verification: the destination is read back in pages, and the counts and the content
//      checksums of both sides must agree (BadValue with both when they do not: the source or
//      the destination was written to during the migration).
// Checksum: order-independent, the sum and the xor of a 64-bit hash of each document's
// canonical bytes (its Extended JSON text, core/ejson.h: field order, types and values
// exactly), written as 32 hex digits. Other models keep serving meanwhile; writes to the
// source during a migration are not prevented (and fail verification).
#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "actors/messages.h"
#include "actors/reply_sink.h"
#include "core/collection.h"

namespace mg {

// In the source model's actor: up to `limit` documents with _id after `after_id` (encoded;
// empty = from the first), in _id order (CONTRACT.md §4 comparison order).
MigratePage read_page(Collection& c, std::string_view after_id, size_t limit);

// The order-independent content checksum.
struct ContentChecksum {
  uint64_t count = 0, sum = 0, xr = 0;
  void add(std::string_view doc);  // an encoded document
  std::string hex() const;
  bool operator==(const ContentChecksum&) const = default;
};

struct MigrateRequest {
  std::string src_db, src_model, dst_db, dst_model;
  caf::actor src, dst;
  size_t batch = 1000;
  std::string reply_id;  // the request's raw `id`
};

// Runs a migration; the reply {migrated, batches, checksum, source: {count, checksum},
// destination: {count, checksum}} or an error goes to `sink`.
void start_migration(caf::actor_system& sys, MigrateRequest req, std::shared_ptr<ReplySink> sink,
                     Route route);

}  // namespace mg
