// storage/sqlite_storage.h — the `sqlite` strategy: one SQLite database file per model.
//
// `<data-dir>/<db>/<Model>.db` holds table `documents(id TEXT PRIMARY KEY, data TEXT NOT
// NULL)`, the `_id` and the document as Extended JSON text (core/ejson.h), in WAL mode, plus
// one json_extract expression index per schema index, so any SQLite reader can query a model
// while the daemon runs (docs/STORAGE.md). The on-disk format is described in full at the top
// of sqlite_storage.cc.
//
// Group commit: the first apply() after a commit opens a transaction; each apply() runs in a
// savepoint of it (so a failing call is undone alone); commit() commits. Durability follows
// the `synchronous` option: `normal` survives a killed process, `full` also a power cut.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/engine.h"
#include "storage/group_log.h"
#include "storage/reconcile.h"
#include "storage/storage_strategy.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mg {

struct SqliteOptions {
  bool full_sync = false;  // PRAGMA synchronous=FULL (else NORMAL)
  int busy_timeout_ms = 5000;
};

// The `sqlite` StorageKind: option `synchronous` ("normal" default, or "full"); anything else
// is InvalidOptions. Its engine makes a SqliteStorage over `<dir>/<Model>.db` per model.
StorageKind sqlite_storage_kind();

class SqliteStorage final : public StorageStrategy {
 public:
  // Does not touch the disk: open() does. `path` is the model's database file.
  SqliteStorage(std::string path, SqliteOptions opts);
  // Commits what is still pending (as close()).
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  // StorageStrategy (contracts in storage_strategy.h). Specifics:
  // - open: StorageError naming the file and SQLite's message when it cannot be opened, is not
  //   a memgoose model file, or a row's JSON is bad (named by its id).
  // - apply: DuplicateKey (with keyPattern/keyValue when the index is one set_indexes built)
  //   when a UNIQUE index or the id PRIMARY KEY refuses a change; StorageError with SQLite's
  //   message and the file on I/O errors and SQLITE_FULL. Either way nothing of the call stays
  //   and the earlier calls since the last commit do (if SQLite abandoned the transaction they
  //   are replayed). Only if that replay fails are they lost: then every later apply() fails
  //   with StorageError until commit() reports it (the caller rolls the group back).
  // - commit: COMMIT of the open transaction, with `last_seq` written into it; ROLLBACK when
  //   that fails (e.g. SQLITE_FULL: SQLite writes its pages at COMMIT).
  // - flush: commits, then makes earlier `normal` commits durable (one FULL-synced commit).
  // - reconcile: storage/reconcile.h, intent file `<Model>.db-reconcile`; the transaction
  //   also counts ('reconciles', N) in meta and is committed FULL-synced in either mode. Its
  //   frames go where the failed commit's frames went (those never entered the WAL index), so
  //   recovery stops before what is left of them. apply() and flush() retry a pending one
  //   first; open() completes one recorded before the process ended, before loading.
  Status open(const std::function<Status(std::string_view doc)>& sink) override;
  uint64_t last_seq() const override { return log_.last_seq(); }
  Status apply(std::span<const Change> changes) override;
  Status commit() override;
  Status reconcile(std::span<const Change> changes, uint64_t seq) override;
  Status flush() override;
  void close() override;
  Status destroy() override;
  StorageStats stats() const override;
  // Builds `CREATE [UNIQUE] INDEX "ix_<name>"` per spec and drops other "ix_*" indexes.
  Status set_indexes(const std::vector<IndexSpec>& indexes) override;
  // SQLite's online backup API into dir/<Model>.db (storage_strategy.h).
  Result<bool> backup(const std::string& dir) override;

  // The open connection (null before open() and after close()), for tests and tools on the
  // owning thread only: e.g. `PRAGMA max_page_count` to simulate a full disk.
  sqlite3* connection() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  struct Stmts;
  Status exec(const char* sql);
  // StorageError naming the file, `what`, SQLite's message (`msg` if given) and code.
  Status error(const char* what, int rc, const std::string& msg = {}) const;
  Status prepare_all();
  Status load(const std::function<Status(std::string_view doc)>& sink);
  Status begin_if_needed();
  Status apply_one(const Change& ch);
  int run_logged(const GroupLog::Entry& e, std::string& msg);
  Status duplicate_key(const Change& ch, const std::string& msg) const;
  Status undo(Status why, bool savepoint);
  void rebuild_transaction(const Status& why);
  Status write_last_seq(uint64_t seq);
  // Reconciler::WriteFn: the reconciling transaction (storage/reconcile.h).
  Status write_back(std::span<const Change> changes, uint64_t seq);
  Status existing_indexes(std::map<std::string, std::string>& out);
  Status sync_indexes(const std::vector<IndexSpec>& want);

  std::string path_;
  SqliteOptions opts_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Stmts> st_;
  std::vector<IndexSpec> indexes_;  // as last given to set_indexes (for DuplicateKey details)
  // The open transaction's changes as the text SQLite was given (the _id and the document as
  // Extended JSON), kept to rebuild it if SQLite abandons it (undo()); its buffer is also what
  // apply() binds from. Its seq is the model's last_seq.
  GroupLog log_;
  bool in_txn_ = false;
  bool unsynced_ = false;  // `normal` commits not yet fsynced by flush()
  Reconciler reconciler_;
  uint64_t commits_ = 0;
};

}  // namespace mg
