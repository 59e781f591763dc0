// actors/model_actor.h — one actor per model: it owns the model's Collection (documents,
// indexes, schema), its StorageStrategy and its change events (DESIGN.md decision 2).
//
// Requests to one model are handled in arrival order, never concurrently, so the engine needs
// no locks. Group commit (decision 4): writes are applied as they arrive and their replies
// held; the actor then sends itself `commit`, which lands behind every request already in its
// mailbox, so one storage commit covers all of them before they are answered and their events
// published. A read arriving while writes wait for their commit waits with them, so no client
// sees a write before it is durable. With a pipelined storage (ModelConfig::pipelined: file,
// wiredtiger) the commit runs on the storage's own thread while the actor applies the next
// group (storage/pipelined_storage.h); the replies and events of a group wait in its flight.
#pragma once

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

#include "actors/messages.h"
#include "actors/reply_sink.h"
#include "storage/storage_strategy.h"

namespace mg {

struct ModelConfig {
  std::string db, model;
  std::shared_ptr<ReplySink> sink;
  InflightCounter inflight;
  caf::actor database;  // told `schema_atom` on defineModel / dropModel (catalog)
  std::function<std::unique_ptr<StorageStrategy>()> make_storage;
  std::string schema;  // encoded schema to open with (from the catalog), or empty
  bool exists = true;  // false until a write or defineModel (listModels shows existing ones)
  size_t change_log_size = 100000;  // events retained for `changes` (CONTRACT.md §7)
  // Commit each group on a storage thread while the next one is applied (PipelinedStorage):
  // for backends whose commit is slow (a sync, a transaction), not for memory.
  bool pipelined = false;
};

// Spawns the model actor. It opens its storage before handling any request; if that fails,
// every request gets StorageError (and `opened_atom` answers the reason).
caf::actor spawn_model_actor(caf::actor_system& sys, ModelConfig cfg);

}  // namespace mg
