// storage/storage_strategy.h — the interface every storage backend implements.
//
// A StorageStrategy persists one model's documents. The model's documents live in memory (the
// Collection answers every query); the strategy is the durability layer (DESIGN.md decision 5):
// at start it streams everything back, and afterwards it is told every change before the
// change becomes visible. It is used by one thread at a time (the model's actor) and never
// needs locks. It is built for group commit (decision 4): `apply` is called once per operation
// (each call atomic), `commit` once per batch of operations, before any of them is answered.
//
// Writing a new backend: implement the methods below keeping their contracts, and a
// StorageKind (engine.h) that makes the strategy; nothing else in the engine changes. It is
// compiled in, or built as a shared object the daemon loads at start (storage/plugin.h). This
// header, engine.h and plugin.h are the public plugin API; docs/STORAGE.md explains the
// bundled backends and "Custom storage strategies", examples/redis-storage is a plugin.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.h"
#include "core/error.h"
#include "core/schema.h"

namespace mg {

// One change to persist. Views are valid for the duration of the call only.
struct Change {
  enum class Op : uint8_t { Insert, Replace, Delete, Clear };
  Op op = Op::Insert;
  std::string_view id;   // the document's _id, encoded MessagePack (not set for Clear)
  std::string_view doc;  // the whole document after the change, encoded (Insert, Replace)
  uint64_t seq = 0;      // change-stream sequence number of this change (last one for Clear)
  // The engine's immutable block holding `doc` (and usually `id`), when it has one (may be
  // null): a strategy that keeps the document past the call may copy this reference instead
  // of the bytes (PipelinedStorage's open group does). Valid for the call, like the views.
  const DocRef* ref = nullptr;
};

struct StorageStats {
  uint64_t bytes_on_disk = 0;  // files owned by this model (0 for memory)
  uint64_t pending_bytes = 0;  // written but not yet durable (e.g. WAL since last sync)
  uint64_t commits = 0;        // group commits done
};

class StorageStrategy {
 public:
  virtual ~StorageStrategy() = default;

  // Opens (creating when absent) the model's storage and calls `sink` once per stored document
  // (encoded MessagePack map, valid during the call), in storage order. A non-OK status from
  // `sink` stops loading and is returned. Returns StorageError naming the file (and line or
  // record) when the stored data cannot be read. Called once, before anything else.
  virtual Status open(const std::function<Status(std::string_view doc)>& sink) = 0;

  // The highest `seq` ever applied (persisted with the data), or 0. Valid after open().
  virtual uint64_t last_seq() const = 0;

  // Persists `changes` atomically: on OK all of them are applied (durable once commit()
  // returns OK), on error none of them is and the error is StorageError (or DuplicateKey when
  // the backend's own unique constraint refused it). A Delete of an absent id is not an error.
  virtual Status apply(std::span<const Change> changes) = 0;

  // Group-commit point: makes everything applied since the last commit as durable as the
  // backend's mode promises (fsync in immediate mode, a transaction commit, ...). On error
  // (StorageError: disk full, I/O error, a transaction the backend lost) everything applied
  // since the last commit is rolled back — none of it may come back at the next open(), once
  // reconcile() below has succeeded (it may have, before that, when the engine had logged it) —
  // and the strategy stays usable: later apply() and commit() work again once the cause is gone
  // (a backend that cannot roll back must fail every later apply() with StorageError instead).
  // The caller undoes the group in memory, calls reconcile(), and answers its writes
  // StorageError.
  virtual Status commit() = 0;

  // A whole group in one call: apply(changes) then commit(), with their contracts and one
  // result. On error nothing of `changes` is applied; if apply() refused it, what was applied
  // before this call stays open (as after a refused apply()), if commit() failed it is rolled
  // back too. The caller promises no apply() joins this transaction, so a backend need keep
  // nothing of `changes` for replaying it after a later refused call (WiredTiger then writes
  // the documents from the caller's bytes, with no copy of its own). The default is apply()
  // then commit(); PipelinedStorage's storage thread commits every group this way.
  virtual Status apply_and_commit(std::span<const Change> changes) {
    Status s = apply(changes);
    if (!s.ok()) return s;
    return commit();
  }

  // After commit() failed and the caller rolled the group back in memory: for a backend whose
  // engine may already have logged the group's commit when the failure came (its log written
  // but not synced), so that its next recovery would replay it, makes the store equal memory
  // again. `changes`: for every document the failed group touched, a Delete of its _id, then an
  // Insert or Replace of the version memory holds, if any; `seq`: memory's last_seq, which the
  // store must hold again too. Returns OK once that is durable. On StorageError the backend
  // refuses every later apply() with StorageError until it has done it (retried at each
  // apply()), and completes it at the next open() if it could record it (storage/reconcile.h
  // is the shared implementation). The default does nothing: for a backend whose failed
  // commit() leaves nothing of the group that a recovery could find (file, memory).
  virtual Status reconcile(std::span<const Change> changes, uint64_t seq) {
    (void)changes, (void)seq;
    return Status::OK();
  }

  // Makes every applied change durable regardless of mode (the `flush` op, shutdown).
  virtual Status flush() = 0;

  // Releases files and handles after a final flush. Idempotent.
  virtual void close() = 0;

  // Removes everything the model stored (dropModel). The strategy is closed afterwards. Also
  // called on a strategy never opened, to empty the storage of a model the catalog does not
  // list before a fresh strategy opens it (actors/registry.cc emptied_storage): it must then
  // remove what an earlier process left for that model, and succeed when there is nothing.
  virtual Status destroy() = 0;

  virtual StorageStats stats() const = 0;

  // The schema's secondary indexes (without `_id`), in schema order. Called after open() and
  // whenever the schema's indexes change (defineModel, dropModel), with the complete new list.
  // A backend may build or drop indexes of its own to match (SQLite's expression indexes);
  // the Collection's in-memory indexes stay authoritative for queries and uniqueness. Returns
  // DuplicateKey if a unique index the backend builds is violated by stored documents, or
  // StorageError; on error the backend's previous indexes are kept. The default does nothing.
  virtual Status set_indexes(const std::vector<IndexSpec>& indexes) {
    (void)indexes;
    return Status::OK();
  }

  // Online backup (the `backup` op; docs/STORAGE.md, "Backup and restore"). Writes a consistent
  // copy of this model's stored data into `dir` (existing; the backup's directory, shared by
  // every model of the database) in the layout open() reads from a database directory, so that
  // a restore only copies the files back: SQLite's online backup API, a WiredTiger backup
  // cursor, the file backend's snapshot and WAL. Called by the model's actor between two
  // requests, after commit(): no write interleaves, and the model pauses only for this call.
  // Returns true once the files are written; false (the default) when the backend has nothing
  // of its own to copy (memory, a plugin without a backup): the actor then writes a snapshot
  // dump of the model's documents, `<Model>.dump.ndjson`, which a restore loads back through
  // this strategy's apply(). StorageError naming the file on failure.
  virtual Result<bool> backup(const std::string& dir) {
    (void)dir;
    return false;
  }
};

}  // namespace mg
