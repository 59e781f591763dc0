// storage/wiredtiger_storage.h — the `wiredtiger` strategy: one WiredTiger home per model.
//
// `<data-dir>/<db>/<Model>/` is a WiredTiger 3.2.1 home (its own connection) holding table
// `<Model>_docs` (key: the `_id` as wt_key.h encodes it, value: the MessagePack document) and
// `memgoose_meta` (format, last_seq). The on-disk layout, the configuration given to
// wiredtiger_open and what a commit guarantees are described at the top of
// wiredtiger_storage.cc; docs/STORAGE.md has the operator's view (options, `wt` usage).
//
// Group commit: the first apply() after a commit begins a transaction on the model's session;
// every apply() writes through cursors opened once at open(); commit() writes last_seq and
// commits. A commit returns once its log records are written to the OS (journalSync false: a
// killed process loses nothing, a power cut up to ~100 ms, the background log sync interval) or
// fsynced (journalSync true: nothing is lost).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/engine.h"
#include "storage/group_log.h"
#include "storage/reconcile.h"
#include "storage/storage_strategy.h"

struct __wt_connection;
struct __wt_session;
struct __wt_cursor;
struct __wt_item;

namespace mg {

struct WtOptions {
  std::string cache_size = "500M";  // as normalized ("500M", "1G", ...)
  std::string compressor = "snappy";
  bool journal_sync = false;
};

class WtLogSyncer;  // the background log sync of journalSync false (wiredtiger_storage.cc)

// The `wiredtiger` StorageKind: options cacheSize ("500M" default; a number with a unit K, M,
// G or T, from 1M to 10T), compressor (snappy default, zstd, lz4, zlib, none: those in
// wt_compressors()), journalSync (false default). Anything else is InvalidOptions. Its engine
// locks the database directory (dir_lock.h: a second process fails with StorageError naming
// the directory) and makes a WiredTigerStorage over `<dir>/<Model>/` per model.
StorageKind wiredtiger_storage_kind();

// "500M" -> 524288000; InvalidOptions for anything but <digits><K|M|G|T>[B] (any case) within
// WiredTiger's 1 MB .. 10 TB.
Result<uint64_t> parse_wt_cache_size(std::string_view text);

class WiredTigerStorage final : public StorageStrategy {
 public:
  // Does not touch the disk: open() does. `home` is the model's WiredTiger home, `table` the
  // table's name (<Model>_docs). `syncer` (may be null) flushes the log in the background.
  // `path`, when given, is the name WiredTiger and the filesystem calls use for the home (the
  // engine's /proc/self/fd/<dir>/<Model>); `home` is then only the name in messages.
  WiredTigerStorage(std::string home, std::string table, WtOptions opts,
                    std::shared_ptr<WtLogSyncer> syncer = nullptr, std::string path = {});
  // Commits what is pending and closes (as close()).
  ~WiredTigerStorage() override;
  WiredTigerStorage(const WiredTigerStorage&) = delete;
  WiredTigerStorage& operator=(const WiredTigerStorage&) = delete;

  // StorageStrategy (contracts in storage_strategy.h). Specifics:
  // - open: creates the home and the tables when absent, runs WiredTiger's recovery, streams
  //   the documents in key order. StorageError naming the home and WiredTiger's message when
  //   it cannot be opened; "in use by another process" when its WiredTiger.lock is held.
  // - apply: DuplicateKey when an Insert finds its key taken; StorageError with WiredTiger's
  //   message otherwise. Nothing of the failing call stays: the transaction is rolled back and
  //   the calls before it since the last commit are replayed (as SqliteStorage does).
  // - commit: writes last_seq into the transaction and commits it (see the top of the .cc). On
  //   failure the transaction is rolled back (storage_strategy.h). After WT_PANIC (3.2.1
  //   panics when a log write fails, e.g. on a full disk) the next apply() closes and reopens
  //   the connection first (recovery to the last commit); until that works it fails with
  //   StorageError.
  // - apply_and_commit: outside an open transaction, writes the changes straight from the
  //   caller's bytes (no group-log copy: nothing is left to replay) and commits; a refused
  //   change rolls the whole group back (DuplicateKey or StorageError as apply()). Inside one
  //   (earlier apply() calls not committed), apply() then commit().
  // - reconcile: storage/reconcile.h, intent file `<Model>/memgoose.reconcile`. A connection
  //   that panicked is reopened first (its recovery replays the failed commit if it reached
  //   the log); then one transaction writes the changes and last_seq, commits, and
  //   log_flush("sync=on")s whatever journalSync says. apply() and flush() retry a pending one
  //   first; open() completes one recorded before the process ended, after WiredTiger's
  //   recovery and before loading.
  // - flush: commits, then WT_SESSION::log_flush("sync=on").
  // - close: commits, stops the background sync, closes the connection (a final checkpoint).
  Status open(const std::function<Status(std::string_view doc)>& sink) override;
  uint64_t last_seq() const override { return log_.last_seq(); }
  Status apply(std::span<const Change> changes) override;
  Status commit() override;
  Status apply_and_commit(std::span<const Change> changes) override;
  Status reconcile(std::span<const Change> changes, uint64_t seq) override;
  Status flush() override;
  void close() override;
  Status destroy() override;
  StorageStats stats() const override;
  // A backup cursor ("backup:") copying the files it lists into dir/<Model>/.
  Result<bool> backup(const std::string& dir) override;

  const std::string& home() const { return home_; }
  // The open connection (null before open() and after close()), for tests on the owning thread.
  __wt_connection* connection() const { return conn_; }

  // The wiredtiger_open configuration string for `opts` (built once per open, logged in docs).
  static std::string open_config(const WtOptions& opts, uint64_t cache_bytes);

 private:
  struct Events;
  // StorageError "wiredtiger <home>: <what>: <WiredTiger's message> (<strerror>)".
  Status error(const std::string& what, int ret) const;
  Status connect(uint64_t cache_bytes);
  Status start_log_sync();
  Status reopen();
  Status open_tables();
  Status load(const std::function<Status(std::string_view doc)>& sink);
  Status begin_if_needed();
  int put(const Change& ch);
  int apply_logged(size_t from);
  int execute(Change::Op op, __wt_item& key, __wt_item& doc);
  Status ready();
  Status refused(const Change& ch, int ret);
  Status undo(Status why, GroupLog::Mark mark);
  // Reconciler::WriteFn: the reconciling transaction (storage/reconcile.h).
  Status write_back(std::span<const Change> changes, uint64_t seq);
  void close_connection();

  std::string home_, path_, table_uri_;
  WtOptions opts_;
  std::shared_ptr<WtLogSyncer> syncer_;
  std::unique_ptr<Events> events_;
  __wt_connection* conn_ = nullptr;
  __wt_session* session_ = nullptr;
  __wt_cursor* insert_ = nullptr;  // overwrite=false: an existing key is WT_DUPLICATE_KEY
  __wt_cursor* write_ = nullptr;   // overwrite=true: replace (insert or update) and remove
  __wt_cursor* meta_ = nullptr;    // memgoose_meta
  // The open transaction's changes (wt_key.h key, MessagePack document), to replay after an
  // undo; its seq is the model's last_seq.
  GroupLog log_;
  std::string key_;  // apply_and_commit's key of the change being written
  bool in_txn_ = false;
  bool reopen_ = false;  // WiredTiger panicked: apply() reopens the connection first
  Reconciler reconciler_;
  uint64_t commits_ = 0;
};

}  // namespace mg
